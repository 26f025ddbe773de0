package main

// Rows E11 and G4 of docs/fault-matrix.md in a real browser, with a demo
// team's server stopped for real.

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// maxAge matches the max-age directive of a Cache-Control value.
var maxAge = regexp.MustCompile(`\bmax-age=\d+`)

// shortLived wraps a team so that everything it sends is stale at once
// (max-age=0) and keeps its own stale windows: its fragments and assets
// are stored, then only ever served stale, without the test waiting for
// a lifetime to pass.
func shortLived(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&shortLivedWriter{ResponseWriter: w}, r)
	})
}

type shortLivedWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *shortLivedWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		h := w.Header()
		for i, v := range h["Cache-Control"] {
			h["Cache-Control"][i] = maxAge.ReplaceAllString(v, "max-age=0")
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *shortLivedWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

func (w *shortLivedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// E11: with the search team stopped and its fragments stale, a new
// shopper whose browser caches nothing gets the home and product pages
// whole and styled: the search team's stylesheet and images come from
// Inlay's stale copies.
func TestSearchTeamStoppedNewShopperSeesStyledPages(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	// Not in dev mode: there, the no-cache of a browser whose cache is off
	// would send every fetch past Inlay's cache, as a hard reload does.
	base, stop := demoTeamsWrapped(t, map[string]func(http.Handler) http.Handler{"search": shortLived}, false)

	// A first shopper, with every team up: Inlay stores the search team's
	// fragments and the assets they and their pages use.
	first := newBrowser(t, 90*time.Second)
	navigate(t, first, base+"/")
	waitFor(t, first, `(() => { const i = document.querySelector('.search-tile__img'); return !!i && i.complete && i.naturalWidth > 0; })()`)
	navigate(t, first, base+"/product/boot-01")
	waitFor(t, first, `(() => { const i = document.querySelector('.search-product__img'); return !!i && i.complete && i.naturalWidth > 0; })()`)

	stop["search"]()

	shopper := newBrowser(t, 90*time.Second)
	if _, err := chromedp.Call(shopper, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(shopper, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
		t.Fatal(err)
	}
	navigate(t, shopper, base+"/")
	if !evalJS[bool](t, shopper, shopStyled) {
		t.Error("home, search team stopped: the shop is not styled")
	}
	if !evalJS[bool](t, shopper, `!document.querySelector('[data-testid="featured-fallback"]') && getComputedStyle(document.querySelector('.search-grid')).display === 'grid'`) {
		t.Errorf("home, search team stopped: the product grid is not the stored, styled one (its stylesheet failed?): %s", evalJS[string](t, shopper, `document.querySelector('main').outerHTML.slice(0, 600)`))
	}
	waitFor(t, shopper, `(() => { const i = document.querySelector('.search-tile__img'); return !!i && i.complete && i.naturalWidth > 0; })()`)

	navigate(t, shopper, base+"/product/boot-01")
	if !evalJS[bool](t, shopper, shopStyled) {
		t.Error("product, search team stopped: the shop is not styled")
	}
	if !evalJS[bool](t, shopper, `getComputedStyle(document.querySelector('.search-product')).display === 'grid'`) {
		t.Error("product, search team stopped: the product is not styled by the search team's stylesheet")
	}
	waitFor(t, shopper, `(() => { const i = document.querySelector('.search-product__img'); return !!i && i.complete && i.naturalWidth > 0; })()`)
	if h := evalJS[float64](t, shopper, `document.documentElement.scrollHeight`); h > 2500 {
		t.Errorf("product, search team stopped: the page is %vpx tall, a column of unstyled boxes", h)
	}
}

// G4: with the basket team stopped, "Add to basket" on a product page
// (its box a stale copy) lands on the shop's error page, whose link goes
// back to the product.
func TestBasketStoppedAddToBasketLandsOnTheErrorPageWithAWayBack(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	base, stop := demoTeams(t)
	ctx := newBrowser(t, 60*time.Second)
	navigate(t, ctx, base+"/product/boot-01") // the add button's box is stored
	stop["basket"]()
	navigate(t, ctx, base+"/product/boot-01")
	if err := chromedp.Do(ctx, chromedp.Click(`[data-testid="add-to-basket"]`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `location.pathname === '/basket/api/add' && document.readyState === 'complete'`)
	page := `(() => { const e = document.querySelector('[data-testid="error-page"]');
		return !!e && e.querySelector('.shop-error__status').textContent === 'Error 502'; })()`
	if !evalJS[bool](t, ctx, shopStyled+` && `+page) {
		t.Fatalf("not the shop's styled error page with status 502: %s", evalJS[string](t, ctx, `document.body.innerText.slice(0, 300)`))
	}
	if got := evalJS[string](t, ctx, `document.querySelector('[data-testid="error-back"]').getAttribute('href')`); got != "/product/boot-01" {
		t.Errorf("the way back is %q, want /product/boot-01", got)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`[data-testid="error-back"]`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `location.pathname === '/product/boot-01' && !!document.querySelector('.search-product')`)
}
