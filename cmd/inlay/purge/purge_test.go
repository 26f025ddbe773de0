package purge_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/inlayhq/inlay/cmd/inlay/purge"
	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/fragments"
)

// admin serves a real engine's purge handler on loopback, as the admin
// listener does, and returns a config that points at it.
func admin(t *testing.T) *config.Config {
	t.Helper()
	engine := fragments.NewEngine(fragments.EngineOptions{}, fragments.Settings{})
	t.Cleanup(func() { engine.Close() })
	mux := http.NewServeMux()
	mux.Handle("POST /-/purge", purge.Handler(engine))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &config.Config{File: "inlay.yaml", Admin: strings.TrimPrefix(srv.URL, "http://")}
}

func TestHandler(t *testing.T) {
	cfg := admin(t)
	tests := []struct {
		name   string
		query  string
		status int
		error  string
	}{
		{"a tag", "?tag=product-42", http.StatusOK, ""},
		{"two tags", "?tag=a&tag=b", http.StatusOK, ""},
		{"no tag", "", http.StatusBadRequest, "name at least one tag"},
		{"a tag with a space", "?tag=a+b", http.StatusBadRequest, "no white space"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post("http://"+cfg.Admin+"/-/purge"+tt.query, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var res purge.Result
			if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
				t.Fatalf("answer not JSON: %v", err)
			}
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if !strings.Contains(res.Error, tt.error) || (tt.error == "") != (res.Error == "") {
				t.Errorf("error %q, want one with %q", res.Error, tt.error)
			}
		})
	}
}

func TestTagsThroughTheAdminListener(t *testing.T) {
	cfg := admin(t)
	n, err := purge.Tags(t.Context(), cfg, "product-42")
	if err != nil || n != 0 {
		t.Errorf("Tags = %d, %v, want 0 purged from an empty cache and no error", n, err)
	}
	if _, err := purge.Tags(t.Context(), cfg, "bad tag"); err == nil || !strings.Contains(err.Error(), "status 400") {
		t.Errorf("Tags with a bad tag: %v, want the replica's 400", err)
	}
}

func TestTagsWithNothingToPurgeThrough(t *testing.T) {
	_, err := purge.Tags(t.Context(), &config.Config{File: "inlay.yaml"}, "x")
	if err == nil || !strings.Contains(err.Error(), "neither cache.shared.url nor admin") {
		t.Errorf("Tags without a shared tier or admin: %v, want a clear error", err)
	}
}
