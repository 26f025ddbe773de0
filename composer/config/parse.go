package config

import (
	"errors"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Parse decodes and validates a config file's contents. file names it in
// problems and anchors relative paths. The error, if any, is [Problems].
func Parse(file string, data []byte) (*Config, error) {
	c := &Config{File: file}
	astFile, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, Problems{yamlProblem(file, err)}
	}
	c.positions = func(path string) (int, int) { return position(astFile, path) }
	if err := yaml.UnmarshalWithOptions(data, c, yaml.DisallowUnknownField()); err != nil {
		return nil, Problems{yamlProblem(file, err)}
	}
	if ps := c.validate(); len(ps) > 0 {
		ps.Sort()
		return nil, ps
	}
	return c, nil
}

// yamlProblem turns a go-yaml error into a Problem with its position.
func yamlProblem(file string, err error) *Problem {
	var yerr yaml.Error
	if errors.As(err, &yerr) {
		p := &Problem{File: file, Message: yerr.GetMessage()}
		if tk := yerr.GetToken(); tk != nil && tk.Position != nil {
			p.Line, p.Col = tk.Position.Line, tk.Position.Column
		}
		return p
	}
	return &Problem{File: file, Message: err.Error()}
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
