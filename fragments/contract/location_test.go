package contract

import "testing"

// TestParseLocation reads redirect targets as a browser does: the host a
// target leads to, or that it is no safe target at all.
func TestParseLocation(t *testing.T) {
	cases := []struct {
		loc    string
		target string
		host   string
		ok     bool
	}{
		{"/basket", "/basket", "", true},
		{" /bas\tket\n", "/basket", "", true},
		{"/a\\b", "/a/b", "", true},
		{"https://shop.example/basket", "https://shop.example/basket", "shop.example", true},
		{"HTTP://Shop.Example:8080/x", "HTTP://Shop.Example:8080/x", "Shop.Example:8080", true},
		{"\\\\evil.example/x", "", "", false},
		{"//evil.example", "", "", false},
		{"http:/evil.example", "", "", false},
		{"http:///x", "", "", false},
		{"https://user@shop.example/", "", "", false},
		{"javascript:alert(1)", "", "", false},
		{"basket", "", "", false},
		{"/x\x00y", "", "", false},
		{"", "", "", false},
	}
	for _, tc := range cases {
		target, host, ok := ParseLocation(tc.loc)
		if target != tc.target || host != tc.host || ok != tc.ok {
			t.Errorf("ParseLocation(%q) = %q, %q, %t; want %q, %q, %t", tc.loc, target, host, ok, tc.target, tc.host, tc.ok)
		}
	}
}

// TestPageStatus: what a primary's status makes of the page.
func TestPageStatus(t *testing.T) {
	for _, tc := range []struct {
		primary, page int
		ok            bool
	}{
		{100, 502, false}, {101, 502, false}, {200, 200, true}, {204, 200, true}, {205, 502, false},
		{302, 302, true}, {404, 404, true}, {410, 410, true},
	} {
		if page, ok := PageStatus(tc.primary); page != tc.page || ok != tc.ok {
			t.Errorf("PageStatus(%d) = %d, %t; want %d, %t", tc.primary, page, ok, tc.page, tc.ok)
		}
	}
}

// TestIsHTML: only text/html, with any parameters, is HTML.
func TestIsHTML(t *testing.T) {
	for ct, want := range map[string]bool{
		"text/html": true, "TEXT/HTML; charset=utf-8": true, "text/html;charset=iso-8859-1": true,
		"": false, "text/plain": false, "application/xhtml+xml": false, "text/html; charset": false, "text/htmlx": false,
		// The forms IsHTML knows without parsing, and their near misses.
		"text/html; charset=utf-8": true, "Text/Html; Charset=UTF-8": true, "text/html ; charset=utf-8": true,
		"text/html; charset=utf-8 x": false, " text/html": true,
	} {
		if got := IsHTML(ct); got != want {
			t.Errorf("IsHTML(%q) = %t, want %t", ct, got, want)
		}
	}
}
