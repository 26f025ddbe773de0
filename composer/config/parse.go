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
	if panicked, err := decode(data, c); panicked != nil {
		return nil, Problems{panicProblem(file, astFile, panicked)}
	} else if err != nil {
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

// decode decodes data into c, strictly. A panic in the decoder comes back
// as panicked, to be the file's problem rather than the process's end:
// go-yaml v1.19.2 panics on a tag with no value where a list belongs
// (`headers: !!seq`).
func decode(data []byte, c *Config) (panicked any, err error) {
	defer func() { panicked = recover() }()
	return nil, yaml.UnmarshalWithOptions(data, c, yaml.DisallowUnknownField())
}

// panicProblem is the problem of a file the decoder panicked on (v): at
// its first YAML tag, the likely cause (the config needs none), else at
// the top.
func panicProblem(file string, f *ast.File, v any) *Problem {
	tags := ast.FilterFile(ast.TagType, f)
	if len(tags) == 0 || tags[0].GetToken() == nil || tags[0].GetToken().Position == nil {
		return &Problem{File: file, Line: 1, Col: 1,
			Message: fmt.Sprintf("the YAML decoder cannot read this file (%v): look for a value it cannot read", v)}
	}
	tk := tags[0].GetToken()
	return &Problem{File: file, Line: tk.Position.Line, Col: tk.Position.Column,
		Message: fmt.Sprintf("the YAML decoder cannot read the value tagged %s (%v): write the value without the tag", tk.Value, v)}
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
		if key := suggestKey(f, tk); key != "" {
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
