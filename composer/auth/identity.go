package auth

import (
	"context"
	"os"
	"slices"
	"time"

	"github.com/inlayhq/inlay/composer/config"
)

// HeaderIdentity is the request header of an identity assertion.
const HeaderIdentity = "X-Inlay-Identity"

// Identity is a signed-in shopper as the requests to teams see them: the
// session, and the header values its services get. One is made for a
// session and shared by all of its requests until a value must change (a
// new or expiring assertion, an expiring access token, a session touched,
// refreshed or ended), so that resolving a page's shopper and giving its
// boxes their headers allocates nothing. It is never modified once made.
type Identity struct {
	a *Auth
	s *Session

	// from is the session's list of assertions it was made from, and
	// assertions those of them it gives (the same list when none was past
	// reuse).
	from       *[]cachedAssertion
	assertions []cachedAssertion
	// bearer is the Authorization value of identity: access_token, nil
	// when the access token is missing or expired.
	bearer []string
	// until is when the Identity must be looked at again: the first
	// reuse deadline of its assertions, the access token's expiry, and
	// when the session's next touch or refresh is due or its absolute
	// lifetime ends. A request resolved before it may use every value.
	until time.Time
}

// current returns the Identity made before for s while nothing is due:
// its values are current, and no lifetime ends, no touch and no refresh
// is due before its until. Nil means Resolve must look at the session.
func (a *Auth) current(s *Session, now time.Time) *Identity {
	c := s.assertions
	if c == nil {
		return nil
	}
	if id := c.identity.Load(); id != nil && id.s == s && id.from == c.entries.Load() && now.Before(id.until) {
		return id
	}
	return nil
}

// identity returns the Identity of s at now: the one made before while
// it is current, else a new one, kept for the session's next requests.
func (a *Auth) identity(s *Session, now time.Time) *Identity {
	if id := a.current(s, now); id != nil {
		return id
	}
	c := s.assertions
	if c == nil {
		return a.newIdentity(s, nil, now)
	}
	id := a.newIdentity(s, c.entries.Load(), now)
	c.identity.Store(id)
	return id
}

// newIdentity makes the Identity of s at now, from its assertions from.
func (a *Auth) newIdentity(s *Session, from *[]cachedAssertion, now time.Time) *Identity {
	id := &Identity{a: a, s: s, from: from, until: minTime(s.Created.Add(a.maxAge), s.Seen.Add(a.touchEvery))}
	if s.RefreshToken != "" && !s.Expiry.IsZero() {
		id.until = minTime(id.until, s.Expiry.Add(-RefreshMargin))
	}
	if from != nil {
		id.assertions = *from
		for _, e := range *from {
			if !now.Before(e.reuse) {
				id.assertions = slices.DeleteFunc(slices.Clone(*from), func(e cachedAssertion) bool { return !now.Before(e.reuse) })
				break
			}
		}
		for _, e := range id.assertions {
			id.until = minTime(id.until, e.reuse)
		}
	}
	if s.AccessToken != "" && (s.Expiry.IsZero() || now.Before(s.Expiry)) {
		id.bearer = []string{"Bearer " + s.AccessToken}
		if !s.Expiry.IsZero() {
			id.until = minTime(id.until, s.Expiry)
		}
	}
	return id
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
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

// Field is Header with the value as a one-element slice, shared by every
// request that gives it: never modify it.
func (id *Identity) Field(svc *config.Service) (name string, values []string) {
	if id == nil {
		return "", nil
	}
	switch svc.Identity {
	case config.IdentityAssertion:
		for i := range id.assertions {
			if id.assertions[i].service == svc.Name {
				return HeaderIdentity, id.assertions[i].token
			}
		}
		// The first request to svc for a while: sign (or take what a
		// request since has signed), and the session's next Identity has
		// it.
		v, err := id.a.signer.assertionField(id.s, svc.Name, id.a.now())
		if err != nil {
			id.a.log.Warn("identity assertion not signed", "error", err)
			return "", nil
		}
		return HeaderIdentity, v
	case config.IdentityAccessToken:
		if id.bearer == nil {
			return "", nil
		}
		return "Authorization", id.bearer
	}
	return "", nil
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

// Sub returns the signed-in shopper's subject, as the provider names them.
func (id *Identity) Sub() string { return id.s.Sub }
