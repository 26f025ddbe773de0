package composer

import (
	"net/url"
	"strings"
	"testing"
)

func TestNormalizePath(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"/gw/x", "/gw/x", true},
		{"/gw/./x", "/gw/x", true},
		{"/gw/a/../x", "/gw/x", true},
		{"/gw/a/..", "/gw/", true},
		{"/gw/.", "/gw/", true},
		{"/gw/%2e%2E/x", "/x", true},
		{"/gw/a%2Fb", "/gw/a/b", true},
		{"/gw/..%2f..%2fx", "", false},
		{"/..", "", false},
		{"/gw/a%5cb", "", false},
		{"/gw/a\\b", "", false},
		{"/gw/%41%2", "/gw/%41%2", true},
		{"/gw//x", "/gw//x", true},
		{"gw/x", "", false},
		{"/gw/%252e%252e/x", "", false},
		{"/gw/%252F", "", false},
		{"/gw/100%25", "/gw/100%25", true},
	}
	for _, tc := range cases {
		got, ok := normalizePath(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("normalizePath(%q) = %q, %t; want %q, %t", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzNormalizePath: a normalised path has no dot segment and no encoded
// dot or slash left, normalising it again changes nothing, and a path
// under the prefix stays under it for a team that decodes it once more.
func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{"/gw/x", "/gw/../x", "/gw/%2e%2e/x", "/gw/..%2fx", "/gw/a/./b/", "/gw/%252e%252e/x", "/gw/.%2e/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, ok := normalizePath(in)
		if !ok {
			return
		}
		if !strings.HasPrefix(out, "/") {
			t.Fatalf("normalizePath(%q) = %q: not absolute", in, out)
		}
		lower := strings.ToLower(out)
		if strings.Contains(lower, "%2e") || strings.Contains(lower, "%2f") {
			t.Fatalf("normalizePath(%q) = %q: an encoded dot or slash is left", in, out)
		}
		for seg := range strings.SplitSeq(out, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("normalizePath(%q) = %q: a dot segment is left", in, out)
			}
		}
		if again, ok := normalizePath(out); !ok || again != out {
			t.Fatalf("normalizePath(%q) = %q, but again %q, %t", in, out, again, ok)
		}
		// A team that decodes the path once more and resolves its dot
		// segments stays under the prefix all the same.
		if decoded, err := url.PathUnescape(out); err == nil && strings.HasPrefix(out, "/gw/") {
			if res, ok := removeDotSegments(strings.ReplaceAll(decoded, "\\", "/")); !ok || !strings.HasPrefix(res, "/gw/") {
				t.Fatalf("normalizePath(%q) = %q, which a team decoding it again reads as %q", in, out, res)
			}
		}
	})
}
