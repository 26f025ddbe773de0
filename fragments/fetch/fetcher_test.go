package fetch

import (
	"net/http"
	"reflect"
	"testing"
)

// TestRequestFields reads a request's headers from both of its lists: the
// page's shared fields and the request's own, as a page fills them.
func TestRequestFields(t *testing.T) {
	req := &Request{
		PageFields: []Field{{Name: "Accept", Values: []string{"text/html"}}, {Name: "X-Inlay-Base-URL", Values: []string{"https://shop.example"}}},
		Fields:     []Field{{Name: "X-Inlay-Fragment-Id", Values: []string{"basket"}}},
	}
	tests := []struct {
		name   string
		get    string
		values []string
	}{
		{"a page field", "Accept", []string{"text/html"}},
		{"a page field, another case", "X-Inlay-Base-Url", []string{"https://shop.example"}},
		{"the request's own", "X-Inlay-Fragment-Id", []string{"basket"}},
		{"neither", "Cookie", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := req.Values(tt.get); !reflect.DeepEqual(got, tt.values) {
				t.Errorf("Values(%q) = %q, want %q", tt.get, got, tt.values)
			}
		})
	}
	if got := req.Get("X-Inlay-Fragment-Id"); got != "basket" {
		t.Errorf("Get of the request's own field = %q, want basket", got)
	}
	want := http.Header{"Accept": {"text/html"}, "X-Inlay-Base-URL": {"https://shop.example"}, "X-Inlay-Fragment-Id": {"basket"}}
	if got := req.Header(); !reflect.DeepEqual(got, want) {
		t.Errorf("Header() = %v, want %v", got, want)
	}
	if !req.HasFields() || (&Request{}).HasFields() {
		t.Error("HasFields: want true for a request with fields, false for one without")
	}
}
