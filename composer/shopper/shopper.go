package shopper

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

// Cookie is the name of the anonymous shopper's cookie over https. Over
// plain http, in dev mode, the __Host- prefix is dropped (browsers refuse
// it without Secure), as the session cookie's is.
const Cookie = "__Host-inlay_shopper"

// MaxAge is the cookie's lifetime in seconds: a year, so that a shopper
// keeps one version of a canaried team across visits.
const MaxAge = 365 * 24 * 60 * 60

const (
	hostPrefix = "__Host-"
	// idBytes is the size of an id: 128 bits.
	idBytes = 16
	// subDomain keeps the hash of a sub apart from any other hash of it.
	subDomain = "inlay shopper id\x00"
)

// enc spells an id: base64url without padding, one spelling per id (the
// strict decoder refuses stray bits in the last character).
var enc = base64.RawURLEncoding.Strict()

// CookieName is the name of the shopper's cookie: Cookie when secure (the
// shop is served over https), without its __Host- prefix otherwise.
func CookieName(secure bool) string {
	if secure {
		return Cookie
	}
	return Cookie[len(hostPrefix):]
}

// ID is the id of the shopper r comes from, and the cookie to set on the
// response, nil when there is none to set. sub is the signed-in shopper's
// subject ("" when nobody is signed in): the id is then a hash of it.
// Otherwise it is the shopper's cookie, or a new random id with the cookie
// that keeps it when the request has none, or only malformed ones.
// secure says the shop is served over https: false only over plain http
// in dev mode, where the cookie loses its __Host- prefix and Secure.
//
// Call it once per request: each call without a valid cookie mints
// another id.
func ID(r *http.Request, sub string, secure bool) (id string, set *http.Cookie) {
	if sub != "" {
		sum := sha256.Sum256([]byte(subDomain + sub))
		return enc.EncodeToString(sum[:idBytes]), nil
	}
	name := CookieName(secure)
	for _, c := range r.CookiesNamed(name) {
		if Valid(c.Value) {
			return c.Value, nil
		}
	}
	var b [idBytes]byte
	_, _ = rand.Read(b[:]) // never fails: crypto/rand crashes the program rather than return an error
	id = enc.EncodeToString(b[:])
	return id, &http.Cookie{
		Name:     name,
		Value:    id,
		Path:     "/",
		MaxAge:   MaxAge,
		Secure:   secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
}

// Valid tells whether s is a shopper id as ID spells it: 128 bits in
// base64url without padding.
func Valid(s string) bool {
	if len(s) != enc.EncodedLen(idBytes) {
		return false
	}
	var b [idBytes + 2]byte
	n, err := enc.Decode(b[:], []byte(s))
	return err == nil && n == idBytes
}
