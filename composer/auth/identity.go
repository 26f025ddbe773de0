package auth

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
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

	// values holds the header values of the first services asked: an
	// entry is written under mu, then published by n, and never changed,
	// so readers need no lock.
	mu     sync.Mutex
	values [3]serviceValue
	n      atomic.Int32
}

type serviceValue struct {
	svc    *config.Service
	values []string // nil: no header
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
	v, ok := id.lookup(svc, int(id.n.Load()))
	if !ok {
		v = id.publish(svc)
	}
	if v == nil {
		return "", nil
	}
	return name, v
}

// publish makes svc's header value and keeps it for the next requests
// of the page.
func (id *Identity) publish(svc *config.Service) []string {
	id.mu.Lock()
	defer id.mu.Unlock()
	n := int(id.n.Load())
	if v, ok := id.lookup(svc, n); ok {
		return v
	}
	v := id.field(svc)
	if n < len(id.values) {
		id.values[n] = serviceValue{svc, v}
		id.n.Store(int32(n + 1))
	}
	return v
}

// lookup finds svc's header value among the first n published.
func (id *Identity) lookup(svc *config.Service, n int) ([]string, bool) {
	for i := range n {
		if id.values[i].svc == svc {
			return id.values[i].values, true
		}
	}
	return nil, false
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
