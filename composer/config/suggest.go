package config

import (
	"reflect"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// suggestKey returns the key of the config, at the place of the unknown
// key tk in f, that name is most likely a typo of: "" when none is close.
// It finds the key's path in f, follows it through Config's types by
// their yaml tags, and compares name with the keys of the struct there.
func suggestKey(f *ast.File, tk *token.Token, name string) string {
	if f == nil || tk == nil || tk.Position == nil {
		return ""
	}
	var path []string
	for _, doc := range f.Docs {
		if p, ok := keyPath(doc.Body, tk.Position, nil); ok {
			path = p
			break
		}
	}
	if path == nil {
		return ""
	}
	t := typeAt(reflect.TypeFor[Config](), path[:len(path)-1])
	if t == nil {
		return ""
	}
	return closest(name, yamlKeys(t, nil))
}

// keyPath returns the keys from node down to the mapping key at pos, a
// sequence's entry standing as "[]", and whether it is under node.
func keyPath(node ast.Node, pos *token.Position, path []string) ([]string, bool) {
	switch n := node.(type) {
	case *ast.MappingNode:
		for _, v := range n.Values {
			if p, ok := keyPath(v, pos, path); ok {
				return p, true
			}
		}
	case *ast.MappingValueNode:
		key := n.Key.GetToken()
		if key == nil {
			return nil, false
		}
		path = append(path, n.Key.String())
		if key.Position != nil && key.Position.Line == pos.Line && key.Position.Column == pos.Column {
			return path, true
		}
		return keyPath(n.Value, pos, path)
	case *ast.SequenceNode:
		for _, v := range n.Values {
			if p, ok := keyPath(v, pos, append(path, "[]")); ok {
				return p, true
			}
		}
	case *ast.AnchorNode:
		return keyPath(n.Value, pos, path)
	case *ast.TagNode:
		return keyPath(n.Value, pos, path)
	}
	return nil, false
}

// typeAt follows path from t: a struct's field by its yaml key, a map's
// or a sequence's element. It returns the struct at its end, or nil.
func typeAt(t reflect.Type, path []string) reflect.Type {
	for _, key := range path {
		t = indirect(t)
		switch {
		case t.Kind() == reflect.Map, key == "[]" && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
			t = t.Elem()
		case t.Kind() == reflect.Struct:
			f, ok := fieldByKey(t, key)
			if !ok {
				return nil
			}
			t = f.Type
		default:
			return nil
		}
	}
	if t = indirect(t); t.Kind() != reflect.Struct {
		return nil
	}
	return t
}

func indirect(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// yamlKey returns a field's yaml key and whether its fields are inlined
// into its parent's; "" for a field the decoder skips.
func yamlKey(f reflect.StructField) (key string, inline bool) {
	name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" || !f.IsExported() {
		return "", false
	}
	return name, strings.Contains(opts, "inline")
}

// fieldByKey finds the field of struct t, inlined ones included, whose
// yaml key is key.
func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for f := range t.Fields() {
		name, inline := yamlKey(f)
		if inline {
			if g, ok := fieldByKey(indirect(f.Type), key); ok {
				return g, true
			}
		} else if name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// yamlKeys appends the yaml keys of struct t, inlined ones included.
func yamlKeys(t reflect.Type, keys []string) []string {
	for f := range t.Fields() {
		name, inline := yamlKey(f)
		switch {
		case inline:
			keys = yamlKeys(indirect(f.Type), keys)
		case name != "":
			keys = append(keys, name)
		}
	}
	return keys
}

// closest returns the candidate nearest to name by edit distance (a
// swap of two neighbours counts as one edit), if it is near enough to be
// a typo: a third of name's letters or fewer, at least one.
func closest(name string, candidates []string) string {
	best, bestD := "", max(1, len(name)/3)+1
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(name), c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b,
// byte-wise: insertions, deletions, substitutions and swaps of two
// neighbours.
func editDistance(a, b string) int {
	// Three rows of the table: two back, one back, and this one.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
