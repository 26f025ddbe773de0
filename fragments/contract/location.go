package contract

import (
	"net/url"
	"strings"
)

// ParseLocation judges a redirect target as a browser reads it (the
// WHATWG URL parser), and returns it as the browser would follow it:
// leading and trailing C0 controls and spaces trimmed, tabs and newlines
// removed anywhere, and backslashes read as slashes, as they are in
// http(s) URLs. host is "" for a local path ("/x", never "//x" or "/\x"),
// and the authority of an absolute http(s) URL without user info. ok is
// false for anything else (another scheme, "http:/x" without "//", a
// relative reference), which is never a safe target.
func ParseLocation(loc string) (target, host string, ok bool) {
	loc = strings.TrimFunc(loc, func(c rune) bool { return c <= ' ' })
	loc = strings.Map(func(c rune) rune {
		switch c {
		case '\t', '\n', '\r':
			return -1
		case '\\':
			return '/'
		}
		return c
	}, loc)
	if loc == "" || strings.ContainsFunc(loc, func(c rune) bool { return c < ' ' || c == 0x7f }) {
		return "", "", false
	}
	if strings.HasPrefix(loc, "/") {
		if strings.HasPrefix(loc, "//") {
			return "", "", false
		}
		return loc, "", true
	}
	scheme, rest, ok := strings.Cut(loc, ":")
	if !ok || !strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") || !strings.HasPrefix(rest, "//") {
		return "", "", false
	}
	u, err := url.Parse(loc)
	if err != nil || u.User != nil || u.Host == "" {
		return "", "", false
	}
	return loc, u.Host, true
}

// SafeLocation is the redirect rule: a primary's Location passes when
// [ParseLocation] accepts it and it is a local path or an absolute http(s)
// URL whose authority is the page's own host. It returns the target as the
// browser would follow it.
func SafeLocation(loc, host string) (string, bool) {
	target, h, ok := ParseLocation(loc)
	if !ok || h != "" && !strings.EqualFold(h, host) {
		return "", false
	}
	return target, true
}
