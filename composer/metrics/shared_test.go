package metrics

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/inlayhq/inlay/teams/teamtest"

	"github.com/inlayhq/inlay/composer"
	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/fragments/shared/redistest"
)

// Two replicas on one Redis: the second serves the first's fetch from the
// shared tier and says so; with Redis gone, the health gauge drops to 0.
func TestMetricsSharedTier(t *testing.T) {
	rs := redistest.Start(t)
	team := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "<p>ok</p>")
	})
	// A longer deadline than the 20ms default, so that a busy machine does
	// not turn the counted shared hit into an origin fetch. The replicas
	// share public_url, as behind a load balancer: without it, each one's
	// own address would be part of the fragment's key.
	shop := teamtest.Shop{
		Extra:    "public_url: http://127.0.0.1\ncache:\n  shared:\n    url: " + rs.URL("") + "\n    timeout: 500ms\n",
		Services: map[string]string{"team": team.URL},
		Pages:    "  - path: /product/{sku}\n    layout: p.html",
		Layouts:  map[string]string{"p.html": `<fragment id="main" src="team:/p/{sku}" primary></fragment>`},
	}
	replica := func() (*Metrics, *httptest.Server) {
		cfg, fsys := teamtest.Parse(t, shop, config.Parse)
		m := New()
		srv, err := composer.New(cfg, composer.Options{
			Observer: m,
			Logger:   slog.New(slog.DiscardHandler),
			LayoutFS: fsys,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		m.Attach(srv)
		hs := httptest.NewServer(srv)
		t.Cleanup(hs.Close)
		return m, hs
	}
	scrape := func(m *Metrics) string {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		return rec.Body.String()
	}
	load := func(shop *httptest.Server, path string) { teamtest.Get(t, shop.URL+path) }
	ma, a := replica()
	mb, b := replica()
	load(a, "/product/a")
	load(b, "/product/a")
	for m, wants := range map[*Metrics][]string{
		ma: {`inlay_cache_tier_hits_total{tier="origin"} 1`, `inlay_cache_tier_hits_total{tier="shared"} 0`, "inlay_shared_cache_up 1"},
		mb: {`inlay_cache_tier_hits_total{tier="origin"} 0`, `inlay_cache_tier_hits_total{tier="shared"} 1`, "inlay_shared_cache_up 1", "inlay_shared_cache_errors_total 0"},
	} {
		body := scrape(m)
		for _, want := range wants {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %q", want)
			}
		}
	}

	rs.Kill()
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; !strings.Contains(scrape(mb), "inlay_shared_cache_up 0"); i++ {
		if time.Now().After(deadline) {
			t.Fatal("the health gauge did not drop within 5s of Redis going")
		}
		load(b, "/product/down-"+string(rune('a'+i%26))+time.Now().Format("150405.000000"))
	}
	if strings.Contains(scrape(mb), "inlay_shared_cache_errors_total 0\n") {
		t.Error("no shared tier error counted with Redis down")
	}
}
