package composer

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inlayhq/inlay/composer/auth"
)

// L9: A page that requires sign-in sends an anonymous shopper to the login,
// never stored; a signed-in one gets the page.
func TestRequiredPageRedirects(t *testing.T) {
	s := newSigninShop(t, signinOptions{})
	search, _ := s.teams()
	resp, _ := s.get(t, noFollow(s.shopper(t)), "/account?tab=orders")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/-/auth/login?next="+url.QueryEscape("/account?tab=orders") {
		t.Fatalf("anonymous /account: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	if search.hits.Load() != 0 {
		t.Error("a team was asked for a page the shopper may not see")
	}
	// An optional page serves anonymous shoppers as before.
	if resp, _ := s.get(t, s.shopper(t), "/"); resp.StatusCode != http.StatusOK {
		t.Errorf("anonymous /: %d", resp.StatusCode)
	}
}

// L9: A gateway route that requires sign-in answers 401 to an anonymous
// shopper. An unsafe request that would carry cookies or identity must
// come from the shop's own pages, or it gets 403 and the team is never
// called.
func TestGatewayRequiredSignInAndSameOrigin(t *testing.T) {
	s := newSigninShop(t, signinOptions{})
	_, basket := s.teams()
	anon := s.shopper(t)
	if resp, _ := s.get(t, anon, "/basket/items"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous GET on a required route: %d", resp.StatusCode)
	}
	c := s.shopper(t)
	s.signIn(t, c, "/", "ada", "ada-pass")
	before := basket.hits.Load()
	for _, h := range [][]string{
		nil,
		{"Origin", "https://evil.example"},
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site", "Origin", "https://sub.shop.example"},
	} {
		if resp, _ := s.post(t, c, "/basket/items", h...); resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST with %v: %d, want 403", h, resp.StatusCode)
		}
	}
	if basket.hits.Load() != before {
		t.Fatal("the team was called for a cross-site request")
	}
	for _, h := range [][]string{{"Sec-Fetch-Site", "same-origin"}, {"Origin", s.URL}} {
		resp, _ := s.post(t, c, "/basket/items", h...)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("POST with %v: %d, want 200", h, resp.StatusCode)
		}
	}
	tok := basket.last().Get(auth.HeaderIdentity)
	if _, err := s.verifier("basket").Verify(t.Context(), tok); err != nil {
		t.Errorf("basket's gateway assertion: %v", err)
	}
	if basket.last().Get("Cookie") != "" {
		t.Errorf("the session cookie reached the team: %q", basket.last().Get("Cookie"))
	}
}

// L10: Logout asks for a same-origin request, ends the session, and sends the
// shopper to the provider's end_session_endpoint.
func TestLogout(t *testing.T) {
	s := newSigninShop(t, signinOptions{})
	c := s.shopper(t)
	s.signIn(t, c, "/", "ada", "ada-pass")
	if resp, _ := s.post(t, c, "/-/auth/logout", "Origin", "https://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site logout: %d", resp.StatusCode)
	}
	if resp, _ := s.get(t, c, "/-/auth/me"); resp.StatusCode != http.StatusOK {
		t.Fatalf("a cross-site logout ended the session: %d", resp.StatusCode)
	}
	old := s.sessionCookie(c)
	resp, _ := s.post(t, noFollow(c), "/-/auth/logout", "Sec-Fetch-Site", "same-origin")
	loc, _ := resp.Location()
	if resp.StatusCode != http.StatusSeeOther || loc == nil || !strings.HasPrefix(loc.String(), s.op.issuer+"/end_session") || loc.Query().Get("id_token_hint") == "" {
		t.Fatalf("logout: %d to %v", resp.StatusCode, loc)
	}
	if resp, _ := s.get(t, c, "/-/auth/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("after logout: %d", resp.StatusCode)
	}
	// The old id, replayed, is no session any more.
	replay := s.shopper(t)
	u, _ := url.Parse(s.URL)
	replay.Jar.SetCookies(u, []*http.Cookie{old})
	if resp, _ := s.get(t, replay, "/-/auth/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the old session id still works: %d", resp.StatusCode)
	}
}

// L10: Back-channel logout: a logout token from the provider ends every
// session of its sub; a replayed or forged one is refused.
func TestBackChannelLogout(t *testing.T) {
	s := newSigninShop(t, signinOptions{})
	phone, laptop, other := s.shopper(t), s.shopper(t), s.shopper(t)
	s.signIn(t, phone, "/", "ada", "ada-pass")
	s.signIn(t, laptop, "/", "ada", "ada-pass")
	s.signIn(t, other, "/", "grace", "grace-pass")

	forged, err := startOP(t, s.URL).LogoutToken("sub-ada", "") // another provider's key
	if err != nil {
		t.Fatal(err)
	}
	backchannel := func(token string) int {
		resp, err := s.Client().PostForm(s.URL+"/-/auth/backchannel-logout", url.Values{"logout_token": {token}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := backchannel(forged); code != http.StatusBadRequest {
		t.Errorf("forged logout token: %d", code)
	}
	if resp, _ := s.get(t, phone, "/-/auth/me"); resp.StatusCode != http.StatusOK {
		t.Fatal("a forged logout token ended a session")
	}
	token, err := s.op.LogoutToken("sub-ada", "")
	if err != nil {
		t.Fatal(err)
	}
	if code := backchannel(token); code != http.StatusOK {
		t.Fatalf("logout token: %d", code)
	}
	for name, c := range map[string]*http.Client{"phone": phone, "laptop": laptop} {
		if resp, _ := s.get(t, c, "/-/auth/me"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s still signed in after back-channel logout", name)
		}
	}
	if resp, _ := s.get(t, other, "/-/auth/me"); resp.StatusCode != http.StatusOK {
		t.Error("another shopper's session ended")
	}
	if code := backchannel(token); code != http.StatusBadRequest {
		t.Errorf("replayed logout token: %d", code)
	}
	// A token naming a provider session Inlay has no sid for, and a sub,
	// ends the sessions of that sub.
	bySID, err := s.op.LogoutToken("sub-grace", "sid-unknown")
	if err != nil {
		t.Fatal(err)
	}
	if code := backchannel(bySID); code != http.StatusOK {
		t.Fatalf("logout token with sid: %d", code)
	}
	if resp, _ := s.get(t, other, "/-/auth/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Error("grace is still signed in after a logout token for her sub")
	}
}

// L11: With the provider down, anonymous pages serve as before, signed-in
// shoppers keep their sessions, and a sign-in attempt gets the error page
// from the layouts, not a hang.
func TestProviderDown(t *testing.T) {
	s := newSigninShop(t, signinOptions{})
	c := s.shopper(t)
	s.signIn(t, c, "/", "ada", "ada-pass")
	late := s.shopper(t)
	callback := s.submitLogin(t, late, s.startLogin(t, late, "/account"), "grace", "grace-pass")
	s.op.srv.CloseClientConnections()
	s.op.srv.Close()

	if resp, _ := s.get(t, s.shopper(t), "/"); resp.StatusCode != http.StatusOK {
		t.Errorf("anonymous page: %d", resp.StatusCode)
	}
	if resp, body := s.get(t, c, "/account"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "search /who") {
		t.Errorf("signed-in page: %d", resp.StatusCode)
	}
	// The provider went down between its login form and the code
	// exchange.
	resp, body := s.get(t, late, callback)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "Sorry, shop trouble") {
		t.Errorf("callback with the provider down: %d %s", resp.StatusCode, body)
	}

	// A shop that never reached its provider: discovery fails, the
	// shopper gets the error page.
	down := startOP(t)
	down.srv.Close()
	s2 := newSigninShop(t, signinOptions{op: down})
	resp, body = s2.get(t, noFollow(s2.shopper(t)), "/-/auth/login?next=/account")
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "Sorry, shop trouble") {
		t.Errorf("sign-in with the provider down: %d %s", resp.StatusCode, body)
	}
	if resp, _ := s2.get(t, s2.shopper(t), "/"); resp.StatusCode != http.StatusOK {
		t.Errorf("anonymous page of a shop whose provider is down: %d", resp.StatusCode)
	}
}

// L11: A provider that takes a call and never answers costs a sign-in its
// deadline, then the error page: never a hang.
func TestProviderCallsHaveDeadlines(t *testing.T) {
	s := newSigninShop(t, signinOptions{providerClient: &http.Client{Timeout: 200 * time.Millisecond}})
	c := s.shopper(t)
	callback := s.submitLogin(t, c, s.startLogin(t, c, "/account"), "ada", "ada-pass")
	s.op.hang.Store(true)
	resp, body := s.get(t, c, callback)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "Sorry, shop trouble") || s.sessionCookie(c) != nil {
		t.Errorf("callback with a provider that never answers: %d %s", resp.StatusCode, body)
	}
}

// L13: Idle and absolute lifetimes are enforced on the server, whatever the
// browser keeps.
func TestSessionLifetimes(t *testing.T) {
	s := newSigninShop(t, signinOptions{extra: "" /* idle 30m, max 12h by default */})
	idle := s.shopper(t)
	s.signIn(t, idle, "/", "ada", "ada-pass")
	busy := s.shopper(t)
	s.signIn(t, busy, "/", "grace", "grace-pass")
	s.clock.Advance(20 * time.Minute)
	if resp, _ := s.get(t, busy, "/-/auth/me"); resp.StatusCode != http.StatusOK {
		t.Fatalf("a session used within its idle time ended: %d", resp.StatusCode)
	}
	s.clock.Advance(11 * time.Minute)
	if resp, _ := s.get(t, idle, "/-/auth/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a session idle for 31m still works: %d", resp.StatusCode)
	}
	if resp, _ := s.get(t, busy, "/-/auth/me"); resp.StatusCode != http.StatusOK {
		t.Fatalf("a session used 11m ago ended: %d", resp.StatusCode)
	}
	// Used every 20 minutes, the session still ends 12h after sign-in.
	for elapsed := 31 * time.Minute; elapsed < 12*time.Hour-20*time.Minute; elapsed += 20 * time.Minute {
		s.clock.Advance(20 * time.Minute)
		if resp, _ := s.get(t, busy, "/-/auth/me"); resp.StatusCode != http.StatusOK {
			t.Fatalf("the session ended after %v: %d", elapsed+20*time.Minute, resp.StatusCode)
		}
	}
	s.clock.Advance(20 * time.Minute)
	if resp, _ := s.get(t, busy, "/-/auth/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a session past its 12h maximum still works: %d", resp.StatusCode)
	}
}
