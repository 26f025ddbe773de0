package composer

import (
	"net/http"
	"net/http/httputil"
	"time"

	"github.com/inlayhq/inlay/composer/auth"
	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/labstack/echo/v4"
)

// setupAuth makes the sign-in of a config with an auth block, unless the
// caller gave one. Without an auth block, nothing: no route, no cookie
// read, no cost.
func (s *Server) setupAuth(cfg *config.Config, opts Options) error {
	if cfg.Auth == nil {
		return nil
	}
	if opts.Auth != nil {
		s.auth = opts.Auth
		s.auth.SetErrorPage(s.renderError)
		return nil
	}
	a, err := auth.New(cfg, auth.Options{Logger: s.logger, ErrorPage: s.renderError})
	if err != nil {
		return err
	}
	s.auth, s.ownAuth = a, true
	return nil
}

// authRoutes serves the reserved sign-in paths.
func (s *Server) authRoutes(e *echo.Echo) {
	if s.auth == nil {
		return
	}
	e.Any(auth.Prefix+"*", echo.WrapHandler(s.auth))
}

// pageIdentity resolves the shopper of a page request that started at
// now. A page that requires sign-in sends an anonymous shopper to the
// login (handled is then true: the answer is written).
func (s *Server) pageIdentity(c echo.Context, p *config.Page, now time.Time) (id *auth.Identity, handled bool) {
	id = s.auth.ResolveAt(c.Request(), now)
	if id == nil && p.RequiresAuth() {
		auth.RequireLogin(c.Response(), c.Request())
		return nil, true
	}
	return id, false
}

// identityField appends the header that tells svc who the shopper is, if
// the service is configured for one and the shopper is signed in.
func identityField(dst []fetch.Field, id *auth.Identity, svc *config.Service) []fetch.Field {
	if id == nil {
		return dst
	}
	if name, values := id.Field(svc); name != "" {
		dst = append(dst, fetch.Field{Name: name, Values: values})
	}
	return dst
}

// isUnsafe reports whether a method may change state (RFC 9110 §9.2.1).
func isUnsafe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// signin checks a gateway request against sign-in: 401 for an anonymous
// shopper on a route that requires sign-in, 403 for an unsafe request
// from another site on a route that forwards cookies or identity (the
// team is never called). It returns the request carrying the shopper's
// identity, and false when it has answered.
func (gw *gateway) signin(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	a := gw.srv.auth
	credentialed := gw.svc.Cookies.Any() || gw.svc.IdentityMode() != config.IdentityNone || gw.svc.Authorization
	if credentialed && isUnsafe(r.Method) && !a.SameOrigin(r) {
		gw.srv.renderError(w, r, http.StatusForbidden)
		return r, false
	}
	identity := gw.svc.IdentityMode() != config.IdentityNone
	if !identity && !gw.route.RequiresAuth() {
		return r, true
	}
	id := a.Resolve(r)
	if id == nil && gw.route.RequiresAuth() {
		w.Header().Set("Cache-Control", "no-store")
		gw.srv.renderError(w, r, http.StatusUnauthorized)
		return r, false
	}
	if id != nil && identity {
		r = r.WithContext(auth.WithIdentity(r.Context(), id))
	}
	return r, true
}

// identify sets the identity header of a gateway request to the team.
func (gw *gateway) identify(pr *httputil.ProxyRequest) {
	pr.Out.Header.Del(auth.HeaderIdentity)
	if id := auth.FromContext(pr.In.Context()); id != nil {
		if name, value := id.Header(gw.svc); name != "" {
			pr.Out.Header.Set(name, value)
		}
	}
}
