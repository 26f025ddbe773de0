package composer

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/teams/teamtest"
)

const asyncLayout = pageHead +
	`<fragment id="top" src="team:/slow" async placeholder-height="120px"><p>loading</p></fragment>` +
	`<main><fragment src="team:/main" primary></fragment></main>` +
	`<footer id="layout-end">end</footer></body></html>`

func asyncShop(t *testing.T, slow teamtest.Route, extraPage string) (*shop, *teamtest.Team) {
	t.Helper()
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/slow": slow,
		"/main": {Body: "<h1>main</h1>"},
	})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts:  map[string]string{"p.html": asyncLayout},
		pages:    "  - path: /\n    layout: p.html\n  - path: /ordered\n    layout: p.html\n    in_order: true" + extraPage,
	})
	return s, team
}

func TestAsyncFragmentStreamsAfterTheRestOfThePage(t *testing.T) {
	gate := make(chan struct{})
	s, _ := asyncShop(t, teamtest.Route{Body: `<div class="slow">late</div>`, Header: map[string]string{"Link": "</team/slow.css>; rel=stylesheet"}, Gate: gate}, "")
	resp, err := http.Get(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// Everything up to the end of the layout's footer arrives while the
	// async fragment is held.
	var got strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(got.String(), `<footer id="layout-end">end</footer>`) {
		n, err := resp.Body.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("page ended before its footer: %q (%v)", got.String(), err)
		}
	}
	first := got.String()
	if !strings.Contains(first, `<inlay-slot id="inlay-p-0" data-fragment="top" style="display:block;min-height:120px"><noscript><style>inlay-slot{min-height:0!important;animation:none!important;background:none!important}</style></noscript><p>loading</p></inlay-slot>`) {
		t.Errorf("no placeholder in %q", first)
	}
	if strings.Contains(first, "late") {
		t.Errorf("async content arrived before its fragment answered: %q", first)
	}
	close(gate)
	rest, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	nonce := regexp.MustCompile(`'nonce-([^']+)'`).FindStringSubmatch(resp.Header.Get("Content-Security-Policy"))
	if nonce == nil {
		t.Fatalf("no nonce in Content-Security-Policy %q", resp.Header.Get("Content-Security-Policy"))
	}
	want := `<link rel="stylesheet" href="/team/slow.css"><template id="inlay-t-0"><div class="slow">late</div></template><script nonce="` + nonce[1] + `">` + string(swapScript) + `inlaySwap(0)</script></body></html>`
	if string(rest) != want {
		t.Errorf("the rest of the page:\ngot  %q\nwant %q", rest, want)
	}
}

func TestAsyncFragmentsInOrderForCrawlersAndConfiguredPages(t *testing.T) {
	for _, tc := range []struct{ name, path, ua string }{
		{"crawler", "/", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"},
		{"in_order page", "/ordered", "Mozilla/5.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := asyncShop(t, teamtest.Route{Body: `<div class="slow">late</div>`}, "")
			resp, body := s.get(t, tc.path, "User-Agent", tc.ua)
			want := pageHead + `<div class="slow">late</div><main><h1>main</h1></main><footer id="layout-end">end</footer></body></html>`
			if body != want {
				t.Errorf("page:\ngot  %q\nwant %q", body, want)
			}
			if resp.Header.Get("Content-Security-Policy") != "" {
				t.Errorf("CSP %q on a page without inline script", resp.Header.Get("Content-Security-Policy"))
			}
		})
	}
}

func TestAsyncFragmentThatFailsKeepsItsPlaceholder(t *testing.T) {
	s, _ := asyncShop(t, teamtest.Route{Hang: true}, "")
	s.inlay.cfg.Services["team"].Timeout = config.Duration(100 * time.Millisecond)
	_, body := s.get(t, "/")
	if !strings.Contains(body, `<p>loading</p></inlay-slot>`) || strings.Contains(body, "<template") {
		t.Errorf("page %q, want the placeholder kept and no template", body)
	}
	if !strings.HasSuffix(body, "</footer></body></html>") {
		t.Errorf("page does not end with the layout's tail: %q", body)
	}
}

func TestAsyncFragmentReadyInTimeIsWrittenInPlace(t *testing.T) {
	// A fresh cache entry is known before the page's headers leave, so
	// the async box has its content when the stream reaches it: no
	// placeholder, no template, no script.
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/slow": {Body: "<b>quick</b>", Header: map[string]string{"Cache-Control": "max-age=60"}},
		"/main": {Body: "<h1>main</h1>"},
	})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts:  map[string]string{"p.html": asyncLayout},
		pages:    "  - path: /\n    layout: p.html",
	})
	s.get(t, "/") // fills the cache
	resp, body := s.get(t, "/")
	want := pageHead + `<b>quick</b><main><h1>main</h1></main><footer id="layout-end">end</footer></body></html>`
	if body != want {
		t.Errorf("page:\ngot  %q\nwant %q", body, want)
	}
	if n := len(team.RequestsTo("/slow")); n != 1 {
		t.Errorf("/slow fetched %d times, want 1 (the second page from the cache)", n)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); csp != "" {
		t.Errorf("CSP %q on a page without inline script", csp)
	}
}

func TestSeveralAsyncFragmentsFinishInAnyOrder(t *testing.T) {
	gates := map[string]chan struct{}{"/a": make(chan struct{}), "/b": make(chan struct{}), "/c": make(chan struct{})}
	routes := map[string]teamtest.Route{"/main": {Body: "M"}}
	for p, g := range gates {
		routes[p] = teamtest.Route{Body: "<i>" + p[1:] + "</i>", Gate: g}
	}
	team := teamtest.NewRoutes(t, routes)
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts: map[string]string{"p.html": pageHead + `<fragment src="team:/a" async></fragment><fragment src="team:/b" async></fragment>` +
			`<fragment src="team:/c" async></fragment><fragment src="team:/main" primary></fragment></body>`},
		pages: "  - path: /\n    layout: p.html",
	})
	resp, err := http.Get(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	readUntil := func(marker string) string {
		t.Helper()
		var got strings.Builder
		buf := make([]byte, 1)
		for !strings.HasSuffix(got.String(), marker) {
			if _, err := resp.Body.Read(buf); err != nil {
				t.Fatalf("stream ended before %q: %q", marker, got.String())
			}
			got.Write(buf)
		}
		return got.String()
	}
	readUntil("M")
	for _, p := range []string{"/c", "/a", "/b"} {
		close(gates[p])
		got := readUntil("inlaySwap(" + map[string]string{"/a": "0", "/b": "1", "/c": "2"}[p] + ")</script>")
		if !strings.Contains(got, "<i>"+p[1:]+"</i>") {
			t.Errorf("after releasing %s got %q", p, got)
		}
	}
	if rest, _ := io.ReadAll(resp.Body); string(rest) != "</body>" {
		t.Errorf("tail %q", rest)
	}
}

// TestEarlyHints checks that a 103 announcing the cached fragments'
// stylesheets is sent while the primary is fetched with early_hints on,
// and that none is sent by default: Inlay speaks HTTP/1.1, where browsers
// ignore a 103 and a cache in front may fail the page on one (C13).
func TestEarlyHints(t *testing.T) {
	for _, tc := range []struct {
		name, extra string
		want103     bool
	}{
		{"off by default", "", false},
		{"on", "early_hints: true\n", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gate := make(chan struct{})
			team := teamtest.NewRoutes(t, map[string]teamtest.Route{
				"/header": {Body: "H", Header: map[string]string{"Link": "</team/h.css>; rel=stylesheet", "Cache-Control": "max-age=60"}},
				"/main":   {Body: "M", Gate: gate},
			})
			s := newShop(t, shopConfig{
				services: map[string]*teamtest.Team{"team": team},
				layouts:  map[string]string{"p.html": pageHead + `<fragment src="team:/header"></fragment><fragment src="team:/main" primary></fragment></body>`},
				pages:    "  - path: /\n    layout: p.html",
				extra:    tc.extra,
			})
			close(gate)
			s.get(t, "/") // fills the cache

			// The primary is held until a 103 comes or, without one, until
			// the team has its request. Either way the page reads the
			// primary's answer only after it has decided on a 103.
			gate2, arrived := make(chan struct{}), make(chan string, 1)
			team.Route("/main", teamtest.Route{Body: "M", Gate: gate2, Arrived: arrived})
			var release sync.Once
			hints := make(chan http.Header, 1)
			trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
				if code == http.StatusEarlyHints {
					hints <- http.Header(h)
					release.Do(func() { close(gate2) })
				}
				return nil
			}}
			if !tc.want103 {
				go func() {
					<-arrived
					release.Do(func() { close(gate2) })
				}()
			}
			req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, s.URL+"/", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			select {
			case h := <-hints:
				if !tc.want103 {
					t.Fatalf("a 103 with Link %q, though early_hints is not set", h.Get("Link"))
				}
				if got := h.Get("Link"); got != "</team/h.css>; rel=preload; as=style" {
					t.Errorf("103 Link %q", got)
				}
			default:
				if tc.want103 {
					t.Fatal("no 103 Early Hints before the primary answered")
				}
			}
			if resp.StatusCode != 200 {
				t.Errorf("final status %d", resp.StatusCode)
			}
		})
	}
}
