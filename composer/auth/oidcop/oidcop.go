// Package oidcop is a small OpenID provider for the demo and the tests of
// sign-in, built on zitadel's OP library (github.com/zitadel/oidc/v3/pkg/op)
// and its example storage, with a login form of its own: discovery, the authorization
// code flow with PKCE, rotating refresh tokens and end_session, with
// shoppers whose names and passwords are given. It is not for production:
// everything lives in memory and the passwords are plain.
package oidcop

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// Shopper is one account at the provider.
type Shopper struct {
	// ID is the subject (sub) of the shopper's tokens.
	ID string
	// Username and Password sign in on the provider's login form.
	Username, Password string
	// Name is the shopper's display name (the name claim).
	Name string
	// Email is the shopper's address.
	Email string
}

// Config describes the provider.
type Config struct {
	// Issuer is the provider's URL, where its handler is served.
	Issuer string
	// ClientID and ClientSecret are the one client's, with its
	// RedirectURIs.
	ClientID, ClientSecret string
	RedirectURIs           []string
	// PostLogoutRedirectURIs are where end_session may send the shopper
	// back to.
	PostLogoutRedirectURIs []string
	// Shoppers are the accounts.
	Shoppers []Shopper
}

// Provider is a running OpenID provider's handler and its counters.
type Provider struct {
	http.Handler
	cfg     Config
	storage *countingStorage
	key     *ecdsa.PrivateKey
	kid     string
}

// New returns the provider of cfg. Serve it at cfg.Issuer.
func New(cfg Config) (*Provider, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" {
		return nil, errors.New("oidcop: issuer and client id are needed")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	users := userStore{}
	for _, s := range cfg.Shoppers {
		first, last := s.Name, ""
		users[s.ID] = &storage.User{ID: s.ID, Username: s.Username, Password: s.Password, FirstName: first, LastName: last,
			Email: s.Email, EmailVerified: true, PreferredLanguage: language.English}
	}
	client := storage.WebClient(cfg.ClientID, cfg.ClientSecret, cfg.RedirectURIs...)
	st := &countingStorage{Storage: storage.NewStorageWithClients(users, map[string]*storage.Client{cfg.ClientID: client}), postLogout: cfg.PostLogoutRedirectURIs}
	p := &Provider{cfg: cfg, storage: st, key: key, kid: newKID()}
	st.key, st.kid = key, p.kid
	if p.Handler, err = p.handler(st); err != nil {
		return nil, err
	}
	return p, nil
}

func newKID() string {
	var b [9]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// RefreshUses counts the refresh tokens sent to the token endpoint, good
// or not.
func (p *Provider) RefreshUses() int64 { return p.storage.refreshUses.Load() }

// SetAudience makes the ID tokens of the next code exchanges name aud
// instead of the client: a provider gone wrong, for tests. Nil restores.
func (p *Provider) SetAudience(aud []string) {
	p.storage.mu.Lock()
	defer p.storage.mu.Unlock()
	p.storage.audience = aud
}

// LogoutToken signs a back-channel logout token for the client, naming
// sub and sid (either may be empty), as the provider would send it.
func (p *Provider) LogoutToken(sub, sid string) (string, error) {
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: p.key},
		(&jose.SignerOptions{}).WithType("logout+jwt").WithHeader("kid", p.kid))
	if err != nil {
		return "", err
	}
	claims := oidc.NewLogoutTokenClaims(p.cfg.Issuer, sub, oidc.Audience{p.cfg.ClientID}, time.Now().Add(2*time.Minute), newKID(), sid, 0)
	return jwt.Signed(sig).Claims(claims).Serialize()
}

// userStore is the example storage's UserStore over the given shoppers.
type userStore map[string]*storage.User

func (u userStore) GetUserByID(id string) *storage.User { return u[id] }
func (u userStore) GetUserByUsername(name string) *storage.User {
	for _, user := range u {
		if user.Username == name {
			return user
		}
	}
	return nil
}
func (u userStore) ExampleClientID() string { return storage.ServiceUserID }

// countingStorage is the example storage with the provider's own ES256
// key, counted refresh token uses and, for tests, a wrong audience.
type countingStorage struct {
	*storage.Storage
	key         *ecdsa.PrivateKey
	kid         string
	refreshUses atomic.Int64
	mu          sync.Mutex
	audience    []string
	postLogout  []string
}

// GetClientByClientID is the example's client, with its post-logout
// redirect URIs (the example has none).
func (s *countingStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return logoutClient{Client: c, uris: s.postLogout}, nil
}

type logoutClient struct {
	op.Client
	uris []string
}

func (c logoutClient) PostLogoutRedirectURIs() []string { return c.uris }

func (s *countingStorage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	s.refreshUses.Add(1)
	return s.Storage.TokenRequestByRefreshToken(ctx, token)
}

func (s *countingStorage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	req, err := s.Storage.AuthRequestByCode(ctx, code)
	s.mu.Lock()
	aud := s.audience
	s.mu.Unlock()
	if err != nil || aud == nil {
		return req, err
	}
	return audienceRequest{AuthRequest: req, aud: aud}, nil
}

type audienceRequest struct {
	op.AuthRequest
	aud []string
}

func (r audienceRequest) GetAudience() []string { return r.aud }

func (s *countingStorage) SigningKey(context.Context) (op.SigningKey, error) {
	return ecKey{s.key, s.kid}, nil
}

func (s *countingStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.ES256}, nil
}

func (s *countingStorage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{ecPublic{ecKey{s.key, s.kid}}}, nil
}

type ecKey struct {
	key *ecdsa.PrivateKey
	kid string
}

func (k ecKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (k ecKey) Key() any                                    { return k.key }
func (k ecKey) ID() string                                  { return k.kid }

type ecPublic struct{ ecKey }

func (k ecPublic) Algorithm() jose.SignatureAlgorithm { return jose.ES256 }
func (k ecPublic) Use() string                        { return "sig" }
func (k ecPublic) Key() any                           { return &k.key.PublicKey }

// String describes the provider for logs.
func (p *Provider) String() string { return fmt.Sprintf("oidcop at %s", p.cfg.Issuer) }
