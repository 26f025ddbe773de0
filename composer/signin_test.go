package composer

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inlayhq/inlay/composer/auth"
)

// L1: A shopper signs in with the authorization code flow and PKCE, lands on
// the page next named, with a __Host- session cookie, and every team
// configured for it gets an identity assertion it can verify.
func TestSignInCodeFlowWithPKCE(t *testing.T) {
	s := newSigninShop(t, signinOptions{})
	c := s.shopper(t)

	resp, _ := s.get(t, noFollow(c), "/-/auth/login?next=/account")
	loc, _ := resp.Location()
	if resp.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), s.op.issuer) {
		t.Fatalf("login: %d to %v", resp.StatusCode, loc)
	}
	q := loc.Query()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 || q.Get("state") == "" || q.Get("nonce") == "" {
		t.Errorf("authorize request lacks PKCE S256, state or nonce: %v", q)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("login redirect Cache-Control %q", resp.Header.Get("Cache-Control"))
	}

	resp, body := s.signIn(t, c, "/account", "ada", "ada-pass")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/account" || !strings.Contains(body, "search /who") {
		t.Fatalf("after sign-in: %d at %s: %s", resp.StatusCode, resp.Request.URL, body)
	}
	search, basket := s.teams()
	tok := search.last().Get(auth.HeaderIdentity)
	idt, err := s.verifier("search").Verify(t.Context(), tok)
	if err != nil {
		t.Fatalf("search cannot verify its assertion: %v", err)
	}
	var claims struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	}
	_ = idt.Claims(&claims)
	if idt.Subject != "sub-ada" || claims.Name == "" || claims.Email != "ada@shop.example" {
		t.Errorf("assertion claims: sub %q %+v", idt.Subject, claims)
	}
	if life := idt.Expiry.Sub(idt.IssuedAt); life > time.Minute {
		t.Errorf("assertion lifetime %v, want at most 60s", life)
	}
	if basket.last().Get(auth.HeaderIdentity) == "" {
		t.Error("basket got no assertion")
	}

	// /-/auth/me answers the session's claims.
	resp, body = s.get(t, c, "/-/auth/me")
	var me map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &me) != nil || me["sub"] != "sub-ada" || me["email"] != "ada@shop.example" {
		t.Errorf("me: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, "at") && (strings.Contains(body, "refresh") || strings.Contains(body, "access")) {
		t.Errorf("me shows tokens: %s", body)
	}
	// Signed out, /-/auth/me is 401.
	resp, _ = s.get(t, s.shopper(t), "/-/auth/me")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("me signed out: %d", resp.StatusCode)
	}
}

// L7: The session cookie holds an opaque id and has every attribute the
// __Host- prefix and a session need.
func TestSignInCookieAttributes(t *testing.T) {
	s := newSigninShop(t, signinOptions{})
	c := s.shopper(t)
	callback := s.submitLogin(t, c, s.startLogin(t, c, "/"), "ada", "ada-pass")
	resp, _ := s.get(t, noFollow(c), callback)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("callback: %d", resp.StatusCode)
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == auth.CookieSession {
			session = ck
		}
	}
	if session == nil {
		t.Fatalf("no %s cookie in %v", auth.CookieSession, resp.Header["Set-Cookie"])
	}
	if !session.Secure || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || session.Domain != "" {
		t.Errorf("cookie attributes: %+v", session)
	}
	raw, err := base64.RawURLEncoding.DecodeString(session.Value)
	if err != nil || len(raw) != 32 {
		t.Errorf("cookie value is not an opaque 32-byte id: %q", session.Value)
	}
	for _, line := range resp.Header["Set-Cookie"] {
		if strings.Contains(line, "eyJ") {
			t.Errorf("a token reached the browser: %s", line)
		}
	}
}

// L2: A callback whose state is not the one this browser started is refused,
// and signs no one in.
func TestSignInStateMismatch(t *testing.T) {
	s := newSigninShop(t, signinOptions{})
	victim, attacker := s.shopper(t), s.shopper(t)
	// The attacker signs in to the provider and hands the victim a
	// callback for the attacker's own flow (login CSRF).
	callback := s.submitLogin(t, attacker, s.startLogin(t, attacker, "/"), "grace", "grace-pass")
	s.startLogin(t, victim, "/") // the victim has a flow of their own
	resp, body := s.get(t, victim, callback)
	if resp.StatusCode != http.StatusBadRequest || s.sessionCookie(victim) != nil {
		t.Fatalf("state mismatch: %d, cookie %v", resp.StatusCode, s.sessionCookie(victim))
	}
	if !strings.Contains(body, "Sorry, shop trouble") {
		t.Errorf("the refusal is not the error_pages layout: %s", body)
	}
	u, _ := url.Parse(callback)
	q := u.Query()
	q.Set("state", "forged")
	u.RawQuery = q.Encode()
	if resp, _ := s.get(t, attacker, u.String()); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("forged state: %d", resp.StatusCode)
	}
}

// L3: A callback is used once: the same code and state again are refused.
func TestSignInCodeReuse(t *testing.T) {
	s := newSigninShop(t, signinOptions{})
	c := s.shopper(t)
	callback := s.submitLogin(t, c, s.startLogin(t, c, "/"), "ada", "ada-pass")
	flowCookie := func() *http.Cookie {
		u, _ := url.Parse(s.URL)
		for _, ck := range c.Jar.Cookies(u) {
			if ck.Name == auth.CookieFlow {
				return ck
			}
		}
		return nil
	}()
	if resp, _ := s.get(t, c, callback); resp.StatusCode != http.StatusOK {
		t.Fatalf("first use: %d", resp.StatusCode)
	}
	// The replay carries the flow cookie as the first use did.
	other := s.shopper(t)
	u, _ := url.Parse(s.URL)
	other.Jar.SetCookies(u, []*http.Cookie{flowCookie})
	tokens := s.op.tokens.Load()
	resp, _ := s.get(t, other, callback)
	if resp.StatusCode != http.StatusBadRequest || s.sessionCookie(other) != nil {
		t.Fatalf("code reuse: %d", resp.StatusCode)
	}
	if s.op.tokens.Load() != tokens {
		t.Error("a used code was sent to the provider again")
	}
}

// L4: ID tokens that must not sign anyone in: a replayed one (another
// flow's nonce), an expired one, one for another audience, and one with
// alg none.
func TestSignInRefusesBadIDTokens(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, s *signinShop)
	}{
		{"nonce replay", func(t *testing.T, s *signinShop) {
			// An ID token from an earlier sign-in, signed by the provider,
			// replayed into a new flow.
			var earlier string
			grab := func(idt string) string { earlier = idt; return idt }
			s.op.tamper.Store(&grab)
			s.signIn(t, s.shopper(t), "/", "ada", "ada-pass")
			replay := func(string) string { return earlier }
			s.op.tamper.Store(&replay)
		}},
		{"expired", func(t *testing.T, s *signinShop) { s.clock.Advance(2 * time.Hour) }},
		{"wrong audience", func(t *testing.T, s *signinShop) { s.op.SetAudience([]string{"someone-else"}) }},
		{"alg none", func(t *testing.T, s *signinShop) {
			none := func(idt string) string {
				parts := strings.Split(idt, ".")
				return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
			}
			s.op.tamper.Store(&none)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSigninShop(t, signinOptions{})
			tc.setup(t, s)
			c := s.shopper(t)
			resp, _ := s.signIn(t, c, "/account", "ada", "ada-pass")
			if resp.StatusCode != http.StatusUnauthorized || s.sessionCookie(c) != nil {
				t.Fatalf("%s: %d, cookie %v", tc.name, resp.StatusCode, s.sessionCookie(c))
			}
		})
	}
}

// L5: next is only ever a path on the shop: every open-redirect form lands on /.
func TestSignInNextOpenRedirect(t *testing.T) {
	s := newSigninShop(t, signinOptions{})
	for _, next := range []string{"//evil.example", "/\\evil.example", "https://evil.example", "/\t/evil.example", "/\n/evil.example", "javascript:alert(1)", "/%2F/evil.example"} {
		c := s.shopper(t)
		callback := s.submitLogin(t, c, s.startLogin(t, c, next), "ada", "ada-pass")
		resp, _ := s.get(t, noFollow(c), callback)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/" {
			t.Errorf("next %q: %d to %q, want /", next, resp.StatusCode, loc)
		}
	}
	c := s.shopper(t)
	callback := s.submitLogin(t, c, s.startLogin(t, c, "/account?tab=orders"), "ada", "ada-pass")
	if resp, _ := s.get(t, noFollow(c), callback); resp.Header.Get("Location") != "/account?tab=orders" {
		t.Errorf("a same-origin next was not kept: %q", resp.Header.Get("Location"))
	}
}

// L6: A session id that existed before sign-in is never kept after it: an
// attacker who planted one learns nothing.
func TestSignInSessionFixation(t *testing.T) {
	s := newSigninShop(t, signinOptions{})
	attacker := s.shopper(t)
	s.signIn(t, attacker, "/", "grace", "grace-pass")
	planted := s.sessionCookie(attacker)
	victim := s.shopper(t)
	u, _ := url.Parse(s.URL)
	victim.Jar.SetCookies(u, []*http.Cookie{{Name: auth.CookieSession, Value: planted.Value, Path: "/", Secure: true}})
	s.signIn(t, victim, "/", "ada", "ada-pass")
	got := s.sessionCookie(victim)
	if got == nil || got.Value == planted.Value {
		t.Fatalf("the planted session id was kept: %v", got)
	}
	// The planted id ends: it names no session any more.
	resp, _ := s.get(t, attacker, "/-/auth/me")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the planted session still works: %d", resp.StatusCode)
	}
}

// L8: A shopper cannot pass an identity of their own: X-Inlay-Identity from
// the shopper never reaches a team.
func TestSpoofedIdentityStripped(t *testing.T) {
	s := newSigninShop(t, signinOptions{})
	search, basket := s.teams()
	forged := "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9."
	s.get(t, s.shopper(t), "/", auth.HeaderIdentity, forged)
	if got := search.last().Get(auth.HeaderIdentity); got != "" {
		t.Errorf("anonymous page: search got %q", got)
	}
	s.get(t, s.shopper(t), "/search/q", auth.HeaderIdentity, forged)
	if got := search.last().Get(auth.HeaderIdentity); got != "" {
		t.Errorf("gateway: search got %q", got)
	}
	c := s.shopper(t)
	s.signIn(t, c, "/", "ada", "ada-pass")
	s.get(t, c, "/", auth.HeaderIdentity, forged)
	if got := basket.last().Get(auth.HeaderIdentity); got == forged || got == "" {
		t.Errorf("signed in: basket got %q", got)
	}
}

// L8: An assertion is for one team: search refuses the one made for basket.
func TestAssertionAudience(t *testing.T) {
	s := newSigninShop(t, signinOptions{})
	c := s.shopper(t)
	s.signIn(t, c, "/", "ada", "ada-pass")
	_, basket := s.teams()
	tok := basket.last().Get(auth.HeaderIdentity)
	if _, err := s.verifier("basket").Verify(t.Context(), tok); err != nil {
		t.Fatalf("basket refuses its own assertion: %v", err)
	}
	if _, err := s.verifier("search").Verify(t.Context(), tok); err == nil || !strings.Contains(err.Error(), "audience") {
		t.Errorf("search accepted basket's assertion: %v", err)
	}
	// The assertion is reused while more than half its life is left.
	s.get(t, c, "/")
	if again := basket.last().Get(auth.HeaderIdentity); again != tok {
		t.Error("a fresh assertion was signed for every page")
	}
	s.clock.Advance(31 * time.Second)
	s.get(t, c, "/")
	if again := basket.last().Get(auth.HeaderIdentity); again == tok {
		t.Error("an assertion past half its life was reused")
	}
}

// L1: a service with identity: access_token gets the shopper's access
// token as a bearer token, which the provider accepts; an anonymous
// shopper's requests carry none.
func TestAccessTokenIdentity(t *testing.T) {
	s := newSigninShop(t, signinOptions{searchIdentity: "access_token"})
	search, _ := s.teams()
	s.get(t, s.shopper(t), "/")
	if got := search.last().Get("Authorization"); got != "" {
		t.Errorf("anonymous: search got Authorization %q", got)
	}
	c := s.shopper(t)
	s.signIn(t, c, "/", "ada", "ada-pass")
	bearer := search.last().Get("Authorization")
	if !strings.HasPrefix(bearer, "Bearer ") || search.last().Get(auth.HeaderIdentity) != "" {
		t.Fatalf("search got Authorization %q", bearer)
	}
	req, _ := http.NewRequest(http.MethodGet, s.op.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", bearer)
	resp, body := do(t, s.op.srv.Client(), req)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"sub-ada"`) {
		t.Errorf("the provider does not accept the token: %d %s", resp.StatusCode, body)
	}
	// On the gateway too.
	s.get(t, c, "/search/q")
	if got := search.last().Get("Authorization"); got != bearer {
		t.Errorf("gateway: search got Authorization %q", got)
	}
}

// L1: a shop reached by another of its names (localhost for 127.0.0.1)
// sends a sign-in to the public_url's origin first, so that the flow's
// cookie is set where the provider sends the shopper back; otherwise the
// callback would find no state and refuse the sign-in.
func TestSignInStartsOnThePublicOrigin(t *testing.T) {
	s := newSigninShop(t, signinOptions{extra: "hosts: [127.0.0.1, localhost]\n"})
	u, _ := url.Parse(s.URL)
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/-/auth/login?next=/account", nil)
	req.Host = "localhost:" + u.Port()
	resp, _ := do(t, noFollow(s.shopper(t)), req)
	loc := resp.Header.Get("Location")
	if want := s.URL + "/-/auth/login?next=%2Faccount"; resp.StatusCode != http.StatusFound || loc != want {
		t.Errorf("login on localhost: %d to %q, want 302 to %q", resp.StatusCode, loc, want)
	}
	if len(resp.Cookies()) != 0 {
		t.Errorf("login on localhost set cookies %v on the wrong origin", resp.Cookies())
	}
}
