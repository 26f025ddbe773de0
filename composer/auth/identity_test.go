package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlayhq/inlay/composer/config"
)

// identityKit is an Auth on a clock the test moves, with the in-process
// store, two services with identity: assertion and one with
// access_token, and a signed-in shopper's request. Its provider is down:
// it counts the calls it refuses.
type identityKit struct {
	calls  atomic.Int64 // to the provider
	cfg    *config.Config
	a      *Auth
	clock  *time.Time
	req    *http.Request
	search *config.Service
	basket *config.Service
	orders *config.Service // identity: access_token
	hid    string
}

func newIdentityKit(t testing.TB, refreshToken string) *identityKit {
	t.Helper()
	k := &identityKit{}
	op := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		k.calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(op.Close)
	cfg, err := config.Parse("inlay.yaml", []byte("public_url: https://shop.example\nauth:\n  issuer: "+op.URL+"\n  client_id: inlay\n"+
		"services:\n  search:\n    url: http://search\n    identity: assertion\n  basket:\n    url: http://basket\n    identity: assertion\n"+
		"  orders:\n    url: http://orders\n    identity: access_token\n"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	k.cfg, k.clock, k.search, k.basket, k.orders = cfg, &now, cfg.Services["search"], cfg.Services["basket"], cfg.Services["orders"]
	k.a, err = New(cfg, Options{Now: func() time.Time { return *k.clock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.a.Close)
	id := newID()
	s := &Session{Sub: "sub-ada", Claims: map[string]any{"name": "Ada"}, AccessToken: "at-1", RefreshToken: refreshToken,
		Expiry: now.Add(10 * time.Minute), Created: now, Seen: now, hid: hashID(id)}
	if err := k.a.save(context.Background(), s, true); err != nil {
		t.Fatal(err)
	}
	k.hid = s.hid
	k.req = httptest.NewRequest(http.MethodGet, "/", nil)
	k.req.Header.Set("Cookie", "theme=dark; "+CookieSession+"="+id)
	return k
}

func (k *identityKit) advance(d time.Duration) { *k.clock = k.clock.Add(d) }

// TestSignedInRequestAllocatesNothing holds what keeps sign-in off a
// page's CPU bill: once a session's assertions are signed, resolving
// the shopper and giving six boxes their identity headers allocates
// nothing.
func TestSignedInRequestAllocatesNothing(t *testing.T) {
	k := newIdentityKit(t, "")
	svcs := []*config.Service{k.search, k.basket, k.orders}
	page := func() {
		id := k.a.Resolve(k.req)
		for i := range 6 {
			if name, _ := id.Field(svcs[i%3]); name == "" {
				t.Fatalf("no identity header for %s", svcs[i%3].Name)
			}
		}
	}
	page() // signs the assertions
	if n := testing.AllocsPerRun(100, page); n != 0 {
		t.Errorf("a signed-in request allocates %v times, want 0", n)
	}
}

// L8, L1: TestIdentityFollowsItsSession holds the rules an Identity
// shared by a session's requests must keep: an assertion is given while
// more than half its life is left and then replaced, an expired access
// token is given to nobody, a refreshed one is given at once, and a
// session ended resolves to no one.
func TestIdentityFollowsItsSession(t *testing.T) {
	k := newIdentityKit(t, "") // the access token expires, and stays expired
	header := func(svc *config.Service) string {
		_, v := k.a.Resolve(k.req).Header(svc)
		return v
	}
	first, basket := header(k.search), header(k.basket)
	steps := []struct {
		name    string
		advance time.Duration
		do      func()
		check   func() string // "" when right
	}{
		{name: "reused within half its life", advance: 29 * time.Second, check: func() string {
			if got := header(k.search); got != first {
				return "a new assertion was signed"
			}
			if got := header(k.basket); got != basket || got == first {
				return "basket got another assertion"
			}
			return ""
		}},
		{name: "replaced past half its life", advance: 2 * time.Second, check: func() string {
			if got := header(k.search); got == first || got == "" {
				return "the old assertion was given again"
			}
			return ""
		}},
		{name: "access token given", check: func() string {
			if got := header(k.orders); got != "Bearer at-1" {
				return "Authorization " + got
			}
			return ""
		}},
		// At 9m40s, with the session touched and an assertion good until
		// 10m10s; the access token expires at 10m, before the session is
		// touched again.
		{name: "access token about to expire", advance: 9*time.Minute + 9*time.Second, check: func() string {
			if header(k.search) == "" {
				return "no assertion"
			}
			if got := header(k.orders); got != "Bearer at-1" {
				return "Authorization " + got
			}
			return ""
		}},
		{name: "access token expired", advance: 21 * time.Second, check: func() string {
			if got := header(k.orders); got != "" {
				return "an expired access token was given: " + got
			}
			if header(k.search) == "" {
				return "no assertion with the access token expired"
			}
			return ""
		}},
		{name: "access token refreshed", do: func() {
			s, err := k.a.load(context.Background(), k.hid)
			if err != nil || s == nil {
				t.Fatalf("session: %v %v", s, err)
			}
			next := *s
			next.assertions = &assertionCache{}
			next.AccessToken, next.Expiry = "at-2", k.clock.Add(10*time.Minute)
			if err := k.a.save(context.Background(), &next, false); err != nil {
				t.Fatal(err)
			}
		}, check: func() string {
			if got := header(k.orders); got != "Bearer at-2" {
				return "Authorization " + got
			}
			return ""
		}},
		{name: "session ended", do: func() {
			if err := k.a.end(context.Background(), k.hid); err != nil {
				t.Fatal(err)
			}
		}, check: func() string {
			if id := k.a.Resolve(k.req); id != nil {
				return "an ended session still resolves"
			}
			return ""
		}},
	}
	for _, st := range steps {
		k.advance(st.advance)
		if st.do != nil {
			st.do()
		}
		if msg := st.check(); msg != "" {
			t.Errorf("%s: %s", st.name, msg)
		}
	}
}

// cookieValueBySplit is cookieValue the plain way: every pair split off
// and compared. cookieValue must read the same.
func cookieValueBySplit(lines []string, name string) string {
	for _, line := range lines {
		for line != "" {
			var pair string
			pair, line, _ = strings.Cut(line, ";")
			pair = strings.TrimLeft(pair, " \t")
			if k, v, ok := strings.Cut(pair, "="); ok && k == name {
				return strings.TrimSpace(v)
			}
		}
	}
	return ""
}

var cookieCases = []struct {
	lines []string
	want  string
}{
	{nil, ""},
	{[]string{""}, ""},
	{[]string{"s=1"}, "1"},
	{[]string{"a=b; s=1; c=d"}, "1"},
	{[]string{"a=b;\ts=1"}, "1"},
	{[]string{"xs=2; s=1"}, "1"},        // name as another's suffix
	{[]string{"a=s=3; s=1"}, "1"},       // name in another's value
	{[]string{"s; s=1"}, "1"},           // no value first
	{[]string{"s =4; s=1"}, "1"},        // not the name: a space before =
	{[]string{"a=b", "s= 5 ;t=6"}, "5"}, // second line, value trimmed
	{[]string{"s=1; s=2"}, "1"},         // the first
	{[]string{"a=b; s"}, ""},
	{[]string{"a=b; s="}, ""},
}

func TestCookieValue(t *testing.T) {
	for _, tc := range cookieCases {
		if got := cookieValue(tc.lines, "s"); got != tc.want {
			t.Errorf("cookieValue(%q) = %q, want %q", tc.lines, got, tc.want)
		}
		if got := cookieValueBySplit(tc.lines, "s"); got != tc.want {
			t.Errorf("the plain way: cookieValue(%q) = %q, want %q", tc.lines, got, tc.want)
		}
	}
}

// FuzzCookieValue checks cookieValue against the plain way on any
// header line, for any name a cookie may have (a token: no space, tab,
// ';' or '=').
func FuzzCookieValue(f *testing.F) {
	for _, tc := range cookieCases {
		f.Add(strings.Join(tc.lines, "\n"), "s")
	}
	f.Add("theme=dark; "+CookieSession+"=abc", CookieSession)
	f.Fuzz(func(t *testing.T, header, name string) {
		if name == "" || strings.ContainsAny(name, " \t;=") {
			return
		}
		lines := strings.Split(header, "\n")
		if got, want := cookieValue(lines, name), cookieValueBySplit(lines, name); got != want {
			t.Errorf("cookieValue(%q, %q) = %q, the plain way %q", lines, name, got, want)
		}
	})
}

// L13: TestIdentityEndsWithItsSession holds the lifetimes against the
// Identity a session's requests share: a session left idle, or past its
// absolute lifetime though in use, resolves to no one, however recently
// its Identity was made.
func TestIdentityEndsWithItsSession(t *testing.T) {
	for _, tc := range []struct {
		name  string
		every time.Duration // between requests
		until time.Duration // the first request that must find no one
	}{
		{"idle", config.DefaultSessionIdle, config.DefaultSessionIdle},
		// Every 35 s: the request before the end touches the session, the
		// one after finds no touch due, only the end.
		{"max", 35 * time.Second, config.DefaultSessionMax},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := newIdentityKit(t, "")
			if k.a.Resolve(k.req) == nil {
				t.Fatal("no shopper")
			}
			for at := tc.every; ; at += tc.every {
				k.advance(tc.every)
				id := k.a.Resolve(k.req)
				if at >= tc.until {
					if id != nil {
						t.Fatalf("still signed in at %v", at)
					}
					break
				}
				if id == nil {
					t.Fatalf("ended at %v", at)
				}
			}
		})
	}
}

// L12: TestIdentityRefreshesOnTime holds the refresh against the Identity a
// session's requests share: the first request once the access token is
// within RefreshMargin of its expiry tries to refresh it, though the
// session was touched less than a minute before.
func TestIdentityRefreshesOnTime(t *testing.T) {
	k := newIdentityKit(t, "rt") // the access token expires at 10m
	k.advance(8*time.Minute + 50*time.Second)
	if k.a.Resolve(k.req) == nil { // touches the session
		t.Fatal("no shopper")
	}
	if n := k.calls.Load(); n != 0 {
		t.Fatalf("%d provider calls before the refresh was due", n)
	}
	k.advance(20 * time.Second) // 9m10s: due
	if k.a.Resolve(k.req) == nil {
		t.Fatal("no shopper while the provider is down")
	}
	if k.calls.Load() == 0 {
		t.Error("no refresh tried once it was due")
	}
}

// L13: TestResolveAtTakesTheCallersTime holds ResolveAt to its word: the
// caller's reading of time.Now is the request's time, so a session past
// its lifetime by it is over; an Auth on a clock of its own reads that.
func TestResolveAtTakesTheCallersTime(t *testing.T) {
	later := config.DefaultSessionMax + time.Minute
	k := newIdentityKit(t, "") // its own clock
	if k.a.ResolveAt(k.req, k.clock.Add(later)) == nil {
		t.Error("an Auth on its own clock took the caller's time")
	}
	// On time.Now, as in production.
	a, err := New(k.cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	id, now := newID(), time.Now()
	s := &Session{Sub: "sub-ada", Created: now, Seen: now, hid: hashID(id)}
	if err := a.save(context.Background(), s, true); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Cookie", CookieSession+"="+id)
	if a.ResolveAt(req, time.Now()) == nil {
		t.Fatal("no shopper")
	}
	if a.ResolveAt(req, now.Add(later)) != nil {
		t.Error("a session past its lifetime by the caller's time resolved")
	}
}
