package metrics

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/inlayhq/inlay/teams/teamtest"

	"github.com/inlayhq/inlay/composer"
	"github.com/inlayhq/inlay/composer/config"
)

func TestMetricsRecordPagesFragmentsCacheAndBreakers(t *testing.T) {
	team := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/broken" {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "<p>ok</p>")
	})
	cfg, fsys := teamtest.Parse(t, teamtest.Shop{
		Services: map[string]string{"team": team.URL},
		Pages:    "  - path: /product/{sku}\n    layout: p.html",
		Layouts:  map[string]string{"p.html": `<fragment id="main" src="team:/p/{sku}" primary></fragment><fragment id="side" src="team:/broken"></fragment>`},
	}, config.Parse)
	m := New()
	srv, err := composer.New(cfg, composer.Options{
		Observer: m,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		LayoutFS: fsys,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	m.Attach(srv)
	shop := httptest.NewServer(srv)
	defer shop.Close()
	for _, path := range []string{"/product/a", "/product/a", "/product/b", "/no-such-page"} {
		teamtest.Get(t, shop.URL+path)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`inlay_page_duration_seconds_count{route="/product/{sku}",status="200"} 3`,
		`inlay_page_ttfb_seconds_count{route="/product/{sku}"} 3`,
		`inlay_page_degraded_boxes_total{route="/product/{sku}"} 3`,
		`inlay_fragment_outcomes_total{fragment="main",outcome="ok",service="team"} 3`,
		`inlay_fragment_outcomes_total{fragment="side",outcome="status",service="team"} 3`,
		`inlay_cache_requests_total{result="hit"} 1`,
		`inlay_breaker_state{service="team",state="closed"} 1`,
		`inlay_concurrency_limit{service="team"} 100`,
		`inlay_fetches_waiting{service="team"} 0`,
		`inlay_fetch_panics_total 0`,
		// a: 1 main + 1 side, a again: side only (main is cached), b: main + side
		`inlay_upstream_requests_total{service="team"} 5`,
		`inlay_unknown_path_requests_total 1`,
		`inlay_pages_in_flight 0`,
		`inlay_cache_tier_hits_total{tier="local"} 1`,
		`inlay_cache_tier_hits_total{tier="shared"} 0`,
		`inlay_cache_tier_hits_total{tier="origin"} 5`,
		`inlay_shared_cache_errors_total 0`,
		`inlay_shared_cache_panics_total 0`,
		`inlay_cache_refused_total{reason="credential_in_body"} 0`,
		`inlay_cache_purges_total 0`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(body, "/product/a") {
		t.Error("a raw URL became a label value")
	}
	if strings.Contains(body, "inlay_shared_cache_up") {
		t.Error("the shared tier's health is shown without a shared tier")
	}
}

// Every gateway request is counted by route prefix and status.
func TestMetricsCountGatewayRequests(t *testing.T) {
	team := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})
	cfg, fsys := teamtest.Parse(t, teamtest.Shop{
		Services: map[string]string{"team": team.URL},
		Gateway:  "  - prefix: /api/\n    service: team",
	}, config.Parse)
	m := New()
	srv, err := composer.New(cfg, composer.Options{Observer: m, Logger: slog.New(slog.DiscardHandler), LayoutFS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	shop := httptest.NewServer(srv)
	defer shop.Close()
	for _, path := range []string{"/api/a", "/api/b", "/api/x/../../y"} {
		teamtest.Get(t, shop.URL+path)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{
		`inlay_gateway_request_duration_seconds_count{route="/api/",status="200"} 2`,
		`inlay_gateway_request_duration_seconds_count{route="/api/",status="400"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// E11: a gateway answer served from a stale copy while its team is down
// is counted by service.
func TestMetricsCountStaleGatewayAnswers(t *testing.T) {
	team := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		w.Header().Set("Cache-Control", "public, max-age=0, stale-if-error=600")
		io.WriteString(w, "a{}")
	})
	cfg, fsys := teamtest.Parse(t, teamtest.Shop{
		Services: map[string]string{"team": team.URL},
		Gateway:  "  - prefix: /api/\n    service: team",
	}, config.Parse)
	m := New()
	srv, err := composer.New(cfg, composer.Options{Observer: m, Logger: slog.New(slog.DiscardHandler), LayoutFS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	shop := httptest.NewServer(srv)
	defer shop.Close()
	teamtest.Get(t, shop.URL+"/api/a.css")
	team.Close()
	for range 2 {
		if resp, body := teamtest.Get(t, shop.URL+"/api/a.css"); resp.StatusCode != http.StatusOK || body != "a{}" {
			t.Fatalf("team down: %d %q, want the stale copy", resp.StatusCode, body)
		}
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if want := `inlay_gateway_stale_served_total{service="team"} 2`; !strings.Contains(rec.Body.String(), want) {
		t.Errorf("metrics lack %s", want)
	}
}
