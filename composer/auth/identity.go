package auth

import (
	"context"
	"os"

	"github.com/inlayhq/inlay/composer/config"
)

// HeaderIdentity is the request header of an identity assertion.
const HeaderIdentity = "X-Inlay-Identity"

// Identity is the signed-in shopper of one request.
type Identity struct {
	a *Auth
	s *Session
}

// Session returns the shopper's session.
func (id *Identity) Session() *Session { return id.s }

// Header returns the header that tells svc who the shopper is, by its
// identity setting: X-Inlay-Identity (assertion), Authorization
// (access_token), or none ("", "").
func (id *Identity) Header(svc *config.Service) (name, value string) {
	if id == nil {
		return "", ""
	}
	switch svc.Identity {
	case config.IdentityAssertion:
		tok, err := id.a.signer.assertion(id.s, svc.Name, id.a.now())
		if err != nil {
			id.a.log.Warn("identity assertion not signed", "error", err)
			return "", ""
		}
		return HeaderIdentity, tok
	case config.IdentityAccessToken:
		if id.s.AccessToken == "" || !id.s.Expiry.IsZero() && !id.a.now().Before(id.s.Expiry) {
			return "", ""
		}
		return "Authorization", "Bearer " + id.s.AccessToken
	}
	return "", ""
}

type identityKey struct{}

// WithIdentity returns ctx carrying the shopper's identity.
func WithIdentity(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// FromContext returns the identity WithIdentity put in ctx, or nil.
func FromContext(ctx context.Context) *Identity {
	id, _ := ctx.Value(identityKey{}).(*Identity)
	return id
}

var (
	getenv   = os.Getenv
	readFile = os.ReadFile
)
