package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Parse decodes and validates a config file's contents. file names it in
// problems and anchors relative paths. The error, if any, is [Problems].
func Parse(file string, data []byte) (*Config, error) {
	astFile, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, Problems{yamlProblem(file, err, nil)}
	}
	c := &Config{}
	if err := decode(data, c); err != nil {
		var panicked decoderPanic
		if errors.As(err, &panicked) {
			return nil, Problems{panicProblem(file, astFile, panicked)}
		}
		return nil, Problems{yamlProblem(file, err, astFile)}
	}
	// Set after decoding: an empty document decodes as a zero Config,
	// over whatever was set before.
	c.File = file
	c.positions = func(path string) (int, int) { return position(astFile, path) }
	if ps := c.validate(); len(ps) > 0 {
		ps.Sort()
		return nil, ps
	}
	return c, nil
}

// decode decodes data into c, strictly. A panic in the decoder is the
// file's problem, not the process's end: go-yaml v1.19.2 panics on a tag
// with no value where a list belongs (`headers: !!seq`).
func decode(data []byte, c *Config) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = decoderPanic{v}
		}
	}()
	return yaml.UnmarshalWithOptions(data, c, yaml.DisallowUnknownField())
}

// decoderPanic is a panic of the YAML decoder, as an error.
type decoderPanic struct{ v any }

func (p decoderPanic) Error() string { return fmt.Sprint("the YAML decoder panicked: ", p.v) }

// panicProblem is the problem of a file the decoder panicked on: at its
// first YAML tag, the likely cause (the config needs none), else at the
// top.
func panicProblem(file string, f *ast.File, p decoderPanic) *Problem {
	prob := &Problem{File: file, Line: 1, Col: 1,
		Message: fmt.Sprintf("the YAML decoder cannot read this file (%v): look for a value it cannot read", p.v)}
	var found tagFinder
	for _, doc := range f.Docs {
		if ast.Walk(&found, doc); found.tag != nil {
			tk := found.tag.GetToken()
			prob.Message = fmt.Sprintf("the YAML decoder cannot read the value tagged %s (%v): write the value without the tag", tk.Value, p.v)
			if tk.Position != nil {
				prob.Line, prob.Col = tk.Position.Line, tk.Position.Column
			}
			break
		}
	}
	return prob
}

// tagFinder is an ast.Visitor that finds the first tag.
type tagFinder struct{ tag *ast.TagNode }

func (t *tagFinder) Visit(n ast.Node) ast.Visitor {
	if t.tag != nil {
		return nil
	}
	if tn, ok := n.(*ast.TagNode); ok {
		t.tag = tn
		return nil
	}
	return t
}

// yamlProblem turns a go-yaml error into a Problem with its position. An
// unknown key that is a typo of a key of the config at its place (found
// in f, when not nil) gets "did you mean" the key.
func yamlProblem(file string, err error, f *ast.File) *Problem {
	var yerr yaml.Error
	if !errors.As(err, &yerr) {
		return &Problem{File: file, Message: err.Error()}
	}
	p := &Problem{File: file, Message: yerr.GetMessage()}
	tk := yerr.GetToken()
	if tk != nil && tk.Position != nil {
		p.Line, p.Col = tk.Position.Line, tk.Position.Column
	}
	var unknown *yaml.UnknownFieldError
	if errors.As(err, &unknown) && tk != nil {
		if key := suggestKey(f, tk, tk.Value); key != "" {
			p.Message += fmt.Sprintf(" (did you mean %q?)", key)
		}
	}
	return p
}

// position finds the line and column of the node at a YAML path such as
// $.services.shell.url, falling back to the nearest enclosing node that
// exists.
func position(f *ast.File, path string) (int, int) {
	for path != "" && path != "$" {
		if p, err := yaml.PathString(path); err == nil {
			if node, err := p.FilterFile(f); err == nil && node != nil {
				if tk := node.GetToken(); tk != nil && tk.Position != nil {
					return tk.Position.Line, tk.Position.Column
				}
			}
		}
		path = parent(path)
	}
	return 1, 1
}

func parent(path string) string {
	if strings.HasSuffix(path, "]") {
		return path[:strings.LastIndexByte(path, '[')]
	}
	if i := strings.LastIndexByte(path, '.'); i > 0 {
		return path[:i]
	}
	return ""
}
