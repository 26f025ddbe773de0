package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/inlayhq/inlay/composer"
	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// asyncShop serves a page whose async box is held until release is closed,
// while every other fragment answers at once. /ordered is the same layout
// streamed in document order.
func asyncShop(t *testing.T) (base string, release func()) {
	t.Helper()
	gate := make(chan struct{})
	team := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/head":
			io.WriteString(w, `<nav id="nav">Shop</nav>`)
		case "/main":
			io.WriteString(w, `<h1 id="main">Product</h1>`)
		case "/slow":
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
			w.Header().Set("Link", "</slow.css>; rel=stylesheet")
			io.WriteString(w, `<section id="recos"><h2>Recommended</h2><p>Boots</p></section>`)
		case "/slow.css":
			w.Header().Set("Content-Type", "text/css")
			io.WriteString(w, "#recos{color:rgb(1, 2, 3)}")
		default:
			http.NotFound(w, r)
		}
	})

	dir := t.TempDir()
	layout := `<!DOCTYPE html><html><head><title>async</title></head><body>
<fragment src="team:/head"></fragment>
<aside><fragment id="recos" src="team:/slow" async placeholder-height="80px"><p id="loading">Loading…</p></fragment></aside>
<main><fragment src="team:/main" primary></fragment></main>
<footer id="footer">Footer</footer>
</body></html>`
	cfgText := fmt.Sprintf("layouts: .\npage_timeout: 20s\nservices:\n  team:\n    url: %s\n    timeout: 20s\npages:\n  - path: /\n    layout: p.html\n  - path: /ordered\n    layout: p.html\n    in_order: true", team.URL)
	srv := composerIn(t, dir, map[string]string{"p.html": layout, "inlay.yaml": cfgText})
	mux := http.NewServeMux()
	mux.Handle("/", srv)
	mux.Handle("/slow.css", http.RedirectHandler(team.URL+"/slow.css", http.StatusFound))
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close) // before the composer's own cleanup
	var once bool
	return hs.URL, func() {
		if !once {
			once = true
			close(gate)
		}
	}
}

// bodyWithoutAssets is the page's body markup with asset tags left out:
// out-of-order streaming places a fragment's <link> before its swap, not
// beside its box, and that is the one difference it may make.
const bodyWithoutAssets = `(() => { const b = document.body.cloneNode(true);
  b.querySelectorAll('link, script, template').forEach(e => e.remove());
  return b.innerHTML.replace(/\s+/g, ' ').trim(); })()`

// TestAsyncBoxDoesNotHoldThePage loads a page whose async box answers only
// when the test says so: the rest of the page is on screen before that,
// the box fills after, and the final page equals the in-order one.
func TestAsyncBoxDoesNotHoldThePage(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t, 60*time.Second)
	base, release := asyncShop(t)
	t.Cleanup(release)

	if _, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: base + "/"}); err != nil {
		t.Fatalf("navigating: %v", err)
	}
	// Held: the footer and the primary are visible, the box shows its placeholder.
	waitFor(t, ctx, `!!document.querySelector('#footer') && !!document.querySelector('#main') && !!document.querySelector('#loading')`)
	held, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.querySelector('#recos') &&
		document.querySelector('inlay-slot').getBoundingClientRect().height >= 80`))
	if err != nil || !held {
		t.Fatalf("while the async fragment is held: recos absent and placeholder sized: got %v (%v)", held, err)
	}

	release()
	waitFor(t, ctx, `!!document.querySelector('#recos') && !document.querySelector('#loading') && !document.querySelector('inlay-slot') && document.readyState === 'complete'`)
	color, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('#recos')).color`))
	if err != nil || color != "rgb(1, 2, 3)" {
		t.Errorf("the async fragment's CSS: color %q (%v), want rgb(1, 2, 3)", color, err)
	}
	outOfOrder, err := chromedp.Run(ctx, chromedp.Evaluate[string](bodyWithoutAssets))
	if err != nil {
		t.Fatal(err)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/ordered")); err != nil {
		t.Fatalf("in-order page: %v", err)
	}
	inOrder, err := chromedp.Run(ctx, chromedp.Evaluate[string](bodyWithoutAssets))
	if err != nil {
		t.Fatal(err)
	}
	if outOfOrder != inOrder {
		t.Errorf("final DOM differs from the in-order DOM:\nout of order %s\nin order     %s", outOfOrder, inOrder)
	}
	if !strings.Contains(inOrder, `<section id="recos">`) {
		t.Errorf("in-order page lacks the async fragment: %s", inOrder)
	}
}

// TestAsyncBoxWithoutJavaScriptKeepsItsPlaceholder: with scripts off the
// page still completes, and the async box keeps showing its placeholder.
func TestAsyncBoxWithoutJavaScriptKeepsItsPlaceholder(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t, 60*time.Second)
	base, release := asyncShop(t)
	t.Cleanup(release)
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("disabling scripts: %v", err)
	}
	if _, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: base + "/"}); err != nil {
		t.Fatalf("navigating: %v", err)
	}
	// Polling runs page timers, which are off with scripts: evaluate instead.
	evalUntil(t, ctx, `!!document.querySelector('#footer') && !!document.querySelector('#loading')`)
	release()
	evalUntil(t, ctx, `document.readyState === 'complete'`)
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('#loading') && !!document.querySelector('#main') && !document.querySelector('#recos')`))
	if err != nil || !shown {
		t.Errorf("with JavaScript off, placeholder and primary shown, recos not: got %v (%v)", shown, err)
	}
	// The reserved 80px would stay empty for good: without JavaScript the
	// placeholder is only as tall as its fallback.
	height, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector('inlay-slot').getBoundingClientRect().height`))
	if err != nil || height >= 80 {
		t.Errorf("with JavaScript off, the placeholder is %vpx tall (%v), want its fallback's height, under the reserved 80px", height, err)
	}
}

// evalUntil evaluates a condition every 20ms until it holds, for at most 10s.
func evalUntil(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond)); err == nil && ok {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%s did not hold within 10s", cond)
		}
	}
}

// composerIn writes files into dir and returns a composer for the
// inlay.yaml among them, closed when the test ends.
func composerIn(t *testing.T, dir string, files map[string]string) *composer.Server {
	t.Helper()
	teamtest.WriteFiles(t, dir, files)
	cfg, err := config.Load(filepath.Join(dir, "inlay.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := composer.New(cfg, composer.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}
