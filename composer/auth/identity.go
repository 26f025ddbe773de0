package auth

import (
	"context"
	"os"
	"sync"
	"time"

	"github.com/inlayhq/inlay/composer/config"
)

// HeaderIdentity is the request header of an identity assertion.
const HeaderIdentity = "X-Inlay-Identity"

// Identity is the signed-in shopper of one request.
type Identity struct {
	a   *Auth
	s   *Session
	now time.Time // when the request was resolved: one clock read per request

	mu     sync.Mutex
	values [4]serviceValue // the header values of the first services asked
	n      int
}

type serviceValue struct {
	service string
	values  []string // nil: no header
}

// Session returns the shopper's session.
func (id *Identity) Session() *Session { return id.s }

// Header returns the header that tells svc who the shopper is, by its
// identity setting: X-Inlay-Identity (assertion), Authorization
// (access_token), or none ("", "").
func (id *Identity) Header(svc *config.Service) (name, value string) {
	name, values := id.Field(svc)
	if name == "" {
		return "", ""
	}
	return name, values[0]
}

// Field is Header with the value as a one-element slice, the same for
// every request of this page to svc: never modify it.
func (id *Identity) Field(svc *config.Service) (name string, values []string) {
	if id == nil {
		return "", nil
	}
	switch svc.Identity {
	case config.IdentityAssertion:
		name = HeaderIdentity
	case config.IdentityAccessToken:
		name = "Authorization"
	default:
		return "", nil
	}
	id.mu.Lock()
	defer id.mu.Unlock()
	for _, sv := range id.values[:id.n] {
		if sv.service == svc.Name {
			if sv.values == nil {
				return "", nil
			}
			return name, sv.values
		}
	}
	v := id.field(svc)
	if id.n < len(id.values) {
		id.values[id.n] = serviceValue{svc.Name, v}
		id.n++
	}
	if v == nil {
		return "", nil
	}
	return name, v
}

// field makes the header value for svc, or nil for none.
func (id *Identity) field(svc *config.Service) []string {
	if svc.Identity == config.IdentityAssertion {
		v, err := id.a.signer.assertionField(id.s, svc.Name, id.now)
		if err != nil {
			id.a.log.Warn("identity assertion not signed", "error", err)
			return nil
		}
		return v
	}
	if _, value := id.header(svc); value != "" {
		return []string{value}
	}
	return nil
}

func (id *Identity) header(svc *config.Service) (name, value string) {
	switch svc.Identity {
	case config.IdentityAssertion:
		tok, err := id.a.signer.assertion(id.s, svc.Name, id.now)
		if err != nil {
			id.a.log.Warn("identity assertion not signed", "error", err)
			return "", ""
		}
		return HeaderIdentity, tok
	case config.IdentityAccessToken:
		if id.s.AccessToken == "" || !id.s.Expiry.IsZero() && !id.now.Before(id.s.Expiry) {
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
