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

// TestDebugCookie (issue 25, finding 4): in dev mode ?inlay-debug=1 sets a
// cookie that keeps the debug view on for the pages that follow, and
// ?inlay-debug=0 clears it. Outside dev mode the cookie does nothing and
// is never set: only the token shows the view.
func TestDebugCookie(t *testing.T) {
	cases := []struct {
		name, extra, query, cookie string
		shown                      bool
		setCookie                  string
	}{
		{"dev: the parameter sets it", "dev: true\n", "?inlay-debug=1", "", true, "inlay-debug=1; Path=/; SameSite=Lax"},
		{"dev: the cookie alone", "dev: true\n", "", "inlay-debug=1", true, ""},
		{"dev: 0 clears it", "dev: true\n", "?inlay-debug=0", "inlay-debug=1", false, "inlay-debug=; Path=/; Max-Age=0; SameSite=Lax"},
		{"dev: another value of the cookie", "dev: true\n", "", "inlay-debug=yes", false, ""},
		{"production: the cookie is ignored", "", "", "inlay-debug=1", false, ""},
		{"production: 1 sets nothing", "", "?inlay-debug=1", "", false, ""},
		{"production with the token: no cookie", "debug_token: 4c1d2e8b9f0a7c6d5e4f3a2b1c0d9e8f\n", "?inlay-debug=4c1d2e8b9f0a7c6d5e4f3a2b1c0d9e8f", "", true, ""},
		{"production with the token: the cookie is ignored", "debug_token: 4c1d2e8b9f0a7c6d5e4f3a2b1c0d9e8f\n", "", "inlay-debug=1", false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := debugShop(t, tc.extra)
			var header []string
			if tc.cookie != "" {
				header = []string{"Cookie", tc.cookie}
			}
			resp, body := s.get(t, "/"+tc.query, header...)
			if shown := strings.Contains(body, `id="inlay-debug-data"`); shown != tc.shown {
				t.Errorf("debug view shown %v, want %v", shown, tc.shown)
			}
			var set []string
			for _, c := range resp.Header.Values("Set-Cookie") {
				if strings.HasPrefix(c, DebugCookie+"=") {
					set = append(set, c)
				}
			}
			switch {
			case tc.setCookie == "" && len(set) > 0:
				t.Errorf("Set-Cookie %q, want none", set)
			case tc.setCookie != "" && (len(set) != 1 || set[0] != tc.setCookie):
				t.Errorf("Set-Cookie %q, want %q", set, tc.setCookie)
			}
		})
	}
}

// TestDebugInfoWords (issue 25, finding 4): a failed box's reason leaves
// out the fragment and service the view names already, a timeout says
// so, and the in-process tier is "memory", not "local".
func TestDebugInfoWords(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/main": {Body: "<h1>main</h1>", Header: map[string]string{"Cache-Control": "max-age=60"}},
		"/side": {Status: 500},
		"/slow": {Hang: true},
	})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts: map[string]string{"p.html": pageHead + `<fragment id="main" src="team:/main" primary></fragment>` +
			`<fragment id="side" src="team:/side">fallback</fragment><fragment id="slow" src="team:/slow" timeout="50ms">slow</fragment>` + pageTail},
		pages: "  - path: /\n    layout: p.html",
		extra: "dev: true\n",
	})
	s.get(t, "/") // the main box is in the cache from now on
	_, body := s.get(t, "/?inlay-debug=1")
	for _, want := range []string{
		`"cache":"hit","tier":"memory"`,
		`{"id":"side","service":"team","status":"failed",`, `"reason":"status 500"`,
		`{"id":"slow","service":"team","status":"timeout",`, `"reason":"timeout`,
		`"composed":"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("debug data lacks %q: %s", want, body)
		}
	}
	for _, unwanted := range []string{`"tier":"local"`, `"reason":"fragment `} {
		if strings.Contains(body, unwanted) {
			t.Errorf("debug data has %q: %s", unwanted, body)
		}
	}
}

// unclosedPage is a layout whose <div> (line 2, column 1) is never closed.
const unclosedPage = pageHead + "\n<div class=\"promo\">\n<fragment id=\"main\" src=\"team:/main\" primary></fragment>" + pageTail

// TestDevWarningsBadge (issue 25, finding 5): in dev mode, a page whose
// layout has a warning ends with a "1 warning" badge holding the code
// frame; a page without warnings, or outside dev mode, has none.
func TestDevWarningsBadge(t *testing.T) {
	for _, tc := range []struct {
		name, layout, extra string
		badge               bool
	}{
		{"dev, an unclosed div", unclosedPage, "dev: true\n", true},
		{"dev, a clean layout", pageHead + `<fragment id="main" src="team:/main" primary></fragment>` + pageTail, "dev: true\n", false},
		{"production, an unclosed div", unclosedPage, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/main": {Body: "<h1>main</h1>"}})
			s := newShop(t, shopConfig{
				services: map[string]*teamtest.Team{"team": team},
				layouts:  map[string]string{"p.html": tc.layout},
				pages:    "  - path: /\n    layout: p.html",
				extra:    tc.extra,
			})
			_, body := s.get(t, "/")
			if badge := strings.Contains(body, "data-inlay-warnings"); badge != tc.badge {
				t.Fatalf("warnings badge %v, want %v: %s", badge, tc.badge, body)
			}
			if !tc.badge {
				return
			}
			for _, want := range []string{
				`<summary class="inlay-warnings-badge">1 warning</summary>`,
				`p.html:2:1</code> &lt;div&gt; is never closed`,
				`<div class="inlay-overlay-line" data-error-line>   2 | &lt;div class=&#34;promo&#34;&gt;</div>`,
				`<div class="inlay-overlay-line inlay-overlay-caret">     | ^</div>`,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("badge lacks %q: %s", want, body)
				}
			}
			if strings.Contains(body, "data-inlay-overlay") {
				t.Errorf("a warning alone brought the overlay")
			}
		})
	}
}

// TestDevOverlayListsWarningsWithProblems (issue 25, finding 5): while a
// layout has problems, the overlay lists them and the layouts' warnings
// together, the broken file's own included; warnings are not held back.
func TestDevOverlayListsWarningsWithProblems(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/main": {Body: "<h1>main</h1>"}})
	s, dir := newShopOnDisk(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts:  map[string]string{"p.html": pageHead + `<fragment id="main" src="team:/main" primary></fragment>` + pageTail},
		pages:    "  - path: /\n    layout: p.html",
		extra:    "dev: true\n",
	})
	broken := pageHead + "\n<div class=\"promo\">\n<fragment id=\"main\" src=\"team:/main\" primary tiemout=\"1s\"></fragment>" + pageTail
	if err := os.WriteFile(filepath.Join(dir, "p.html"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	if ps := s.inlay.Layouts().Reload(); len(ps) != 1 {
		t.Fatalf("reload problems %v, want one", ps)
	}
	_, body := s.get(t, "/")
	overlay := body[strings.Index(body, "data-inlay-overlay"):]
	for _, want := range []string{
		`1 problem and 1 warning: the last good version is serving`,
		`data-severity="error"><h2><code class="inlay-overlay-file">` + filepath.Join(dir, "p.html") + `:3:46</code> unknown attribute`,
		`data-severity="warning"><h2><span class="inlay-overlay-severity">warning</span> <code class="inlay-overlay-file">` + filepath.Join(dir, "p.html") + `:2:1</code> &lt;div&gt; is never closed`,
	} {
		if !strings.Contains(overlay, want) {
			t.Errorf("overlay lacks %q: %s", want, overlay)
		}
	}
	if strings.Index(overlay, `data-severity="error"`) > strings.Index(overlay, `data-severity="warning"`) {
		t.Errorf("the warning comes before the problem")
	}
}
