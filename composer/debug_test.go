package composer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inlayhq/inlay/teams/teamtest"
)

func debugShop(t *testing.T, extra string) *shop {
	t.Helper()
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/main": {Body: "<h1>main</h1>", Header: map[string]string{"Cache-Control": "max-age=60", "X-Fragment-Version": "2024.1"}},
		"/side": {Status: 500},
	})
	return newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts:  map[string]string{"p.html": pageHead + `<fragment id="main" src="team:/main" primary></fragment><fragment id="side" src="team:/side">fallback</fragment>` + pageTail},
		pages:    "  - path: /\n    layout: p.html",
		extra:    extra,
	})
}

// S7: in dev mode ?inlay-debug=1 shows the debug view, with no token;
// outside it, only the configured token does, and 1 never.
func TestDebugView(t *testing.T) {
	cases := []struct {
		name, extra, query string
		shown              bool
	}{
		{"dev mode", "dev: true\n", "?inlay-debug=1", true},
		{"production without token", "", "?inlay-debug=1", false},
		{"production with the token", "debug_token: 9c1f5e2b7a3d8e60f4b1\n", "?inlay-debug=9c1f5e2b7a3d8e60f4b1", true},
		{"production with a wrong token", "debug_token: 9c1f5e2b7a3d8e60f4b1\n", "?inlay-debug=guess", false},
		{"token configured but 1 outside dev", "debug_token: 9c1f5e2b7a3d8e60f4b1\n", "?inlay-debug=1", false},
		{"dev mode without the parameter", "dev: true\n", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := debugShop(t, tc.extra)
			resp, body := s.get(t, "/"+tc.query)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			shown := strings.Contains(body, `id="inlay-debug-data"`)
			if shown != tc.shown {
				t.Fatalf("debug view shown %v, want %v: %s", shown, tc.shown, body)
			}
			if !shown {
				return
			}
			for _, want := range []string{
				`<!--inlay-debug:0--><h1>main</h1><!--/inlay-debug:0-->`,
				`<!--inlay-debug:1-->fallback<!--/inlay-debug:1-->`,
				`{"id":"main","service":"team","status":"200","duration":"`,
				`"cache":"miss","tier":"origin","breaker":"closed","version":"2024.1"}`,
				`{"id":"side","service":"team","status":"failed","duration":"`,
				`"shown":"inline fallback","reason":"`, `status 500`, `"degraded":true}`,
				`<link rel="stylesheet" href="/-/static/inlay.`,
				`<script src="/-/static/inlay-debug.`,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("debug view lacks %q: %s", want, body)
				}
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("debug view Cache-Control %q, want no-store", resp.Header.Get("Cache-Control"))
			}
		})
	}
}

func TestDevOverlayShowsLayoutProblems(t *testing.T) {
	for _, dev := range []bool{true, false} {
		team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/main": {Body: "<h1>main</h1>"}})
		sc := shopConfig{
			services: map[string]*teamtest.Team{"team": team},
			layouts:  map[string]string{"p.html": pageHead + `<fragment src="team:/main" primary></fragment>` + pageTail},
			pages:    "  - path: /\n    layout: p.html",
		}
		if dev {
			sc.extra = "dev: true\n"
		}
		s, dir := newShopOnDisk(t, sc)
		layout := filepath.Join(dir, "p.html")
		if err := os.WriteFile(layout, []byte(pageHead+"\n<fragment src=\"team:/main\" primary tiemout=\"1s\"></fragment>"+pageTail), 0o644); err != nil {
			t.Fatal(err)
		}
		if ps := s.inlay.Layouts().Reload(); len(ps) != 1 {
			t.Fatalf("reload problems %v, want one", ps)
		}
		_, body := s.get(t, "/")
		if !strings.Contains(body, "<h1>main</h1>") {
			t.Errorf("dev=%v: the last good layout is not serving: %s", dev, body)
		}
		overlay := strings.Contains(body, "data-inlay-overlay")
		if overlay != dev {
			t.Errorf("dev=%v: overlay shown %v", dev, overlay)
		}
		if dev && !strings.Contains(body, `p.html:2:36</code> unknown attribute &#34;tiemout&#34;`) {
			t.Errorf("overlay lacks the problem with its position: %s", body)
		}
		if dev && strings.Index(body, "data-inlay-overlay") > strings.Index(body, "</body>") {
			t.Errorf("overlay after </body>")
		}
		// The excerpt shows the line with the mistake and marks its column.
		if dev && !strings.Contains(body, `<div class="inlay-overlay-line inlay-overlay-caret">     |                                    ^</div>`) {
			t.Errorf("overlay lacks the caret under column 36: %s", body)
		}
		if script := strings.Contains(body, "/-/static/inlay-dev."); script != dev {
			t.Errorf("dev=%v: live-reload script on the page %v", dev, script)
		}
	}
}
