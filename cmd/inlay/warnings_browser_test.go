package main

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// unclosedHome fills the base with a <div> that is never closed (line 3)
// and, when broken, a fragment with a misspelt attribute: an error.
func unclosedHome(broken bool) string {
	attr := ""
	if broken {
		attr = ` tiemout="1s"`
	}
	return "<layout base=\"base.html\">\n<fill slot=\"main\">\n<div class=\"promo\">\n<h1 id=\"heading\">sale</h1>\n<fragment id=\"main\" src=\"team:/main\" primary" + attr + "></fragment>\n</fill>\n</layout>\n"
}

// TestLayoutWarningsInTheBrowser (issue 25, finding 5): in dev mode, a
// page whose layout leaves a <div> open shows a "1 warning" badge that
// opens on click to the code frame (file:line:col, the line, a caret);
// when an edit adds an error, the overlay lists the error and the
// warning together.
func TestLayoutWarningsInTheBrowser(t *testing.T) {
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
		"home.html":  unclosedHome(false),
	})
	base := serveFile(t, filepath.Join(dir, "inlay.yaml"), nil)
	home := filepath.Join(dir, "home.html")

	navigate(t, ctx, base+"/")
	waitFor(t, ctx, `!!document.querySelector('[data-inlay-warnings] summary')`)
	screenshot(t, ctx, "warnings-badge")
	if got := text(t, ctx, `[data-inlay-warnings] summary`); got != "1 warning" {
		t.Errorf("badge says %q, want 1 warning", got)
	}
	if evalJS[bool](t, ctx, `document.querySelector('[data-inlay-warnings] .inlay-overlay-file').checkVisibility()`) {
		t.Errorf("the badge shows its code frame before a click")
	}
	if err := chromedp.Do(ctx, chromedp.Click(`[data-inlay-warnings] summary`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('[data-inlay-warnings] .inlay-overlay-file').checkVisibility()`)
	screenshot(t, ctx, "warnings-open")
	if got, want := text(t, ctx, `[data-inlay-warnings] .inlay-overlay-file`), home+":3:1"; got != want {
		t.Errorf("the warning names %q, want %q", got, want)
	}
	if got, want := evalJS[string](t, ctx, `document.querySelector('[data-inlay-warnings] [data-error-line]').textContent`), `   3 | <div class="promo">`; got != want {
		t.Errorf("the code frame marks %q, want %q", got, want)
	}
	if got := evalJS[string](t, ctx, `document.querySelector('[data-inlay-warnings] .inlay-overlay-caret').textContent`); got != "     | ^" {
		t.Errorf("the caret line is %q, want it under column 1", got)
	}
	if msg := text(t, ctx, `[data-inlay-warnings] h2`); !strings.Contains(msg, "<div> is never closed") {
		t.Errorf("the warning says %q", msg)
	}

	// An error on top: the overlay lists it and the warning together.
	waitFor(t, ctx, `document.querySelector('script[data-inlay-live="listening"]') !== null`)
	teamtest.WriteFiles(t, dir, map[string]string{"home.html": unclosedHome(true)})
	waitFor(t, ctx, `!!document.querySelector('[data-inlay-overlay]')`)
	screenshot(t, ctx, "warnings-with-error")
	listed := evalJS[[]string](t, ctx, `[...document.querySelectorAll('[data-inlay-overlay] section')].map(s => s.dataset.severity + ' ' + s.querySelector('.inlay-overlay-file').textContent)`)
	want := []string{"error " + home + ":5:46", "warning " + home + ":3:1"}
	if strings.Join(listed, "\n") != strings.Join(want, "\n") {
		t.Errorf("the overlay lists %q, want %q", listed, want)
	}
	if got := text(t, ctx, `[data-inlay-overlay] h1`); !strings.HasPrefix(got, "1 problem and 1 warning") {
		t.Errorf("the overlay's heading is %q", got)
	}
}
