package basket

import "net/url"

// maxReturnLen bounds the return path of the POST endpoints.
const maxReturnLen = 2048

// safeReturn returns target if it is a local path of this site, else
// "/basket", so that the POST endpoints never redirect off-site.
func safeReturn(target string) string {
	if isLocalPath(target) {
		return target
	}
	return "/basket"
}

// isLocalPath reports whether s is a path on this site: it starts with a
// single "/", has no scheme or host, and has no backslash or control
// character, which browsers may turn into "//" or drop (so "/\evil" and
// "/\t/evil" are both refused).
func isLocalPath(s string) bool {
	if s == "" || len(s) > maxReturnLen || s[0] != '/' {
		return false
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return false
		}
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil
}
