package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/inlayhq/inlay/fragments"
)

// POST /-/canary sets a canary's weight on the admin listener; a bad
// query, an unknown service or one without a canary is a 400 that
// changes nothing.
func TestCanaryAdminRoute(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:1")
	cu, _ := url.Parse("http://127.0.0.1:2")
	e := fragments.NewEngine(fragments.EngineOptions{Logger: slog.New(slog.DiscardHandler), CleanupInterval: -1}, fragments.Settings{
		Services: []fragments.ServiceConfig{
			{Name: "basket", URL: u, Canary: &fragments.CanaryConfig{URL: cu, Weight: 5}},
			{Name: "search", URL: u},
		},
	})
	defer e.Close()
	h := canaryHandler(e)
	for _, tc := range []struct {
		query      string
		wantStatus int
		wantWeight int
	}{
		{"service=basket&weight=20", http.StatusOK, 20},
		{"service=basket&weight=101", http.StatusBadRequest, 20},
		{"service=basket&weight=x", http.StatusBadRequest, 20},
		{"weight=10", http.StatusBadRequest, 20},
		{"service=search&weight=10", http.StatusBadRequest, 20},
		{"service=nope&weight=10", http.StatusBadRequest, 20},
		{"service=basket&weight=0", http.StatusOK, 0},
	} {
		rec := httptest.NewRecorder()
		h(rec, httptest.NewRequest(http.MethodPost, "/-/canary?"+tc.query, nil))
		if rec.Code != tc.wantStatus {
			t.Errorf("%s: status %d, want %d (%s)", tc.query, rec.Code, tc.wantStatus, rec.Body)
		}
		if got := e.Canaries()["basket"].Weight; got != tc.wantWeight {
			t.Errorf("%s: weight %d, want %d", tc.query, got, tc.wantWeight)
		}
	}
}
