// Package redisurl holds what both the config and the shared tier know of
// a shared tier's redis:// URL, without the Redis client: a config can be
// read, checked and printed without linking it.
package redisurl

import "net/url"

// Redacted returns a Redis URL fit for logs: its password, if any, is
// replaced by xxxxx. A URL that does not parse is replaced whole, since
// its text may hold a password.
func Redacted(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); !ok && u.User.Username() != "" {
			// redis://secret@host names the password in the user part
			// (Redis before ACLs had no user names): redact it too.
			u.User = url.User("xxxxx")
			return u.String()
		}
	}
	return u.Redacted()
}
