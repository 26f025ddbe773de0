package auth

import (
	"net/url"
	"strings"
)

// SafeNext returns next when it is a path on this origin, and "/"
// otherwise: never another host (//evil, /\evil, https://evil), never a
// control character (tabs and newlines that browsers drop), never a
// scheme.
func SafeNext(next string) string {
	if next == "" || len(next) > 2048 || next[0] != '/' {
		return "/"
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return "/"
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	// A path whose decoded form starts a new authority is refused too:
	// /%2F%2Fevil is //evil to some routers.
	if p := u.Path; strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return "/"
	}
	return next
}
