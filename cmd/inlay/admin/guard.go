package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// Guard returns h behind the admin listener's checks, made in this order
// before h runs:
//
//   - A request a browser sent is refused with 403: one that carries an
//     Origin header, or Sec-Fetch-Site cross-site or same-site. Browsers are
//     never admin clients, and without this check any web page an operator
//     visits could POST /-/purge to an admin port the operator's machine
//     reaches.
//   - When token returns a token, a request for any path but those in
//     open must carry Authorization: Bearer TOKEN, or it gets 401 with
//     WWW-Authenticate: Bearer. The token is compared in constant time.
//     token is asked on every request, so a config reload changes it.
//
// Refusals answer {"error": "..."}, as purge answers its own errors.
func Guard(h http.Handler, token func() string, open ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if why := fromBrowser(r); why != "" {
			refuse(w, http.StatusForbidden, why+": the admin listener answers no browser")
			return
		}
		want := token()
		if want != "" && !slices.Contains(open, r.URL.Path) && !bearerIs(r.Header.Get("Authorization"), want) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="inlay-admin"`)
			refuse(w, http.StatusUnauthorized, "send the admin token: Authorization: Bearer TOKEN")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// fromBrowser says why r comes from a browser, or returns "". Browsers
// send Origin on every cross-origin request and on every POST, and
// Sec-Fetch-Site on every request; same-origin and none (a typed URL)
// are what an operator's own visit to the admin port sends.
func fromBrowser(r *http.Request) string {
	if _, ok := r.Header["Origin"]; ok {
		return "a request with an Origin header"
	}
	switch site := strings.ToLower(strings.TrimSpace(r.Header.Get("Sec-Fetch-Site"))); site {
	case "cross-site", "same-site":
		return "a " + site + " request"
	}
	return ""
}

// bearerIs reports whether an Authorization header value carries token
// with the Bearer scheme (whose name is case-insensitive, RFC 9110
// §11.1). Both sides are hashed first, so that the comparison takes the
// same time whatever their lengths.
func bearerIs(header, token string) bool {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got, want := sha256.Sum256([]byte(strings.TrimSpace(cred))), sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// refuse answers status with a JSON error.
func refuse(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Error string `json:"error"`
	}{msg})
}
