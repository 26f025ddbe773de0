package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/inlayhq/inlay/cmd/inlay/demo"
	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/teams/basket"
	"github.com/inlayhq/inlay/teams/search"
	"github.com/inlayhq/inlay/teams/shell"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// demoTeams runs the demo shop with each team on its own loopback server,
// so that a test can stop one, and returns Inlay's base URL and the
// teams' stop functions.
func demoTeams(t *testing.T) (base string, stop map[string]func()) {
	t.Helper()
	return demoTeamsWrapped(t, nil, true)
}

// demoTeamsWrapped is demoTeams with the handlers of the teams named in
// wrap wrapped, in dev mode or not.
func demoTeamsWrapped(t *testing.T, wrap map[string]func(http.Handler) http.Handler, dev bool) (base string, stop map[string]func()) {
	t.Helper()
	w := func(name string, h http.Handler) http.Handler {
		if fn := wrap[name]; fn != nil {
			return fn(h)
		}
		return h
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg, err := config.Load("../../layouts/inlay.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen = "127.0.0.1:0"
	cfg.Dev = dev
	stop = map[string]func(){}
	searchURL, stopSearch, err := demo.StartTeam(w("search", search.New(search.Config{Logger: logger})))
	if err != nil {
		t.Fatal(err)
	}
	shellURL, stopShell, err := demo.StartTeam(w("shell", shell.New(shell.Config{Logger: logger})))
	if err != nil {
		t.Fatal(err)
	}
	basketURL, stopBasket, err := demo.StartTeam(w("basket", basket.New(basket.Config{CatalogURL: searchURL, Logger: logger})))
	if err != nil {
		t.Fatal(err)
	}
	for name, fn := range map[string]func(){"search": stopSearch, "shell": stopShell, "basket": stopBasket} {
		var done bool
		stop[name] = func() {
			if !done {
				done = true
				fn()
			}
		}
		t.Cleanup(stop[name])
	}
	for name, u := range map[string]string{"shell": shellURL, "search": searchURL, "basket": basketURL} {
		if err := cfg.SetServiceURL(name, u); err != nil {
			t.Fatal(err)
		}
	}
	base = startInlay(t, "serve", func(ctx context.Context, ready func(string)) error {
		return serveWith(ctx, cfg, serveOptions{logger: logger, ready: ready})
	})
	return base, stop
}

// navigate loads url and waits for the whole page, async boxes included.
func navigate(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigating to %s: %v", url, err)
	}
	waitFor(t, ctx, `document.readyState === 'complete' && !document.querySelector('template[id^="inlay-t-"]')`)
}

// shopStyled is true when the shop's site-wide stylesheet applies: the
// page background and the sticky header frame.
const shopStyled = `getComputedStyle(document.body).backgroundColor === 'rgb(246, 247, 249)' &&
	getComputedStyle(document.querySelector('.shell-header')).position === 'sticky' &&
	getComputedStyle(document.querySelector('.shell-footer')).backgroundColor === 'rgb(21, 23, 28)'`

// TestShellTeamStoppedPageKeepsItsStyles: with the shell team stopped, the
// page keeps the shop's styles; the header is the cached copy where Inlay
// has one, and a styled fallback where it has none.
func TestShellTeamStoppedPageKeepsItsStyles(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t, 90*time.Second)
	base, stop := demoTeams(t)

	navigate(t, ctx, base+"/product/boot-01") // the shell's header and footer are now cached
	if !evalJS[bool](t, ctx, shopStyled+` && !!document.querySelector('[data-testid="shell-nav"]')`) {
		t.Fatal("the shop is not styled, or has no header, with every team up")
	}
	stop["shell"]()

	navigate(t, ctx, base+"/product/boot-01")
	if !evalJS[bool](t, ctx, shopStyled) {
		t.Error("with the shell team stopped, the product page lost the shop's styles")
	}
	if !evalJS[bool](t, ctx, `!!document.querySelector('[data-testid="shell-nav"]') && !!document.querySelector('[data-testid="shell-footer"]')`) {
		t.Error("with the shell team stopped, the cached header and footer are not shown")
	}

	// A search the header was never fetched for: no copy, no fallback-src
	// copy, so the layout's own fallback header, styled by the shop.
	navigate(t, ctx, base+"/search?q=boots")
	if !evalJS[bool](t, ctx, shopStyled) {
		t.Error("with the shell team stopped, the search page lost the shop's styles")
	}
	fallback := `(() => { const f = document.querySelector('[data-testid="header-fallback"]');
		return !!f && getComputedStyle(f).display === 'flex' &&
			getComputedStyle(f.querySelector('.shell-logo')).fontWeight === '800' &&
			getComputedStyle(f.querySelector('.shell-search button')).backgroundColor === 'rgb(79, 70, 229)'; })()`
	if !evalJS[bool](t, ctx, fallback) {
		t.Error("with the shell team stopped and nothing cached, the header is not the styled fallback")
	}
}

// TestBasketTeamStoppedFallbacksAreStyled: the basket's boxes fall back to
// the layout's styled boxes, not bare text.
func TestBasketTeamStoppedFallbacksAreStyled(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t, 60*time.Second)
	base, stop := demoTeams(t)
	stop["basket"]()
	navigate(t, ctx, base+"/product/tote-01")
	for _, id := range []string{"mini-basket-fallback", "add-to-basket-fallback"} {
		styled := `(() => { const e = document.querySelector('[data-testid="` + id + `"]');
			return !!e && getComputedStyle(e).borderTopStyle === 'dashed' && getComputedStyle(e).backgroundColor === 'rgb(238, 240, 243)'; })()`
		if !evalJS[bool](t, ctx, styled) {
			t.Errorf("%s: not shown, or not styled", id)
		}
	}
}

// TestAsyncBoxDoesNotShiftThePage: the product page's async "more
// products" box takes the height its placeholder reserved, so nothing
// below it moves when it arrives; without JavaScript the placeholder
// shrinks to its fallback link instead of staying an empty block.
func TestAsyncBoxDoesNotShiftThePage(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	for _, width := range []int64{1280, 390} {
		ctx := newBrowser(t, 60*time.Second)
		if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: width, Height: 900, DeviceScaleFactor: 1, Mobile: width < 500}); err != nil {
			t.Fatal(err)
		}
		base, _ := demoTeams(t)
		navigate(t, ctx, base+"/product/boot-01")
		got := evalJS[float64](t, ctx, `document.querySelector('.search-more').getBoundingClientRect().height`)
		if got != 372 {
			t.Errorf("width %d: the more-products box is %vpx tall, its placeholder reserves 372px: the page shifts when it arrives", width, got)
		}
	}
}

// TestErrorPagesComeFromTheLayouts: a missing product and an unknown path
// are answered with the designers' not-found layout, in the shop's frame
// with the shell's header, and the product's basket box is not on it.
func TestErrorPagesComeFromTheLayouts(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t, 60*time.Second)
	base, _ := demoTeams(t)
	for _, path := range []string{"/product/nope", "/no-such-page"} {
		resp, _ := teamtest.Get(t, base+path)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, resp.StatusCode)
		}
		navigate(t, ctx, base+path)
		page := `(() => { const e = document.querySelector('[data-testid="error-page"]');
			return !!e && e.querySelector('.shop-error__status').textContent === 'Error 404' &&
				getComputedStyle(e).backgroundColor === 'rgb(255, 255, 255)' &&
				!!document.querySelector('[data-testid="shell-nav"]') &&
				!document.querySelector('[data-testid="add-to-basket"], form[action*="basket"] button[type=submit]'); })()`
		if !evalJS[bool](t, ctx, shopStyled+` && `+page) {
			t.Errorf("%s: not the styled not-found layout with the shop's header (or the basket box is on it)", path)
		}
	}
}
