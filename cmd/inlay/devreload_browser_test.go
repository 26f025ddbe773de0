package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/inlayhq/inlay/teams/teamtest"
)

const devBase = `<!DOCTYPE html>
<html><head><title>dev</title></head>
<body>
<main><slot name="main"></slot></main>
<footer><fragment id="footer" src="team:/footer"><p>footer</p></fragment></footer>
</body></html>
`

// devHome is the page layout that fills the base; heading varies per edit.
func devHome(heading string) string {
	return "<layout base=\"base.html\">\n<fill slot=\"main\">\n<h1 id=\"heading\">" + heading + "</h1>\n<fragment id=\"main\" src=\"team:/main\" primary></fragment>\n</fill>\n</layout>\n"
}

// TestLiveReloadInTheBrowser: in dev mode, a layout edit reloads the open
// page by itself; a broken edit shows the overlay naming the file that
// holds the mistake, at its line; the fix closes the overlay.
func TestLiveReloadInTheBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t, 60*time.Second)
	team := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<p id="team">from `+r.URL.Path+`</p>`)
	})
	dir := t.TempDir()
	teamtest.WriteFiles(t, dir, map[string]string{
		"inlay.yaml": fmt.Sprintf("layouts: .\ndev: true\nservices:\n  team:\n    url: %s\npages:\n  - path: /\n    layout: home.html\n", team.URL),
		"base.html":  devBase,
		"home.html":  devHome("first"),
	})
	base := serveFile(t, filepath.Join(dir, "inlay.yaml"), nil)

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#heading')?.textContent === 'first'`)
	// A mark that survives only as long as this very document does.
	evalJS[int](t, ctx, `window.inlayTestMark = 1`)
	// Wait for the script's stream to be open, so that the edit is seen.
	waitFor(t, ctx, `document.querySelector('script[data-inlay-live="listening"]') !== null`)

	teamtest.WriteFiles(t, dir, map[string]string{"home.html": devHome("second")})
	waitFor(t, ctx, `document.querySelector('#heading')?.textContent === 'second' && window.inlayTestMark === undefined`)
	waitFor(t, ctx, `document.querySelector('script[data-inlay-live="listening"]') !== null`)
	evalJS[int](t, ctx, `window.inlayTestMark = 2`)

	// An unclosed <fragment> in the fill: the mistake is home.html:4:1,
	// though the base's footer fragment is what runs into it.
	broken := "<layout base=\"base.html\">\n<fill slot=\"main\">\n<h1 id=\"heading\">third</h1>\n<fragment id=\"main\" src=\"team:/main\" primary>\n</fill>\n</layout>\n"
	teamtest.WriteFiles(t, dir, map[string]string{"home.html": broken})
	waitFor(t, ctx, `!!document.querySelector('[data-inlay-overlay]')`)
	files := evalJS[[]string](t, ctx, `[...document.querySelectorAll('.inlay-overlay-file')].map(e => e.textContent)`)
	want := filepath.Join(dir, "home.html") + ":4:1"
	if len(files) != 1 || files[0] != want {
		t.Errorf("overlay names %q, want [%q]", files, want)
	}
	marked := evalJS[string](t, ctx, `document.querySelector('[data-error-line]')?.textContent ?? ''`)
	if want := `   4 | <fragment id="main" src="team:/main" primary>`; marked != want {
		t.Errorf("overlay marks line %q, want %q", marked, want)
	}
	if !evalJS[bool](t, ctx, `window.inlayTestMark === 2 && document.querySelector('#heading').textContent === 'second'`) {
		t.Errorf("the overlay did not come over the open page, with the last good version under it")
	}

	teamtest.WriteFiles(t, dir, map[string]string{"home.html": devHome("fixed")})
	waitFor(t, ctx, `document.querySelector('#heading')?.textContent === 'fixed' && !document.querySelector('[data-inlay-overlay]')`)
}

// evalJS evaluates a JavaScript expression in the page and returns its value.
func evalJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// TestLocalServiceEditReloadsInTheBrowser: with `inlay dev --service`, an
// edit to the developer's own fragment shows in the open page by itself,
// though the fragment says it may be cached for a minute: the service is
// never cached, and the page reloads when its fragment changes.
func TestLocalServiceEditReloadsInTheBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t, 60*time.Second)
	cacheable := map[string]string{"Cache-Control": "public, max-age=60, stale-while-revalidate=60"}
	mine := teamtest.NewRoutes(t, map[string]teamtest.Route{"/main": {Body: `<p id="mine">first</p>`, Header: cacheable}})
	theirs := teamtest.NewRoutes(t, map[string]teamtest.Route{"/footer": {Body: `<p>footer</p>`}})
	dir := t.TempDir()
	teamtest.WriteFiles(t, dir, map[string]string{
		"inlay.yaml": fmt.Sprintf("layouts: .\nservices:\n  team:\n    url: %s\n  mine:\n    url: http://127.0.0.1:1\npages:\n  - path: /\n    layout: home.html\n", theirs.URL),
		"base.html":  devBase,
		"home.html":  "<layout base=\"base.html\">\n<fill slot=\"main\">\n<fragment id=\"main\" src=\"mine:/main\" primary></fragment>\n</fill>\n</layout>\n",
	})
	base := startInlay(t, "inlay dev", func(ctx context.Context, ready func(string)) error {
		return runDev(ctx, devOptions{
			ConfigPath: filepath.Join(dir, "inlay.yaml"),
			Listen:     "127.0.0.1:0",
			Services:   serviceOverrides{"mine": mine.URL},
			Logger:     slog.New(slog.DiscardHandler),
			Ready:      ready,
		})
	})
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('#mine')?.textContent === 'first'`)
	waitFor(t, ctx, `document.querySelector('script[data-inlay-live="listening"]') !== null`)
	evalJS[int](t, ctx, `window.inlayTestMark = 1`)

	edited := time.Now()
	mine.Route("/main", teamtest.Route{Body: `<p id="mine">second</p>`, Header: cacheable})
	waitFor(t, ctx, `document.querySelector('#mine')?.textContent === 'second' && window.inlayTestMark === undefined`)
	t.Logf("the edit showed %v after it was made, with no manual reload", time.Since(edited).Round(time.Millisecond))
}
