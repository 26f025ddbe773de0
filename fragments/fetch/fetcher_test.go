package fetch

import (
	"errors"
	"net/http"
	"reflect"
	"testing"
	"testing/synctest"
	"time"
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

// TestRequestRemaining cuts a second try's timeout to what is left of the
// first's, and fails it as a timeout when nothing is.
func TestRequestRemaining(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		asked := time.Now()
		req := &Request{ID: "basket", Service: "checkout", Timeout: 100 * time.Millisecond}
		time.Sleep(40 * time.Millisecond)
		left, err := req.Remaining(asked)
		if err != nil || left.Timeout != 60*time.Millisecond {
			t.Fatalf("Remaining after 40ms = %v, %v; want a timeout of 60ms", left, err)
		}
		if req.Timeout != 100*time.Millisecond {
			t.Errorf("Remaining changed the request's own timeout to %v", req.Timeout)
		}
		time.Sleep(60 * time.Millisecond)
		var fe *Error
		if _, err := req.Remaining(asked); !errors.As(err, &fe) || fe.Kind != KindTimeout || fe.ID != "basket" || fe.Service != "checkout" {
			t.Errorf("Remaining once the timeout passed: err = %v, want a timeout *Error for basket of checkout", err)
		}
		unbounded := &Request{ID: "basket"}
		if got, err := unbounded.Remaining(asked); got != unbounded || err != nil {
			t.Errorf("Remaining of a request without a timeout = %v, %v; want the request itself", got, err)
		}
	})
}
