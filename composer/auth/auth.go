package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/inlayhq/inlay/composer/config"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"
)

// Deadlines and margins of sign-in.
const (
	// ProviderTimeout bounds every call to the provider: discovery, key
	// sets, the token endpoint.
	ProviderTimeout = 5 * time.Second
	// StoreTimeout bounds every call to the session store.
	StoreTimeout = 500 * time.Millisecond
	// FlowLifetime is how long a sign-in may take, from /-/auth/login to
	// the callback.
	FlowLifetime = 10 * time.Minute
	// RefreshMargin is how long before the access token expires it is
	// refreshed.
	RefreshMargin = time.Minute
	// leaseTTL bounds one refresh lease: longer than a refresh may take.
	leaseTTL = ProviderTimeout + 5*time.Second
	// pollEvery is how often a replica waiting for another's refresh
	// reads the session again.
	pollEvery = 20 * time.Millisecond
	// discoveryRetry spaces discovery attempts while the provider is down.
	discoveryRetry = time.Second
)

// Cookie names: with the __Host- prefix over https, without it over plain
// http in dev mode.
const (
	CookieSession = "__Host-inlay_session"
	CookieFlow    = "__Host-inlay_login"
	devPrefix     = "__Host-"
)

// Options are what New needs besides the config.
type Options struct {
	// Store holds the sessions. Nil means the shared tier when
	// cache.shared is configured, else the process's memory.
	Store Store
	// Keys seal what the store holds. Nil means the keys of
	// auth.session.keys_file or INLAY_AUTH_SESSION_KEYS, else one random
	// key (which New refuses with a shared store).
	Keys *Keyring
	// ClientSecret overrides client_secret_file and
	// INLAY_AUTH_CLIENT_SECRET.
	ClientSecret string
	// HTTPClient makes the provider calls. Nil means one whose every call
	// ends within ProviderTimeout.
	HTTPClient *http.Client
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Logger receives the logs. Nil means slog.Default().
	Logger *slog.Logger
	// ErrorPage answers a failed sign-in with the error page of status.
	// Nil means a plain text answer.
	ErrorPage ErrorPageFunc
}

// ErrorPageFunc answers a request with the error page of status.
type ErrorPageFunc func(w http.ResponseWriter, r *http.Request, status int)

// SetErrorPage makes f answer the failures of sign-in from now on: the
// composer that serves the current config sets its own, as an Auth
// outlives config reloads. Nil means a plain text answer.
func (a *Auth) SetErrorPage(f ErrorPageFunc) {
	if f == nil {
		f = func(w http.ResponseWriter, _ *http.Request, status int) {
			http.Error(w, http.StatusText(status), status)
		}
	}
	a.errPage.Store(&f)
}

func (a *Auth) errorPage(w http.ResponseWriter, r *http.Request, status int) {
	(*a.errPage.Load())(w, r, status)
}

// Auth is the sign-in of one shop: its reserved paths, its sessions and
// the identities it gives teams. It is safe for concurrent use.
type Auth struct {
	cfg       *config.Auth
	publicURL string
	redirect  string
	secret    string
	store     Store
	ownStore  *RedisStore
	keys      *Keyring
	now       func() time.Time
	ownClock  bool // now is time.Now: a caller's reading of it may serve
	client    *http.Client
	log       *slog.Logger
	errPage   atomic.Pointer[ErrorPageFunc]
	signer    *signer
	local     bool // the store is the process's memory
	ownClient bool // client made by New, its connections closed by Close

	secure                    bool
	sessionCookie, flowCookie string
	idle, maxAge, touchEvery  time.Duration

	pmu       sync.Mutex
	prov      *provider
	provErr   error
	provRetry time.Time

	flight singleflight.Group // one refresh per session in this process

	cmu    sync.Mutex
	opened map[string]openedSession // hid → the last session opened
	names  map[string]string        // session id → hid, so that a page hashes no id
}

type openedSession struct {
	sealed []byte
	sess   *Session
}

// maxOpened bounds the cache of opened sessions.
const maxOpened = 10_000

// provider is what discovery found.
type provider struct {
	oidc       *oidc.Provider
	oauth      oauth2.Config
	verifier   *oidc.IDTokenVerifier
	endSession string
}

// New returns the sign-in of cfg, which must have an auth block. The
// provider is discovered at the first sign-in, not here: a provider that
// is down keeps no page from being served.
func New(cfg *config.Config, opts Options) (*Auth, error) {
	ac := cfg.Auth
	if ac == nil {
		return nil, errors.New("auth: no auth block")
	}
	a := &Auth{
		cfg: ac, publicURL: cfg.PublicURL, now: opts.Now, client: opts.HTTPClient, log: opts.Logger,
		store: opts.Store, keys: opts.Keys, secret: opts.ClientSecret,
		idle: ac.Session.IdleTimeout(), maxAge: ac.Session.MaxAge(), opened: map[string]openedSession{}, names: map[string]string{},
	}
	if a.now == nil {
		a.now, a.ownClock = time.Now, true
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.client == nil {
		a.client = &http.Client{Timeout: ProviderTimeout, Transport: http.DefaultTransport.(*http.Transport).Clone()}
		a.ownClient = true
	}
	a.SetErrorPage(opts.ErrorPage)
	a.touchEvery = min(a.idle/8, time.Minute)
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("auth: public_url %q is needed", cfg.PublicURL)
	}
	a.secure = u.Scheme == "https"
	a.sessionCookie, a.flowCookie = CookieSession, CookieFlow
	if !a.secure {
		a.sessionCookie, a.flowCookie = CookieSession[len(devPrefix):], CookieFlow[len(devPrefix):]
	}
	a.redirect = cfg.PublicURL + "/-/auth/callback"
	if a.secret == "" {
		if a.secret, err = readSecret(cfg.Path(ac.ClientSecretFile)); err != nil {
			return nil, err
		}
	}
	if a.keys == nil {
		if a.keys, err = LoadKeys(cfg.Path(ac.Session.KeysFile), config.EnvSessionKeys); err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
	}
	shared := cfg.Cache.Shared.Enabled()
	if a.keys == nil {
		if shared && a.store == nil {
			return nil, fmt.Errorf("auth: with cache.shared, session keys are needed (auth.session.keys_file or %s)", config.EnvSessionKeys)
		}
		a.keys = RandomKeys()
	}
	if a.store == nil {
		if shared {
			rs, err := NewRedisStore(cfg.Cache.Shared.URL)
			if err != nil {
				return nil, fmt.Errorf("auth: %w", err)
			}
			a.store, a.ownStore = rs, rs
		} else {
			a.store = NewMemoryStore(a.now)
		}
	}
	_, a.local = a.store.(*MemoryStore)
	a.signer = newSigner(a.keys, cfg.PublicURL)
	return a, nil
}

// readSecret reads the client secret from file, or from the environment.
func readSecret(file string) (string, error) {
	if file == "" {
		return getenv(config.EnvClientSecret), nil
	}
	b, err := readFile(file)
	if err != nil {
		return "", fmt.Errorf("auth: reading client secret: %w", err)
	}
	return string(bytes.TrimSpace(b)), nil
}

// Close closes the store New connected, and the connections to the
// provider.
func (a *Auth) Close() {
	if a.ownStore != nil {
		a.ownStore.Close()
	}
	if a.ownClient {
		a.client.CloseIdleConnections()
	}
}

// provider returns what discovery found, discovering it on first use.
func (a *Auth) provider(ctx context.Context) (*provider, error) {
	a.pmu.Lock()
	defer a.pmu.Unlock()
	if a.prov != nil {
		return a.prov, nil
	}
	if a.provErr != nil && a.now().Before(a.provRetry) {
		return nil, a.provErr
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, a.client), ProviderTimeout)
	defer cancel()
	op, err := oidc.NewProvider(ctx, a.cfg.Issuer)
	if err != nil {
		a.provErr, a.provRetry = fmt.Errorf("auth: discovery at %s: %w", a.cfg.Issuer, err), a.now().Add(discoveryRetry)
		return nil, a.provErr
	}
	var meta struct {
		EndSession string   `json:"end_session_endpoint"`
		Algs       []string `json:"id_token_signing_alg_values_supported"`
		Methods    []string `json:"code_challenge_methods_supported"`
	}
	_ = op.Claims(&meta)
	algs := slices.DeleteFunc(slices.Clone(meta.Algs), func(s string) bool { return s == "none" || s == "" })
	p := &provider{
		oidc: op,
		oauth: oauth2.Config{
			ClientID: a.cfg.ClientID, ClientSecret: a.secret, Endpoint: op.Endpoint(),
			RedirectURL: a.redirect, Scopes: a.cfg.ScopeList(),
		},
		endSession: meta.EndSession,
	}
	// Only the provider's advertised algorithms, never none (go-oidc
	// refuses none whatever the list says, and defaults to RS256).
	p.verifier = op.Verifier(&oidc.Config{ClientID: a.cfg.ClientID, Now: a.now, SupportedSigningAlgs: algs})
	a.prov, a.provErr = p, nil
	return p, nil
}

// oauthContext carries the provider client and deadline to oauth2.
func (a *Auth) oauthContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx = context.WithValue(oidc.ClientContext(context.WithoutCancel(ctx), a.client), oauth2.HTTPClient, a.client)
	return context.WithTimeout(ctx, ProviderTimeout)
}

func storeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), StoreTimeout)
}

// readContext bounds a read of the store on the page's path: the
// in-process store never waits, so it needs no timer.
func (a *Auth) readContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if a.local {
		return ctx, func() {}
	}
	return storeContext(ctx)
}

// load reads and opens the session named hid; nil when there is none.
func (a *Auth) load(ctx context.Context, hid string) (*Session, error) {
	if a.local {
		// Every write of the in-process store goes through save and end,
		// which keep opened current: what it holds is what the store
		// holds. The lifetimes are checked by the caller.
		a.cmu.Lock()
		o, ok := a.opened[hid]
		a.cmu.Unlock()
		if ok {
			return o.sess, nil
		}
	}
	ctx, cancel := a.readContext(ctx)
	defer cancel()
	sealed, err := a.store.Get(ctx, keySession+hid)
	if err != nil || sealed == nil {
		return nil, err
	}
	a.cmu.Lock()
	o, ok := a.opened[hid]
	a.cmu.Unlock()
	if ok && len(o.sealed) == len(sealed) && (&o.sealed[0] == &sealed[0] || bytes.Equal(o.sealed, sealed)) {
		return o.sess, nil // the very bytes opened before: no need to open again
	}
	plain, err := a.keys.Open(sealed, []byte(keySession+hid))
	if err != nil {
		return nil, err
	}
	s := &Session{}
	if err := json.Unmarshal(plain, s); err != nil {
		return nil, fmt.Errorf("session record: %w", err)
	}
	s.hid, s.assertions = hid, &assertionCache{}
	a.cmu.Lock()
	if len(a.opened) >= maxOpened {
		clear(a.opened)
	}
	a.opened[hid] = openedSession{sealed: sealed, sess: s}
	a.cmu.Unlock()
	return s, nil
}

// save seals and writes a session, for what is left of its lifetimes, and
// indexes it by sub and sid for back-channel logout.
func (a *Auth) save(ctx context.Context, s *Session, index bool) error {
	now := a.now()
	ttl := min(a.idle, s.Created.Add(a.maxAge).Sub(now))
	if ttl <= 0 {
		return errors.New("session past its lifetime")
	}
	if s.assertions == nil {
		s.assertions = &assertionCache{} // s is new, not yet shared
	}
	plain, err := json.Marshal(s)
	if err != nil {
		return err
	}
	ctx, cancel := storeContext(ctx)
	defer cancel()
	sealed := a.keys.Seal(plain, []byte(keySession+s.hid))
	if err := a.store.Set(ctx, keySession+s.hid, sealed, ttl); err != nil {
		return fmt.Errorf("saving session: %w", err)
	}
	if a.local {
		a.cmu.Lock()
		if len(a.opened) >= maxOpened {
			clear(a.opened)
		}
		a.opened[s.hid] = openedSession{sealed: sealed, sess: s}
		a.cmu.Unlock()
	}
	if index {
		if err := a.store.Add(ctx, keyBySub+hashID(s.Sub), s.hid, a.maxAge); err != nil {
			return fmt.Errorf("indexing session: %w", err)
		}
		if s.SID != "" {
			if err := a.store.Add(ctx, keyBySID+hashID(s.SID), s.hid, a.maxAge); err != nil {
				return fmt.Errorf("indexing session: %w", err)
			}
		}
	}
	return nil
}

// end deletes sessions by their hids, everywhere.
func (a *Auth) end(ctx context.Context, hids ...string) error {
	if len(hids) == 0 {
		return nil
	}
	keys := make([]string, len(hids))
	a.cmu.Lock()
	for i, h := range hids {
		keys[i] = keySession + h
		delete(a.opened, h)
	}
	a.cmu.Unlock()
	ctx, cancel := storeContext(ctx)
	defer cancel()
	return a.store.Delete(ctx, keys...)
}

// Resolve returns the signed-in shopper of r, or nil for an anonymous
// one. It ends sessions past their lifetimes and refreshes the access
// token when it is about to expire.
func (a *Auth) Resolve(r *http.Request) *Identity { return a.resolve(r, time.Time{}) }

// ResolveAt is Resolve for a caller that has just read time.Now: now
// serves as the request's time, so a page reads the clock once. An Auth
// on a clock of its own (Options.Now) reads that instead.
func (a *Auth) ResolveAt(r *http.Request, now time.Time) *Identity { return a.resolve(r, now) }

func (a *Auth) resolve(r *http.Request, now time.Time) *Identity {
	value := cookieValue(r.Header["Cookie"], a.sessionCookie)
	if len(value) != 43 {
		return nil
	}
	ctx := r.Context()
	hid, s := a.session(value)
	if s == nil {
		var err error
		if s, err = a.load(ctx, hid); err != nil {
			a.log.LogAttrs(ctx, slog.LevelWarn, "session not read", slog.String("error", err.Error()))
			return nil
		}
		if s == nil {
			return nil
		}
	}
	if now.IsZero() || !a.ownClock {
		now = a.now()
	}
	if id := a.current(s, now); id != nil {
		return id // nothing due: the lifetimes were checked when it was made
	}
	if !now.Before(s.Created.Add(a.maxAge)) || !now.Before(s.Seen.Add(a.idle)) {
		_ = a.end(ctx, hid)
		return nil
	}
	if a.needsRefresh(s, now) {
		if s = a.refresh(ctx, s); s == nil {
			return nil
		}
	}
	if now.Sub(s.Seen) >= a.touchEvery {
		touched := *s
		touched.Seen = now
		if err := a.save(ctx, &touched, false); err == nil {
			s = &touched
		}
	}
	return a.identity(s, now)
}

// session returns hashID(id), remembered, and with the in-process store
// the session it names, as save left it (nil: none opened): one lock for
// both, on every page of a signed-in shopper.
func (a *Auth) session(id string) (hid string, s *Session) {
	a.cmu.Lock()
	hid, ok := a.names[id]
	if ok && a.local {
		s = a.opened[hid].sess
	}
	a.cmu.Unlock()
	if ok {
		return hid, s
	}
	hid = hashID(id)
	a.cmu.Lock()
	if len(a.names) >= maxOpened {
		clear(a.names)
	}
	a.names[id] = hid
	a.cmu.Unlock()
	return hid, nil
}

// cookieValue returns the value of the first cookie called name in the
// Cookie header lines, without parsing the others (the page's path reads
// one cookie): it looks for name itself, and takes the first place where
// it is a pair's whole name.
func cookieValue(lines []string, name string) string {
	for _, line := range lines {
		for from := 0; ; {
			i := strings.Index(line[from:], name)
			if i < 0 {
				break
			}
			i += from
			end := i + len(name)
			if end < len(line) && line[end] == '=' && pairStart(line, i) {
				v := line[end+1:]
				if j := strings.IndexByte(v, ';'); j >= 0 {
					v = v[:j]
				}
				return strings.TrimSpace(v)
			}
			from = i + 1
		}
	}
	return ""
}

// pairStart reports whether a cookie pair's name starts at i in line:
// nothing but spaces and tabs between the line's start or the last ';'
// and i.
func pairStart(line string, i int) bool {
	for i--; i >= 0; i-- {
		switch line[i] {
		case ';':
			return true
		case ' ', '\t':
		default:
			return false
		}
	}
	return true
}

// claims picks the configured claims out of an ID token.
func (a *Auth) claims(idt *oidc.IDToken) (map[string]any, error) {
	var all map[string]any
	if err := idt.Claims(&all); err != nil {
		return nil, err
	}
	out := make(map[string]any, len(a.cfg.Claims))
	for _, c := range a.cfg.Claims {
		if v, ok := all[c]; ok {
			out[c] = v
		}
	}
	return out, nil
}

// SameOrigin reports whether a request comes from the shop's own pages:
// Sec-Fetch-Site same-origin, or an Origin equal to public_url.
func (a *Auth) SameOrigin(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "same-origin" {
		return true
	}
	o := r.Header.Get("Origin")
	return o != "" && o == a.publicURL
}

// LoginURL returns where an anonymous shopper is sent to sign in, to come
// back to next.
func LoginURL(next string) string {
	return "/-/auth/login?next=" + url.QueryEscape(SafeNext(next))
}

// RequireLogin answers an anonymous shopper's request for a page that
// requires sign-in: 302 to the login, never stored.
func RequireLogin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, LoginURL(r.URL.RequestURI()), http.StatusFound)
}
