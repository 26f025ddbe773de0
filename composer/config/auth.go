package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Auth configures sign-in with an OpenID Connect provider (package
// composer/auth). Nil, when the config has no auth block, means no
// sign-in at all: Inlay behaves and costs exactly as without it.
type Auth struct {
	// Issuer is the provider's issuer URL; discovery comes from it.
	Issuer string `yaml:"issuer"`
	// ClientID is Inlay's client id at the provider.
	ClientID string `yaml:"client_id"`
	// ClientSecretFile holds the client secret. Empty means the
	// environment variable INLAY_AUTH_CLIENT_SECRET, and without it a
	// public client (PKCE alone). The secret is never in the YAML.
	ClientSecretFile string `yaml:"client_secret_file"`
	// Scopes are asked of the provider. Nil means openid, profile, email.
	Scopes []string `yaml:"scopes"`
	// Claims are the ID token claims that teams receive in
	// X-Inlay-Identity, besides sub. Nil means none but sub.
	Claims []string `yaml:"claims"`
	// Session configures the server-side sessions.
	Session AuthSession `yaml:"session"`
}

// AuthSession configures sessions.
type AuthSession struct {
	// Idle ends a session not used for that long. Zero means 30m.
	Idle Duration `yaml:"idle"`
	// Max ends a session that old, used or not. Zero means 12h.
	Max Duration `yaml:"max"`
	// KeysFile holds the session keys: base64 32-byte keys separated by
	// commas; the first seals, all open. Empty means the environment
	// variable INLAY_AUTH_SESSION_KEYS, and without it a random key made
	// at start (in process only: the shared tier needs keys).
	KeysFile string `yaml:"keys_file"`
}

// Values of pages[].auth and gateway[].auth.
const (
	AuthOptional = "optional"
	AuthRequired = "required"
)

// Values of services.X.identity.
const (
	IdentityNone        = "none"
	IdentityAssertion   = "assertion"
	IdentityAccessToken = "access_token"
)

// Environment variables read for the auth secrets.
const (
	EnvClientSecret = "INLAY_AUTH_CLIENT_SECRET"
	EnvSessionKeys  = "INLAY_AUTH_SESSION_KEYS"
)

// Defaults of the auth block.
const (
	DefaultSessionIdle = 30 * time.Minute
	DefaultSessionMax  = 12 * time.Hour
)

// DefaultScopes are asked of the provider when scopes is left out.
var DefaultScopes = []string{"openid", "profile", "email"}

// IdleTimeout returns Idle or its default.
func (s AuthSession) IdleTimeout() time.Duration { return orDefault(s.Idle, DefaultSessionIdle) }

// MaxAge returns Max or its default.
func (s AuthSession) MaxAge() time.Duration { return orDefault(s.Max, DefaultSessionMax) }

// ScopeList returns Scopes or the default, always with openid.
func (a *Auth) ScopeList() []string {
	if a.Scopes == nil {
		return DefaultScopes
	}
	if !slices.Contains(a.Scopes, "openid") {
		return append([]string{"openid"}, a.Scopes...)
	}
	return a.Scopes
}

// String leaves the secrets' places out of printed configs: they name
// files only, but a debug view needs no more than the issuer.
func (a *Auth) String() string {
	return fmt.Sprintf("{issuer: %s, client_id: %s}", a.Issuer, a.ClientID)
}

// Path resolves a file named in the config against the config file's
// folder.
func (c *Config) Path(name string) string {
	if name == "" || filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(filepath.Dir(c.File), name)
}

// RequiresAuth reports whether the page asks for a signed-in shopper.
func (p *Page) RequiresAuth() bool { return p.Auth == AuthRequired }

// RequiresAuth reports whether the gateway route asks for a signed-in
// shopper.
func (g *Gateway) RequiresAuth() bool { return g.Auth == AuthRequired }

// IdentityMode returns the service's identity setting, none by default.
func (s *Service) IdentityMode() string {
	if s.Identity == "" {
		return IdentityNone
	}
	return s.Identity
}

// validateAuth checks the auth block and the auth keys of services, pages
// and gateway routes.
func (c *Config) validateAuth(add func(path, format string, args ...any)) {
	for name, s := range c.Services {
		if s == nil {
			continue
		}
		at := "$.services." + name + ".identity"
		switch s.Identity {
		case "", IdentityNone:
		case IdentityAssertion, IdentityAccessToken:
			if c.Auth == nil {
				add(at, "service %q: identity %s needs an auth block", name, s.Identity)
			}
			if s.Identity == IdentityAccessToken && s.Authorization {
				add(at, "service %q: identity access_token sets Authorization itself; drop authorization: true", name)
			}
		default:
			add(at, "service %q: identity must be none, assertion or access_token, got %q", name, s.Identity)
		}
	}
	for i, p := range c.Pages {
		if p != nil {
			c.checkAuthValue(add, fmt.Sprintf("$.pages[%d].auth", i), "page "+p.Path, p.Auth)
		}
	}
	for i, g := range c.Gateway {
		if g != nil {
			c.checkAuthValue(add, fmt.Sprintf("$.gateway[%d].auth", i), "gateway "+g.Prefix, g.Auth)
		}
	}
	a := c.Auth
	if a == nil {
		return
	}
	if a.Issuer == "" {
		add("$.auth", "auth: issuer is missing: name the OpenID provider, like https://login.example/realms/shop")
	} else if u, err := url.Parse(a.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		add("$.auth.issuer", "auth issuer must be an https URL, got %q", a.Issuer)
	} else if u.Scheme == "http" && !c.Dev && !loopback(u.Hostname()) {
		add("$.auth.issuer", "auth issuer %q must be https outside dev mode", a.Issuer)
	}
	if a.ClientID == "" {
		add("$.auth", "auth: client_id is missing")
	}
	if c.PublicURL == "" {
		add("$.public_url", "auth needs public_url: the redirect URI, cookies and the same-origin check are made from it")
	} else if u, err := url.Parse(c.PublicURL); err == nil && u.Scheme != "https" && !c.Dev {
		add("$.public_url", "public_url %q must be https when auth is on, outside dev mode: session cookies are Secure", c.PublicURL)
	}
	if len(a.Scopes) > 0 && !slices.Contains(a.Scopes, "openid") {
		add("$.auth.scopes", "auth scopes must include openid")
	}
	for j, claim := range a.Claims {
		if claim == "" || reservedClaims[claim] {
			add(fmt.Sprintf("$.auth.claims[%d]", j), "auth claim %q is set by Inlay itself", claim)
		}
	}
	idle, maxAge := a.Session.Idle, a.Session.Max
	for key, d := range map[string]Duration{"idle": idle, "max": maxAge} {
		switch {
		case d == badDuration:
			add("$.auth.session."+key, "auth session %s: bad duration: write it like 30m or 12h", key)
		case d < 0:
			add("$.auth.session."+key, "auth session %s: must be positive", key)
		case time.Duration(d) > 30*24*time.Hour:
			add("$.auth.session."+key, "auth session %s: must be at most 720h", key)
		}
	}
	if idle > 0 && maxAge > 0 && idle > maxAge {
		add("$.auth.session.idle", "auth session idle (%v) must not be longer than max (%v)", idle, maxAge)
	}
	if c.Cache.Shared.Enabled() && a.Session.KeysFile == "" && os.Getenv(EnvSessionKeys) == "" {
		add("$.auth.session", "auth with cache.shared needs session keys (keys_file or %s): every replica must open the sessions the others seal", EnvSessionKeys)
	}
}

// reservedClaims are the claims of X-Inlay-Identity that Inlay sets.
var reservedClaims = map[string]bool{"iss": true, "aud": true, "sub": true, "exp": true, "iat": true, "nbf": true, "jti": true}

func (c *Config) checkAuthValue(add func(path, format string, args ...any), at, what, v string) {
	switch v {
	case "", AuthOptional:
	case AuthRequired:
		if c.Auth == nil {
			add(at, "%s: auth: required needs an auth block", what)
		}
	default:
		add(at, "%s: auth must be optional or required, got %q", what, v)
	}
}

// loopback reports whether host names this machine.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
