package composer

import (
	"net/http"
	"strings"
	"testing"

	"github.com/inlayhq/inlay/teams/teamtest"
)

// errorShop serves / from a primary that fails with 500, and error pages
// from layouts that use a base layout and the shell's fragment.
func errorShop(t *testing.T, extra string) *shop {
	t.Helper()
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/main":   {Status: 500},
		"/header": {Body: `<nav id="nav">Shop navigation</nav>`},
		"/error":  {Body: `<p id="team-error">sorry</p>`},
		"/gone":   {Status: 404, Body: `<p>no such product</p>`},
		"/buy":    {Body: `<button id="buy">Add to basket</button>`},
	})
	base := `<!DOCTYPE html><html><head><title><slot name="title">Shop</slot></title></head><body>` +
		`<fragment id="header" src="team:/header"></fragment><main><slot name="main"></slot></main></body></html>`
	return newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts: map[string]string{
			"base.html":      base,
			"p.html":         pageHead + `<fragment id="main" src="team:/main" primary></fragment>` + pageTail,
			"product.html":   pageHead + `<fragment id="product" src="team:/gone" primary></fragment><fragment id="buy" src="team:/buy"></fragment>` + pageTail,
			"not-found.html": `<layout base="base.html"><fill slot="title">Not found</fill><fill slot="main"><h1 id="status">Error {status}</h1><p id="rid">{request_id}</p></fill></layout>`,
			"error.html":     `<layout base="base.html"><fill slot="main"><h1 id="status">Error {status}</h1><fragment id="why" src="team:/error?status={status}"></fragment></fill></layout>`,
		},
		pages: "  - path: /\n    layout: p.html\n  - path: /product/{sku}\n    layout: product.html",
		extra: "error_pages:\n  \"404\": not-found.html\n  \"5xx\": error.html\n" + extra,
	})
}

func TestErrorPagesFromLayouts(t *testing.T) {
	s := errorShop(t, "")
	cases := []struct {
		name, path string
		status     int
		want       []string
	}{
		{"unknown path", "/nope", 404, []string{`<nav id="nav">Shop navigation</nav>`, `<h1 id="status">Error 404</h1>`, `<p id="rid">rid-1</p>`, `<title>Not found</title>`}},
		{"primary not found", "/product/nope", 404, []string{`<h1 id="status">Error 404</h1>`, `<nav id="nav">Shop navigation</nav>`}},
		{"primary failed", "/", 502, []string{`<nav id="nav">Shop navigation</nav>`, `<h1 id="status">Error 502</h1>`, `<p id="team-error">sorry</p>`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := s.get(t, tc.path, "X-Request-Id", "rid-1")
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("error page lacks %q:\n%s", w, body)
				}
			}
			if strings.Contains(body, `id="buy"`) || strings.Contains(body, "no such product") {
				t.Errorf("error page carries the failed page's boxes:\n%s", body)
			}
			if strings.Contains(body, "data-inlay-error-detail") {
				t.Errorf("error details outside dev mode:\n%s", body)
			}
		})
	}
}

// TestErrorPageDetailsInDevMode: in dev mode the error page names the
// failing fragment, its service and the reason.
func TestErrorPageDetailsInDevMode(t *testing.T) {
	s := errorShop(t, "dev: true\n")
	resp, body := s.get(t, "/")
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", resp.StatusCode)
	}
	for _, w := range []string{`data-inlay-error-detail`, `fragment <code>main</code> of service <code>team</code> failed: `, `status 500`, `<h1 id="status">Error 502</h1>`} {
		if !strings.Contains(body, w) {
			t.Errorf("dev error page lacks %q:\n%s", w, body)
		}
	}
}

// TestErrorPageFallsBackToTheBuiltInPage: an error page whose layout is
// gone is answered with the built-in page, with the right status.
func TestErrorPageFallsBackToTheBuiltInPage(t *testing.T) {
	s := errorShop(t, "")
	s.inlay.cfg.ErrorPages["404"] = "gone.html" // as if its file had never loaded
	resp, body := s.get(t, "/nope")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "Page not found") {
		t.Errorf("status %d, body %s: want the built-in 404 page", resp.StatusCode, body)
	}
	if !strings.Contains(s.logText(), "error page layout failed") {
		t.Errorf("no log line for the failed error page: %s", s.logText())
	}
}

// TestErrorPageLayoutChecks: an error page whose layout is missing or has
// a primary fragment stops the server from starting.
func TestErrorPageLayoutChecks(t *testing.T) {
	for name, layouts := range map[string]map[string]string{
		"missing":      {"p.html": pageHead + pageTail},
		"with primary": {"p.html": pageHead + pageTail, "e.html": `<fragment src="team:/x" primary></fragment>`},
	} {
		t.Run(name, func(t *testing.T) {
			sc := shopConfig{
				services: map[string]*teamtest.Team{"team": teamtest.NewRoutes(t, nil)},
				layouts:  layouts,
				pages:    "  - path: /\n    layout: p.html",
				extra:    "error_pages:\n  \"5xx\": e.html\n",
			}
			cfg, fsys := sc.parse(t, map[string]string{"team": "http://127.0.0.1:1"})
			_, err := New(cfg, Options{LayoutFS: fsys})
			if err == nil || !strings.Contains(err.Error(), `error page "5xx"`) {
				t.Errorf("New: %v, want an error page problem", err)
			}
		})
	}
}

// TestDevErrorPreview: in dev mode, /-/dev/error?status=N shows the error
// page of status N, composed from its layout, without anything failing;
// a bad status is a 400, and outside dev mode the path is unknown.
func TestDevErrorPreview(t *testing.T) {
	dev := errorShop(t, "dev: true\n")
	cases := []struct {
		query  string
		status int
		want   string
	}{
		{"?status=502", 502, `<h1 id="status">Error 502</h1>`},
		{"?status=503", 503, `<h1 id="status">Error 503</h1>`},
		{"?status=504", 504, `<h1 id="status">Error 504</h1>`},
		{"?status=404", 404, `<h1 id="status">Error 404</h1>`},
		{"?status=200", 400, "want ?status="},
		{"?status=abc", 400, "want ?status="},
		{"", 400, "want ?status="},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			resp, body := dev.get(t, "/-/dev/error"+tc.query)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if !strings.Contains(body, tc.want) {
				t.Errorf("body lacks %q:\n%s", tc.want, body)
			}
		})
	}
	prod := errorShop(t, "")
	if resp, body := prod.get(t, "/-/dev/error?status=502"); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "Error 502") {
		t.Errorf("outside dev mode: status %d, want 404 and no preview:\n%s", resp.StatusCode, body)
	}
}
