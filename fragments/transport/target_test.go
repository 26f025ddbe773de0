package transport

import (
	"testing"
)

var targetSeeds = []string{
	"http://127.0.0.1:8081/fragment?q=shoes",
	"http://search.internal/fragment",
	"http://search.internal",
	"http://search.internal?x=1",
	"http://search.internal/?",
	"http://Search.Internal:80/a/b;c=d/e@f:g/h!$&'()*+,=~",
	"http://h:8080/p?q=a b",
	"http://h:8080/p?q=%zz",
	"http://h:8080/p%20q",
	"http://h:8080/p q",
	"http://h:8080/p#frag",
	"http://h:8080/p\"q",
	"http://h:8080/{p}",
	"http://h:/p",
	"http://:80/p",
	"http://h:x/p",
	"http://u:p@h/p",
	"http://[::1]:8080/p",
	"http://h:1:2/p",
	"http:///p",
	"http://",
	"https://h/p",
	"HTTP://h/p",
	"http://h/p?a=1&b=<2>|{}",
	"http://h/p\x7f",
	"http://h/\u00e9",
}

// quickTarget splits a URL as url.Parse and RequestURI do, or leaves it
// to them.
func TestQuickTarget(t *testing.T) {
	quick := 0
	for _, raw := range targetSeeds {
		got, ok := quickTarget(raw)
		if !ok {
			continue
		}
		quick++
		want, wantOK := urlTarget(raw)
		if !wantOK || got != want {
			t.Errorf("quickTarget(%q): got %+v, want %+v (ok %v)", raw, got, want, wantOK)
		}
	}
	if quick < 6 {
		t.Errorf("quickTarget split %d of the seeds itself, want the plain ones (at least 6)", quick)
	}
	for _, raw := range targetSeeds {
		got, ok := parseTarget(raw)
		want, wantOK := urlTarget(raw)
		if ok != wantOK || got != want {
			t.Errorf("parseTarget(%q): got %+v, %v, want %+v, %v", raw, got, ok, want, wantOK)
		}
	}
}

func FuzzQuickTarget(f *testing.F) {
	for _, s := range targetSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, ok := quickTarget(raw)
		if !ok {
			return
		}
		if want, wantOK := urlTarget(raw); !wantOK || got != want {
			t.Errorf("quickTarget(%q): got %+v, want %+v (ok %v)", raw, got, want, wantOK)
		}
	})
}
