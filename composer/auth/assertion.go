package auth

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Assertion lifetimes.
const (
	// AssertionLifetime is how long an X-Inlay-Identity JWT is valid.
	AssertionLifetime = 60 * time.Second
	// KeyPeriod is how long one signing key signs. The JWKS lists the
	// keys of the previous, current and next periods, so a team's cached
	// key set already holds the next key when it starts signing.
	KeyPeriod = 24 * time.Hour
)

// signingKey is one Ed25519 key of the identity assertions.
type signingKey struct {
	kid  string
	priv ed25519.PrivateKey
}

// signer signs identity assertions. Its keys are derived from the session
// keys and the period, so every replica with the same session keys signs
// with the same key and publishes the same key set, with no coordination.
type signer struct {
	keys   *Keyring
	issuer string

	mu     sync.Mutex
	byKey  map[string]*signingKey // kid cache: "index/period"
	jwks   []byte
	jwksAt int64 // period the jwks was made for
}

// assertionCache holds one session's assertions in this process, one per
// service: readers take the published list without a lock; a new
// assertion publishes a new list. It also keeps the last Identity made
// from them, which the session's requests share.
type assertionCache struct {
	mu       sync.Mutex
	entries  atomic.Pointer[[]cachedAssertion]
	identity atomic.Pointer[Identity]
}

type cachedAssertion struct {
	service string
	token   []string  // the header value, shared by every request: never modified
	reuse   time.Time // reused until then: half its lifetime
}

func newSigner(keys *Keyring, issuer string) *signer {
	return &signer{keys: keys, issuer: issuer, byKey: map[string]*signingKey{}}
}

// key derives the signing key of session key i for a period. Called with
// mu held.
func (s *signer) key(i int, period int64) *signingKey {
	name := strconv.Itoa(i) + "/" + strconv.FormatInt(period, 10)
	if k, ok := s.byKey[name]; ok {
		return k
	}
	seed, err := hkdf.Key(sha256.New, s.keys.raw[i], nil, "inlay identity assertion key "+strconv.FormatInt(period, 10), ed25519.SeedSize)
	if err != nil {
		panic(fmt.Sprintf("hkdf: %v", err)) // only for impossible lengths
	}
	priv := ed25519.NewKeyFromSeed(seed)
	sum := sha256.Sum256(priv.Public().(ed25519.PublicKey))
	k := &signingKey{kid: base64.RawURLEncoding.EncodeToString(sum[:12]), priv: priv}
	if len(s.byKey) > 64 {
		clear(s.byKey)
	}
	s.byKey[name] = k
	return k
}

func periodOf(t time.Time) int64 { return t.Unix() / int64(KeyPeriod/time.Second) }

// JWKS returns the public keys that verify assertions, as a JSON Web Key
// Set: for every session key, the previous, current and next periods.
func (s *signer) JWKS(now time.Time) []byte {
	p := periodOf(now)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.jwks != nil && s.jwksAt == p {
		return s.jwks
	}
	var set jose.JSONWebKeySet
	for i := range s.keys.raw {
		for _, q := range []int64{p, p + 1, p - 1} {
			k := s.key(i, q)
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(jose.EdDSA), Use: "sig"})
		}
	}
	b, _ := json.Marshal(set)
	s.jwks, s.jwksAt = b, p
	return b
}

// assertion returns the X-Inlay-Identity JWT of a session for a service:
// a cached one while more than half its lifetime is left, else a new one.
func (s *signer) assertion(sess *Session, service string, now time.Time) (string, error) {
	v, err := s.assertionField(sess, service, now)
	if err != nil {
		return "", err
	}
	return v[0], nil
}

// assertionField is assertion as a one-element header value, shared by
// every request that reuses it.
func (s *signer) assertionField(sess *Session, service string, now time.Time) ([]string, error) {
	c := sess.assertions
	if c != nil {
		if p := c.entries.Load(); p != nil {
			for _, e := range *p {
				if e.service == service && now.Before(e.reuse) {
					return e.token, nil
				}
			}
		}
	}
	s.mu.Lock()
	k := s.key(0, periodOf(now))
	s.mu.Unlock()

	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: k.priv},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.kid))
	if err != nil {
		return nil, fmt.Errorf("identity assertion signer: %w", err)
	}
	exp := now.Add(AssertionLifetime)
	std := jwt.Claims{
		Issuer:   s.issuer,
		Subject:  sess.Sub,
		Audience: jwt.Audience{service},
		IssuedAt: jwt.NewNumericDate(now),
		Expiry:   jwt.NewNumericDate(exp),
	}
	tok, err := jwt.Signed(sig).Claims(sess.Claims).Claims(std).Serialize()
	if err != nil {
		return nil, fmt.Errorf("identity assertion: %w", err)
	}
	field := []string{tok}
	if c != nil {
		c.mu.Lock()
		var next []cachedAssertion
		if p := c.entries.Load(); p != nil {
			for _, e := range *p {
				if e.service != service && now.Before(e.reuse) {
					next = append(next, e)
				}
			}
		}
		next = append(next, cachedAssertion{service: service, token: field, reuse: now.Add(AssertionLifetime / 2)})
		c.entries.Store(&next)
		c.mu.Unlock()
	}
	return field, nil
}
