package composer

import (
	"net/http"
	"net/url"
	"strings"
)

// normalizePath resolves a request's escaped path the way the most lenient
// team server would read it, so that a gateway prefix is matched against
// where the request really goes: encoded dots (%2e) and slashes (%2f) are
// decoded, then dot segments are removed (RFC 3986 §5.2.4). Other escapes
// are kept as they are. It reports false for a path no team should get: a
// backslash, raw or encoded, which some servers take for a slash; a
// double-encoded dot, slash or backslash (%252e); or a path that climbs
// above the root.
func normalizePath(escaped string) (string, bool) {
	if !strings.HasPrefix(escaped, "/") || strings.ContainsRune(escaped, '\\') {
		return "", false
	}
	if strings.IndexByte(escaped, '%') >= 0 {
		var b strings.Builder
		b.Grow(len(escaped))
		for i := 0; i < len(escaped); i++ {
			if escaped[i] == '%' && i+2 < len(escaped) {
				switch strings.ToLower(escaped[i+1 : i+3]) {
				case "2e":
					b.WriteByte('.')
					i += 2
					continue
				case "2f":
					b.WriteByte('/')
					i += 2
					continue
				case "5c":
					return "", false
				case "25":
					// A double-encoded dot, slash or backslash is for a
					// team that decodes twice: no request needs one.
					if i+4 < len(escaped) {
						switch strings.ToLower(escaped[i+3 : i+5]) {
						case "2e", "2f", "5c":
							return "", false
						}
					}
				}
			}
			b.WriteByte(escaped[i])
		}
		escaped = b.String()
	}
	return removeDotSegments(escaped)
}

// removeDotSegments resolves "." and ".." segments of an absolute path,
// keeping a trailing slash. It reports false when ".." climbs above the
// root, which RFC 3986 would silently clamp.
func removeDotSegments(p string) (string, bool) {
	if !strings.Contains(p, "/.") {
		return p, true
	}
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	for i, seg := range segs {
		last := i == len(segs)-1
		switch seg {
		case ".":
			if last {
				out = append(out, "") // "/a/." is "/a/"
			}
		case "..":
			if len(out) == 0 {
				return "", false
			}
			out = out[:len(out)-1]
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, seg)
		}
	}
	return "/" + strings.Join(out, "/"), true
}

// setPath makes the normalised escaped path the request's path: it is what
// the team gets.
func setPath(r *http.Request, escaped string) error {
	path, err := url.PathUnescape(escaped)
	if err != nil {
		return err
	}
	r.URL.Path, r.URL.RawPath = path, ""
	if r.URL.EscapedPath() != escaped {
		r.URL.RawPath = escaped
	}
	return nil
}
