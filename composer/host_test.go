package composer

// Rows S5 and S6 of docs/fault-matrix.md: the shopper's Host, and the
// host of an absolute-form request target, never reach another shopper.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/inlayhq/inlay/fragments/guard"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// contractTeam is a team that follows the fragment contract: it builds an
// absolute link from X-Inlay-Base-URL, in a fragment every shopper may
// share for a minute. It counts its requests.
func contractTeam(t *testing.T, hits *atomic.Int64) *teamtest.Team {
	return teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=60")
		fmt.Fprintf(w, `<script src="%s/app.js"></script>`, baseURLOf(r))
	})
}

// baseURLOf returns a fragment request's X-Inlay-Base-URL, however its
// name is spelled (an in-memory transport hands the header map on as
// Inlay wrote it).
func baseURLOf(r *http.Request) string {
	for name, v := range r.Header {
		if strings.EqualFold(name, HeaderBaseURL) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// hostShop is a shop whose one page shows the contract team's fragment.
func hostShop(t *testing.T, extra string, hits *atomic.Int64) *shop {
	return newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": contractTeam(t, hits)},
		layouts:  map[string]string{"p.html": pageHead + `<fragment src="team:/assets" primary></fragment>` + pageTail},
		pages:    "  - path: /\n    layout: p.html",
		gateway:  "  - prefix: /api/\n    service: team",
		extra:    extra,
	})
}

// S5, S6: a shopper who names another host, in Host or in an absolute-form
// request line sent on a raw connection, never makes a later shopper's page
// name that host. With hosts set, the request gets 421 and nothing is
// fetched. Without hosts or public_url it is served, but the base URL made
// from its host is part of the fragment's cache key: it has a cache entry
// of its own, which no other host reads.
func TestShopperHostCannotPoisonTheCache(t *testing.T) {
	attacks := []struct {
		name, raw string
	}{
		// S5
		{"Host header", "GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"},
		{"Host header in capitals", "GET / HTTP/1.1\r\nHost: EVIL.example:8080\r\nConnection: close\r\n\r\n"},
		// S6: the target's host wins over the Host header (RFC 9112 §3.2.2).
		{"absolute-form target", "GET http://evil.example/ HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n"},
	}
	configs := []struct {
		name, extra string
		status      int // the attack's
	}{
		{"with hosts", "hosts: [shop.example]\n", http.StatusMisdirectedRequest},
		{"without hosts or public_url", "", http.StatusOK},
	}
	const shopper = "GET / HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n"
	const want = `<script src="http://shop.example/app.js"></script>`
	for _, cfg := range configs {
		for _, at := range attacks {
			t.Run(cfg.name+"/"+at.name, func(t *testing.T) {
				var hits atomic.Int64
				s := hostShop(t, cfg.extra, &hits)
				addr := s.Listener.Addr().String()

				resp, body := rawRequest(t, addr, at.raw)
				if resp.StatusCode != cfg.status {
					t.Fatalf("attack: got status %d, want %d: %q", resp.StatusCode, cfg.status, body)
				}
				if cfg.status == http.StatusMisdirectedRequest {
					if n := hits.Load(); n != 0 {
						t.Errorf("attack answered 421 after %d fragment fetches, want none", n)
					}
					if strings.Contains(body, "evil") {
						t.Errorf("the 421 answer echoes the host: %q", body)
					}
				}
				for i := range 3 {
					resp, body := rawRequest(t, addr, shopper)
					if resp.StatusCode != http.StatusOK {
						t.Fatalf("shopper %d: got status %d, want 200", i+1, resp.StatusCode)
					}
					if strings.Contains(strings.ToLower(body), "evil") || !strings.Contains(body, want) {
						t.Fatalf("shopper %d after the attack: got %q, want the page with %q", i+1, body, want)
					}
				}
				// The shopper's copy is cached as before: one fetch for
				// the shoppers, one for the attack when it was served.
				wantHits := int64(1)
				if cfg.status == http.StatusOK {
					wantHits = 2
				}
				if n := hits.Load(); n != wantHits {
					t.Errorf("fragment fetches: got %d, want %d", n, wantHits)
				}
			})
		}
	}
}

// S5: with public_url set, the base URL is the same for every shopper and
// the key is the plain one: shoppers naming different hosts share one
// entry, and the attack's host reaches no fragment.
func TestPublicURLKeepsOneCacheEntryWhateverTheHost(t *testing.T) {
	var hits atomic.Int64
	s := hostShop(t, "public_url: https://shop.example\nhosts: [shop.example, www.shop.example]\n", &hits)
	addr := s.Listener.Addr().String()
	for _, host := range []string{"shop.example", "www.shop.example:8080", "SHOP.EXAMPLE."} {
		resp, body := rawRequest(t, addr, "GET / HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<script src="https://shop.example/app.js">`) {
			t.Fatalf("Host %s: got %d %q, want 200 with the public_url's link", host, resp.StatusCode, body)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("fragment fetches: got %d, want 1 (one entry for every allowed host)", n)
	}
}

// S5 (synctest): a stale-while-revalidate refresh runs with the request of
// the shopper who found the copy stale. Without hosts or public_url, the
// attack's host keys its own entry: it never finds the shoppers' stale
// copy, so it never refreshes it with its base URL.
func TestStaleWhileRevalidateRefreshCannotCarryAHost(t *testing.T) {
	memTest(t, func(t *testing.T, way memWay) {
		var hits atomic.Int64
		box := func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			htmlHandler(0, fmt.Sprintf(`<script src="%s/app.js"></script>`, baseURLOf(r)),
				"Cache-Control", "public, max-age=1, stale-while-revalidate=600")(w, r)
		}
		s := newMemShop(t, way, shopConfig{
			layouts: map[string]string{"p.html": fmt.Sprintf(faultLayout, "")},
			pages:   "  - path: /\n    layout: p.html",
		}, map[string]http.HandlerFunc{"shell": htmlHandler(0, "<h1>main</h1>"), "box": box}, guard.Config{Failures: 100})
		get := func(host string) string {
			req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/", nil)
			req.Host = host
			rec := httptest.NewRecorder()
			s.inlay.ServeHTTP(rec, req)
			body, _ := io.ReadAll(rec.Result().Body)
			return string(body)
		}
		const shopLink = `<script src="http://shop.example/app.js"></script>`
		if body := get("shop.example"); body != boxPage(shopLink) {
			t.Fatalf("first page: got %q", body)
		}
		for round := range 3 {
			synctest.Wait()
			time.Sleep(2 * time.Second) // the copies are stale now
			get("evil.example")
			synctest.Wait() // any refresh the attack started is done
			for i := range 2 {
				if body := get("shop.example"); body != boxPage(shopLink) {
					t.Fatalf("round %d, shopper %d after the attack: got %q, want %q", round+1, i+1, body, boxPage(shopLink))
				}
				synctest.Wait()
			}
		}
	})
}

// S5: the probes answer whatever host the request names, since load
// balancers and Kubernetes send them to the pod's address; every other
// path, static files and unknown paths included, gets 421 for a host not
// in hosts. Dev mode answers on the loopback names too.
func TestHostsAllowlist(t *testing.T) {
	cases := []struct {
		name, extra, host, path string
		want                    int
	}{
		{"health on the pod address", "hosts: [shop.example]\n", "10.1.2.3:8080", "/-/health", 200},
		{"ready on the pod address", "hosts: [shop.example]\n", "10.1.2.3:8080", "/-/ready", 200},
		{"health on any name", "hosts: [shop.example]\n", "evil.example", "/-/health", 200},
		{"page on the pod address", "hosts: [shop.example]\n", "10.1.2.3:8080", "/", 421},
		{"static file", "hosts: [shop.example]\n", "evil.example", "/-/static/inlay.css", 421},
		{"unknown path", "hosts: [shop.example]\n", "evil.example", "/nowhere", 421},
		{"gateway route", "hosts: [shop.example]\n", "evil.example", "/api/cart", 421},
		{"gateway route, allowed", "hosts: [shop.example]\n", "shop.example", "/api/cart", 200},
		{"a path under a probe's", "hosts: [shop.example]\n", "evil.example", "/-/health/x", 421},
		{"allowed, any port", "hosts: [shop.example]\n", "shop.example:8443", "/", 200},
		{"allowed, case and final dot", "hosts: [Shop.Example]\n", "SHOP.example.", "/", 200},
		{"pinned port", "hosts: [\"shop.example:8443\"]\n", "shop.example:8443", "/", 200},
		{"other port than the pinned one", "hosts: [\"shop.example:8443\"]\n", "shop.example:8080", "/", 421},
		{"no port where one is pinned", "hosts: [\"shop.example:8443\"]\n", "shop.example", "/", 421},
		{"subdomain", "hosts: [shop.example]\n", "www.shop.example", "/", 421},
		{"IPv6", "hosts: [\"[::1]\"]\n", "[::1]:8080", "/", 200},
		{"default from public_url", "public_url: https://shop.example\n", "shop.example", "/", 200},
		{"other host than public_url's", "public_url: https://shop.example\n", "evil.example", "/", 421},
		{"dev mode on localhost", "dev: true\nhosts: [shop.example]\n", "localhost:8080", "/", 200},
		{"dev mode on 127.0.0.1", "dev: true\npublic_url: https://shop.example\n", "127.0.0.1:8080", "/", 200},
		{"dev mode on ::1", "dev: true\nhosts: [shop.example]\n", "[::1]:8080", "/", 200},
		{"dev mode, another host", "dev: true\nhosts: [shop.example]\n", "evil.example", "/", 421},
		{"no hosts, no public_url", "", "evil.example", "/", 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int64
			s := hostShop(t, tc.extra, &hits)
			s.inlay.SetReady(true)
			resp, body := rawRequest(t, s.Listener.Addr().String(), "GET "+tc.path+" HTTP/1.1\r\nHost: "+tc.host+"\r\nConnection: close\r\n\r\n")
			if resp.StatusCode != tc.want {
				t.Fatalf("GET %s, Host %s: got %d %q, want %d", tc.path, tc.host, resp.StatusCode, body, tc.want)
			}
			if tc.want == http.StatusMisdirectedRequest {
				if n := hits.Load(); n != 0 {
					t.Errorf("%d fragment fetches for a 421, want none", n)
				}
				if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("421 Cache-Control %q, want no-store", cc)
				}
			}
		})
	}
}

// S5: only a fragment sent X-Inlay-Base-URL is keyed by it: a service with
// context: false gets no base URL, and its fragment is one entry whatever
// the host.
func TestHostKeyOnlyForFragmentsSentTheBaseURL(t *testing.T) {
	var hits atomic.Int64
	team := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if v := r.Header.Get(HeaderBaseURL); v != "" {
			t.Errorf("a context: false service got %s: %s", HeaderBaseURL, v)
		}
		teamtest.Fragment("<p>same for all</p>", "public, max-age=60")(w, r)
	})
	s := newShop(t, shopConfig{
		services:    map[string]*teamtest.Team{"team": team},
		serviceYAML: map[string]string{"team": "    context: false\n"},
		layouts:     map[string]string{"p.html": pageHead + `<fragment src="team:/f" primary></fragment>` + pageTail},
		pages:       "  - path: /\n    layout: p.html",
	})
	for _, host := range []string{"shop.example", "evil.example", "www.shop.example:8080"} {
		resp, body := rawRequest(t, s.Listener.Addr().String(), "GET / HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<p>same for all</p>") {
			t.Fatalf("Host %s: got %d %q", host, resp.StatusCode, body)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("fragment fetches: got %d, want 1 (one entry for every host)", n)
	}
}
