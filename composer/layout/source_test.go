package layout

import (
	"net/url"
	"strings"
	"testing"
)

func TestSourceURLEscapesValues(t *testing.T) {
	services := testServices(t)
	cases := []struct {
		src, value, want string
	}{
		{"shell:/p/{v}", "shoe-1", "http://127.0.0.1:9101/p/shoe-1"},
		{"shell:/p/{v}", "../../admin", "http://127.0.0.1:9101/p/..%2F..%2Fadmin"},
		{"shell:/p/{v}", "..", "http://127.0.0.1:9101/p/%2E%2E"},
		{"shell:/p/{v}", ".", "http://127.0.0.1:9101/p/%2E"},
		{"shell:/p/{v}", "a?b=c#d", "http://127.0.0.1:9101/p/a%3Fb=c%23d"},
		{"shell:/p?q={v}&x=1", "a&x=2", "http://127.0.0.1:9101/p?q=a%26x%3D2&x=1"},
		{"shell:/p?q={v}", "@evil.example/", "http://127.0.0.1:9101/p?q=%40evil.example%2F"},
		{"shell:/p?q={v}", "\r\nHost: evil", "http://127.0.0.1:9101/p?q=%0D%0AHost%3A+evil"},
		{"search:/p/{v}", "x y", "http://127.0.0.1:9102/team/p/x%20y"},
		{"shell:/p/{v}", "", "http://127.0.0.1:9101/p/"},
	}
	for _, tc := range cases {
		s, err := parseSource(tc.src, services)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		if got := s.URL(func(string) string { return tc.value }); got != tc.want {
			t.Errorf("%s with %q: got %q, want %q", tc.src, tc.value, got, tc.want)
		}
	}
}

// FuzzSourceURL checks that no value can change the host, add a path
// segment, or add a query parameter.
func FuzzSourceURL(f *testing.F) {
	for _, seed := range []string{"x", "../admin", "..", "@evil.com/", "%0d%0aHost:evil", "a&b=c", "a/b?c#d", "\x00", "é"} {
		f.Add(seed)
	}
	services := testServices(f)
	src, err := parseSource("search:/p/{v}/x?q={v}&k=1", services)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, v string) {
		raw := src.URL(func(string) string { return v })
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("%q gave an unparsable URL %q: %v", v, raw, err)
		}
		if u.Scheme != "http" || u.Host != "127.0.0.1:9102" || u.User != nil || u.Fragment != "" {
			t.Fatalf("%q changed the origin: %q", v, raw)
		}
		segs := strings.Split(u.EscapedPath(), "/")
		if len(segs) != 5 || segs[1] != "team" || segs[2] != "p" || segs[4] != "x" || segs[3] == "." || segs[3] == ".." {
			t.Fatalf("%q changed the path: %q", v, u.EscapedPath())
		}
		q := u.Query()
		if len(q) != 2 || q.Get("q") != v && strings.ToValidUTF8(v, "") == v || q.Get("k") != "1" {
			t.Fatalf("%q changed the query: %q", v, u.RawQuery)
		}
	})
}
