package composer

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/inlayhq/inlay/composer/auth"
	"github.com/inlayhq/inlay/composer/auth/oidcop"
	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// testOP is a real OpenID provider on loopback (zitadel's OP library),
// behind a middleman that may tamper with the token endpoint's answers,
// as an attacker between Inlay and a provider gone wrong would.
type testOP struct {
	*oidcop.Provider
	srv    *httptest.Server
	issuer string
	tamper atomic.Pointer[func(idToken string) string]
	tokens atomic.Int64 // token endpoint calls
	hang   atomic.Bool  // the token endpoint answers only when its caller gives up
}

var testShoppers = []oidcop.Shopper{
	{ID: "sub-ada", Username: "ada", Password: "ada-pass", Name: "Ada Lovelace", Email: "ada@shop.example"},
	{ID: "sub-grace", Username: "grace", Password: "grace-pass", Name: "Grace Hopper", Email: "grace@shop.example"},
}

const testClientSecret = "inlay-test-secret"

// startOP starts the provider for a shop that will listen at shopURL.
func startOP(t testing.TB, shopURLs ...string) *testOP {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	// localhost, not 127.0.0.1: the shopper's cookie jar keeps the
	// provider's cookies apart from the shop's.
	issuer := "http://localhost:" + portOf(srv)
	var redirects, back []string
	for _, u := range shopURLs {
		redirects = append(redirects, u+"/-/auth/callback")
		back = append(back, u+"/")
	}
	p, err := oidcop.New(oidcop.Config{Issuer: issuer, ClientID: "inlay", ClientSecret: testClientSecret, RedirectURIs: redirects, PostLogoutRedirectURIs: back, Shoppers: testShoppers})
	if err != nil {
		t.Fatal(err)
	}
	op := &testOP{Provider: p, srv: srv, issuer: issuer}
	srv.Config.Handler = http.HandlerFunc(op.serve)
	srv.Start()
	t.Cleanup(srv.Close)
	return op
}

func (op *testOP) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/oauth/token" {
		op.Provider.ServeHTTP(w, r)
		return
	}
	op.tokens.Add(1)
	if op.hang.Load() {
		// Read the body, so that the server notices the caller leave.
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
		return
	}
	rec := httptest.NewRecorder()
	op.Provider.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	if f := op.tamper.Load(); f != nil && rec.Code == http.StatusOK {
		var m map[string]any
		if json.Unmarshal(body, &m) == nil {
			if idt, ok := m["id_token"].(string); ok {
				m["id_token"] = (*f)(idt)
				body, _ = json.Marshal(m)
			}
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

// portOf returns the port an unstarted server listens on.
func portOf(srv *httptest.Server) string {
	return strconv.Itoa(srv.Listener.Addr().(*net.TCPAddr).Port)
}

func newJSONLogger(logs *teamtest.Logs) *slog.Logger { return slog.New(slog.NewJSONHandler(logs, nil)) }

func mapFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

// testClock is a clock a test moves forward.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// idTeam is a team that records the identity headers it gets and
// verifies X-Inlay-Identity as a team would: with go-oidc, against the
// shop's JWKS, for its own name as audience.
type idTeam struct {
	*teamtest.Team
	name string
	mu   sync.Mutex
	seen []http.Header
	hits atomic.Int64
}

func newIDTeam(t testing.TB, name, cacheControl, body string) *idTeam {
	it := &idTeam{name: name}
	it.Team = teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		it.hits.Add(1)
		it.mu.Lock()
		it.seen = append(it.seen, r.Header.Clone())
		it.mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Cache-Control", cacheControl)
		fmt.Fprintf(w, "<p>%s %s</p>%s", name, r.URL.Path, body)
	})
	return it
}

// last returns the headers of the team's last request.
func (it *idTeam) last() http.Header {
	it.mu.Lock()
	defer it.mu.Unlock()
	if len(it.seen) == 0 {
		return nil
	}
	return it.seen[len(it.seen)-1]
}

// signinShop is a shop with sign-in over https on loopback.
type signinShop struct {
	*httptest.Server
	inlay *Server
	auth  *auth.Auth
	op    *testOP
	clock *testClock
	cfg   *config.Config
	logs  *teamtest.Logs
}

// signinOptions adjust a signin shop.
type signinOptions struct {
	op    *testOP       // a provider already started; nil starts one
	store auth.Store    // nil: in process
	keys  *auth.Keyring // nil: random
	clock *testClock
	srv   *httptest.Server // an unstarted server for the shop; nil makes one
	extra string           // more YAML
	// providerClient makes the calls to the provider; nil means Inlay's
	// default.
	providerClient *http.Client
	// realClock makes sign-in read time.Now, not the test's clock.
	realClock bool
	// searchIdentity is the search service's identity; empty means
	// assertion.
	searchIdentity string
	// layout is page.html; empty means signinLayouts.
	layout string
	// cacheControl and body are the teams' answers; empty means
	// "private, no-store" and a one-line box.
	cacheControl, body string
}

const signinLayouts = `<!doctype html><title>shop</title><main><fragment id="who" src="search:/who" primary></fragment><fragment id="basket" src="basket:/mini"></fragment></main>`

func newSigninShop(t testing.TB, o signinOptions) *signinShop {
	t.Helper()
	srv := o.srv
	if srv == nil {
		srv = httptest.NewUnstartedServer(nil)
	}
	shopURL := "https://127.0.0.1:" + portOf(srv)
	op := o.op
	if op == nil {
		op = startOP(t, shopURL)
	}
	clock := o.clock
	if clock == nil {
		clock = &testClock{}
	}
	cc := cmp.Or(o.cacheControl, "private, no-store")
	search, basket := newIDTeam(t, "search", cc, o.body), newIDTeam(t, "basket", cc, o.body)
	dir := t.TempDir()
	secret := filepath.Join(dir, "oidc-secret")
	if err := os.WriteFile(secret, []byte(testClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf(`public_url: %s
auth:
  issuer: %s
  client_id: inlay
  client_secret_file: %s
  scopes: [openid, profile, email, offline_access]
  claims: [name, email]
services:
  search:
    url: %s
    identity: %s
  basket:
    url: %s
    identity: assertion
    cookies: [basket_id]
pages:
  - path: /
    layout: page.html
  - path: /account
    layout: page.html
    auth: required
gateway:
  - prefix: /basket/
    service: basket
    auth: required
  - prefix: /search/
    service: search
error_pages:
  5xx: oops.html
  4xx: oops.html
%s`, shopURL, op.issuer, secret, search.URL, cmp.Or(o.searchIdentity, "assertion"), basket.URL, o.extra)
	cfg, err := config.Parse(filepath.Join(dir, "inlay.yaml"), []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	logs := &teamtest.Logs{}
	logger := newJSONLogger(logs)
	fsys := mapFS(map[string]string{
		"page.html": cmp.Or(o.layout, signinLayouts),
		"oops.html": `<!doctype html><title>oops</title><h1>Sorry, shop trouble</h1>`,
	})
	s := &signinShop{Server: srv, op: op, clock: clock, cfg: cfg, logs: logs}
	var inlay *Server
	now := clock.Now
	if o.realClock {
		now = nil // time.Now itself, as in production
	}
	a, err := auth.New(cfg, auth.Options{Store: o.store, Keys: o.keys, Now: now, Logger: logger, HTTPClient: o.providerClient,
		ErrorPage: func(w http.ResponseWriter, r *http.Request, status int) { inlay.renderError(w, r, status) }})
	if err != nil {
		t.Fatal(err)
	}
	inlay, err = New(cfg, Options{Logger: logger, LayoutFS: fsys, Auth: a})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(inlay.Close)
	s.inlay, s.auth = inlay, a
	srv.Config.Handler = inlay
	srv.StartTLS()
	t.Cleanup(srv.Close)
	testTeams.Store(s, [2]*idTeam{search, basket})
	return s
}

var testTeams sync.Map // *signinShop → [search, basket]

func (s *signinShop) teams() (search, basket *idTeam) {
	v, _ := testTeams.Load(s)
	ts := v.([2]*idTeam)
	return ts[0], ts[1]
}

// shopper returns a browser-like client: a cookie jar, the shop's TLS
// roots, and no redirect followed unless follow says so.
func (s *signinShop) shopper(t testing.TB) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: s.Client().Transport, Timeout: 10 * time.Second}
}

func noFollow(c *http.Client) *http.Client {
	cp := *c
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

// startLogin follows /-/auth/login?next= to the provider's login form and
// returns the auth request id the form posts.
func (s *signinShop) startLogin(t testing.TB, c *http.Client, next string) (authRequestID string) {
	t.Helper()
	resp, err := c.Get(s.URL + "/-/auth/login?next=" + url.QueryEscape(next))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	id := resp.Request.URL.Query().Get("authRequestID")
	if resp.StatusCode != http.StatusOK || id == "" {
		t.Fatalf("login form: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	return id
}

// submitLogin posts the login form and returns the shop's callback URL
// the provider sends the shopper back to, without following it.
func (s *signinShop) submitLogin(t testing.TB, c *http.Client, id, user, pass string) string {
	t.Helper()
	nf := noFollow(c)
	resp, err := nf.PostForm(s.op.issuer+"/login/username", url.Values{"id": {id}, "username": {user}, "password": {pass}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusSeeOther {
		loc, err := resp.Location()
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(loc.String(), s.URL+"/-/auth/callback") {
			return loc.String()
		}
		if resp, err = nf.Get(loc.String()); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	t.Fatalf("provider did not send the shopper back: %d", resp.StatusCode)
	return ""
}

// signIn signs the shopper in through the provider's login form, and
// returns the last response (the page next names).
func (s *signinShop) signIn(t testing.TB, c *http.Client, next, user, pass string) (*http.Response, string) {
	t.Helper()
	callback := s.submitLogin(t, c, s.startLogin(t, c, next), user, pass)
	return s.get(t, c, callback)
}

func (s *signinShop) get(t testing.TB, c *http.Client, u string, header ...string) (*http.Response, string) {
	t.Helper()
	if strings.HasPrefix(u, "/") {
		u = s.URL + u
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, c, req)
}

func do(t testing.TB, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// sessionCookie returns the shopper's session cookie as the jar holds it.
func (s *signinShop) sessionCookie(c *http.Client) *http.Cookie {
	u, _ := url.Parse(s.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == auth.CookieSession {
			return ck
		}
	}
	return nil
}

// verifier returns what a team named aud would verify X-Inlay-Identity
// with: go-oidc against the shop's JWKS, EdDSA only.
func (s *signinShop) verifier(aud string) *oidc.IDTokenVerifier {
	ctx := oidc.ClientContext(context.Background(), s.Client())
	keys := oidc.NewRemoteKeySet(ctx, s.URL+"/-/auth/jwks.json")
	return oidc.NewVerifier(s.URL, keys, &oidc.Config{ClientID: aud, SupportedSigningAlgs: []string{oidc.EdDSA}})
}

// form posts a form to the shop.
func (s *signinShop) post(t testing.TB, c *http.Client, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+path, bytes.NewReader(nil))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, c, req)
}
