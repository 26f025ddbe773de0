package composer

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/inlayhq/inlay/composer/auth"
	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/fragments/shared/redistest"
)

// L12: Three replicas on one real redis-server: any replica serves the
// session, 50 parallel requests on the three with an expired access
// token send the rotating refresh token once, and a logout on one ends
// the session on all.
func TestSignInReplicasOnSharedTier(t *testing.T) {
	rs := redistest.Start(t)
	key := make([]byte, auth.KeySize)
	_, _ = rand.Read(key)
	t.Setenv(config.EnvSessionKeys, base64.StdEncoding.EncodeToString(key))

	srvs := []*httptest.Server{httptest.NewUnstartedServer(nil), httptest.NewUnstartedServer(nil), httptest.NewUnstartedServer(nil)}
	var urls []string
	for _, srv := range srvs {
		urls = append(urls, "https://127.0.0.1:"+portOf(srv))
	}
	op := startOP(t, urls...)
	clock := &testClock{}
	extra := "cache:\n  shared:\n    url: " + rs.URL("") + "\n    timeout: 500ms\n"
	var replicas []*signinShop
	for _, srv := range srvs {
		replicas = append(replicas, newSigninShop(t, signinOptions{op: op, srv: srv, clock: clock, extra: extra}))
	}
	c := replicas[0].shopper(t)
	replicas[0].signIn(t, c, "/", "ada", "ada-pass")
	for i, r := range replicas {
		if resp, body := r.get(t, c, "/-/auth/me"); resp.StatusCode != http.StatusOK {
			t.Fatalf("replica %d does not serve the session: %d %s", i, resp.StatusCode, body)
		}
	}

	// The access token (5 minutes at this provider) has expired: every
	// request needs the refreshed one.
	clock.Advance(5*time.Minute + time.Second)
	uses := op.RefreshUses()
	var wg sync.WaitGroup
	codes := make([]int, 50)
	for i := range codes {
		wg.Go(func() {
			resp, err := c.Get(replicas[i%3].URL + "/-/auth/me")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusOK {
			t.Errorf("request %d on replica %d: %d", i, i%3, code)
		}
	}
	if got := op.RefreshUses() - uses; got != 1 {
		t.Errorf("the refresh token was sent %d times for 50 parallel requests on 3 replicas, want 1", got)
	}
	t.Logf("refresh-token uses for 50 parallel requests on 3 replicas: %d", op.RefreshUses()-uses)

	// Logout on the third replica ends the session on all.
	if resp, _ := replicas[2].post(t, noFollow(c), "/-/auth/logout", "Origin", replicas[2].URL); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	for i, r := range replicas {
		if resp, _ := r.get(t, c, "/-/auth/me"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("replica %d still serves the session after logout: %d", i, resp.StatusCode)
		}
	}
}

// L12: In one process, 50 parallel requests refresh once too.
func TestSignInRefreshOnceInProcess(t *testing.T) {
	s := newSigninShop(t, signinOptions{})
	c := s.shopper(t)
	s.signIn(t, c, "/", "ada", "ada-pass")
	s.clock.Advance(5*time.Minute + time.Second)
	uses := s.op.RefreshUses()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			resp, err := c.Get(s.URL + "/-/auth/me")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("me: %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if got := s.op.RefreshUses() - uses; got != 1 {
		t.Errorf("refresh token sent %d times, want 1", got)
	}
}
