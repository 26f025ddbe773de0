package composer

import (
	"net/http"
	"strings"

	"github.com/inlayhq/inlay/composer/auth"
	shopperid "github.com/inlayhq/inlay/composer/shopper"
)

// shopperID returns the stable, anonymous id of the shopper r comes from,
// for the services that run a canary, and sets the shopper cookie in h
// when it mints one. A request gets one only while some service has a
// canary: otherwise no cookie is set.
func (s *Server) shopperID(h http.Header, r *http.Request, identity *auth.Identity) string {
	if s.engine == nil || !s.engine.HasCanary() {
		return ""
	}
	sub := ""
	if identity != nil {
		sub = identity.Sub()
	}
	id, set := shopperid.ID(r, sub, s.secureCookies())
	if set != nil {
		h.Add("Set-Cookie", set.String())
	}
	return id
}

// secureCookies reports whether the cookies Inlay sets are Secure and
// carry the __Host- prefix: always, but in dev mode over plain http.
func (s *Server) secureCookies() bool {
	return !s.cfg.Dev || strings.HasPrefix(s.cfg.PublicURL, "https:")
}
