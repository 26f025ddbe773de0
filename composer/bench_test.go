package composer

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/inlayhq/inlay/teams/teamtest"
)

// discardWriter is a ResponseWriter that keeps nothing but the status, so
// that a benchmark measures the server and not a recorder's buffer.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
}
func (w *discardWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(b)
	return len(b), nil
}
func (w *discardWriter) Flush() {}

// serve serves req through h into w, emptied first, and returns the
// status and the body's length. req gets a new request id each time, as
// for a shopper.
func (w *discardWriter) serve(h http.Handler, req *http.Request) (status, n int) {
	clear(w.h)
	w.status, w.n = 0, 0
	req.Header.Del(HeaderRequestID)
	h.ServeHTTP(w, req)
	return w.status, w.n
}

// sixFragmentShop serves a layout of six fragments, each about 1 KB, whose
// answers carry cacheControl.
func sixFragmentShop(b *testing.B, cacheControl string) (*shop, *teamtest.Team) {
	return sixFragmentShopWith(b, cacheControl, "")
}

// sixFragmentShopWith is sixFragmentShop with more top-level config YAML.
func sixFragmentShopWith(b *testing.B, cacheControl, extra string) (*shop, *teamtest.Team) {
	routes := map[string]teamtest.Route{}
	var layout strings.Builder
	layout.WriteString(pageHead)
	for i := range 6 {
		body := fmt.Sprintf("<section><h2>fragment %d</h2><p>%s</p></section>", i, strings.Repeat("lorem ipsum ", 80))
		routes[fmt.Sprintf("/f%d", i)] = teamtest.Route{Body: body, Header: map[string]string{"Cache-Control": cacheControl}}
		primary := ""
		if i == 0 {
			primary = " primary"
		}
		fmt.Fprintf(&layout, `<div class="box"><fragment id="f%d" src="team:/f%d"%s><em>fallback</em></fragment></div>`, i, i, primary)
	}
	layout.WriteString(pageTail)
	team := teamtest.NewRoutes(b, routes)
	s := newShop(b, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts:  map[string]string{"p.html": layout.String()},
		pages:    "  - path: /\n    layout: p.html",
		extra:    extra,
	})
	return s, team
}

// benchPages serves the page b.N times through Server.ServeHTTP and checks
// every answer.
func benchPages(b *testing.B, s *shop) { benchPagesAt(b, s, "") }

// benchPagesAt is benchPages with the requests naming host ("" for
// httptest's example.com).
func benchPagesAt(b *testing.B, s *shop, host string) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	if host != "" {
		req.Host = host
	}
	w := &discardWriter{h: http.Header{}}
	s.inlay.ServeHTTP(w, req)
	want := w.n
	if w.status != http.StatusOK {
		b.Fatalf("warm-up page: status %d", w.status)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if status, n := w.serve(s.inlay, req); status != http.StatusOK || n != want {
			b.Fatalf("page: status %d, %d bytes; want 200, %d bytes", status, n, want)
		}
	}
}

// BenchmarkPageCacheHit composes a page whose six fragments are all fresh
// in the cache: the cost of Inlay itself, with no fetch at all.
func BenchmarkPageCacheHit(b *testing.B) {
	s, team := sixFragmentShop(b, "max-age=3600")
	benchPages(b, s)
	if n := team.Hits(); n != 6 {
		b.Errorf("fragment requests: got %d, want 6 (all hits after the first page)", n)
	}
}

// BenchmarkPageNoStore composes a page whose six fragments may not be
// stored: six loopback fetches per page from a stub that answers at once.
func BenchmarkPageNoStore(b *testing.B) {
	s, team := sixFragmentShop(b, "no-store")
	benchPages(b, s)
	b.ReportMetric(float64(team.Hits()-6)/float64(b.N), "fetches/op")
}

// BenchmarkPageCacheHitPublicURL is BenchmarkPageCacheHit with public_url
// set: the fragments' base URL is the same for every shopper, and their
// cache key is the plain one. The requests name public_url's host, which
// is then the only one answered.
func BenchmarkPageCacheHitPublicURL(b *testing.B) {
	s, team := sixFragmentShopWith(b, "max-age=3600", "public_url: https://shop.example\n")
	benchPagesAt(b, s, "shop.example")
	if n := team.Hits(); n != 6 {
		b.Errorf("fragment requests: got %d, want 6 (all hits after the first page)", n)
	}
}

// BenchmarkPageNoStorePublicURL is BenchmarkPageNoStore with public_url
// set.
func BenchmarkPageNoStorePublicURL(b *testing.B) {
	s, team := sixFragmentShopWith(b, "no-store", "public_url: https://shop.example\n")
	benchPagesAt(b, s, "shop.example")
	b.ReportMetric(float64(team.Hits()-6)/float64(b.N), "fetches/op")
}

// BenchmarkStampede serves 1000 concurrent pages on one cold cacheable
// fragment per iteration (a new key each time), and reports the upstream
// fetches per iteration, which must be exactly 1.
func BenchmarkStampede(b *testing.B) {
	box := teamtest.NewRoutes(b, map[string]teamtest.Route{"/box": {Body: "<p>popular</p>", Header: map[string]string{"Cache-Control": "max-age=600"}}})
	s := newShop(b, shopConfig{
		services: map[string]*teamtest.Team{"box": box},
		layouts:  map[string]string{"p.html": pageHead + `[<fragment id="box" src="box:/box?v={v}"><em>fallback</em></fragment>]` + pageTail},
		pages:    "  - path: /\n    layout: p.html",
	})
	const pages = 1000
	want := pageHead + "[<p>popular</p>]" + pageTail
	b.ReportAllocs()
	iter := 0
	for b.Loop() {
		iter++
		start := make(chan struct{})
		var wg sync.WaitGroup
		var bad sync.Once
		for range pages {
			wg.Go(func() {
				req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, fmt.Sprintf("/?v=%d", iter), nil)
				rec := httptest.NewRecorder()
				<-start
				s.inlay.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || rec.Body.String() != want {
					bad.Do(func() { b.Errorf("page: %d %q", rec.Code, rec.Body.String()) })
				}
			})
		}
		close(start)
		wg.Wait()
	}
	fetches := float64(box.Hits()) / float64(iter)
	b.ReportMetric(fetches, "fetches/op")
	if fetches != 1 {
		b.Errorf("upstream fetches per stampede of %d cold pages: got %v, want 1", pages, fetches)
	}
}

// BenchmarkPageCacheHitAssets is BenchmarkPageCacheHit with a stylesheet
// and a module script on every fragment, two of them shared: the cost of
// the asset tags Inlay writes.
func BenchmarkPageCacheHitAssets(b *testing.B) {
	s, team := sixFragmentShop(b, "max-age=3600")
	for i := range 6 {
		path := fmt.Sprintf("/f%d", i)
		r, _ := team.RouteOf(path)
		r.Header["Link"] = fmt.Sprintf("</team/f%d.css>; rel=stylesheet, </team/common.js>; rel=modulepreload", i)
		team.Route(path, r)
	}
	benchPages(b, s)
}
