package composer

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"github.com/inlayhq/inlay/composer/config"
)

// Headers Inlay sends to fragment services, besides the shopper's allowlisted ones.
const (
	// HeaderRequestID carries the page request's id to every fragment.
	HeaderRequestID = "X-Request-Id"
	// HeaderFragmentID names the slot the fragment fills.
	HeaderFragmentID = "X-Inlay-Fragment"
)

// forwardedHeaders are the shopper's request headers passed on to every
// fragment service. Everything else is dropped: cookies go only to services
// configured for them, and hop-by-hop, conditional and range headers never.
var forwardedHeaders = []string{"Accept-Language", "User-Agent", "Traceparent", "Tracestate"}

// fragmentHeader builds the request headers for one fragment fetch.
func fragmentHeader(r *http.Request, svc *config.Service, slotID, requestID string) http.Header {
	h := make(http.Header, 8)
	h["Accept"] = acceptHTML
	for _, name := range forwardedHeaders {
		if v := r.Header[name]; len(v) > 0 && v[0] != "" && len(v[0]) <= 1024 {
			h[name] = v[:1:1]
		}
	}
	h[HeaderRequestID] = []string{requestID}
	h[HeaderFragmentID] = []string{slotID}
	if svc.Cookies {
		if v := r.Header["Cookie"]; len(v) > 0 {
			h["Cookie"] = v
		}
	}
	return h
}

var acceptHTML = []string{"text/html"}

// requestID returns the shopper's X-Request-ID when it is a sane token, or
// a new random id.
func requestID(r *http.Request) string {
	if id := r.Header.Get(HeaderRequestID); validRequestID(id) {
		return id
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
