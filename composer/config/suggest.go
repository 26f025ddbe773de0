package config

import (
	"reflect"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// suggestKey returns the key of the config, at the place of the unknown
// key tk in f, that the unknown key is most likely a typo of: "" when
// none is close. It finds the key's node in f, follows the node's path
// through Config's types by their yaml tags, and compares the key with
// the keys of the struct there.
func suggestKey(f *ast.File, tk *token.Token) string {
	if f == nil || tk == nil || tk.Position == nil {
		return ""
	}
	for _, n := range ast.FilterFile(ast.MappingValueType, f) {
		key := n.(*ast.MappingValueNode).Key.GetToken()
		if key == nil || key.Position == nil || key.Position.Line != tk.Position.Line || key.Position.Column != tk.Position.Column {
			continue
		}
		keys := pathKeys(n.GetPath())
		if t := typeAt(reflect.TypeFor[Config](), keys[:len(keys)-1]); t != nil {
			return closest(tk.Value, yamlKeys(t))
		}
		return ""
	}
	return ""
}

// pathKeys splits a node's path, such as $.pages[0].layout, into its keys,
// each index of a sequence standing as "[]": pages, [], layout.
func pathKeys(path string) []string {
	var keys []string
	for _, seg := range strings.Split(strings.TrimPrefix(path, "$."), ".") {
		key, _, _ := strings.Cut(seg, "[")
		keys = append(keys, key)
		for range strings.Count(seg, "[") {
			keys = append(keys, "[]")
		}
	}
	return keys
}

// typeAt follows keys from t: a struct's field by its yaml key, a map's
// or a sequence's element. It returns the struct at their end, or nil.
func typeAt(t reflect.Type, keys []string) reflect.Type {
	for _, key := range keys {
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

// yamlKey returns a field's yaml key, "" for a field the decoder skips.
// The config inlines no struct.
func yamlKey(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	return name
}

// fieldByKey finds the field of struct t whose yaml key is key.
func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for f := range t.Fields() {
		if yamlKey(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// yamlKeys returns the yaml keys of struct t.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		if name := yamlKey(f); name != "" {
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
