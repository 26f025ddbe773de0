package composer

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/inlayhq/inlay/teams/teamtest"

	"github.com/inlayhq/inlay/composer/config"
)

// TestOperatorLogs: an unknown path gets a log line and a count; a page's
// access-log line gives durations in milliseconds, named with the unit.
func TestOperatorLogs(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/main": {Body: "<h1>main</h1>"}})
	cfg, err := config.Parse("t.yaml", []byte("services:\n  team:\n    url: "+team.URL+"\npages:\n  - path: /\n    layout: p.html\n"))
	if err != nil {
		t.Fatal(err)
	}
	logs := &teamtest.Logs{}
	obs := &countingObserver{}
	srv, err := New(cfg, Options{
		Observer:  obs,
		LayoutFS:  fstest.MapFS{"p.html": {Data: []byte(pageHead + `<fragment src="team:/main" primary></fragment>` + pageTail)}},
		Logger:    slog.New(slog.NewJSONHandler(logs, nil)),
		AccessLog: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	for _, path := range []string{"/", "/wp-login.php"} {
		resp, err := http.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if n := obs.unknownPaths.Load(); n != 1 {
		t.Errorf("unknown paths counted: %d, want 1", n)
	}
	if n := srv.UpstreamRequests()["team"]; n != 1 {
		t.Errorf("upstream requests to team: %d, want 1", n)
	}
	var page, unknown map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		switch rec["msg"] {
		case "page":
			page = rec
		case "unknown path":
			unknown = rec
		}
	}
	if unknown == nil || unknown["path"] != "/wp-login.php" || unknown["status"] != float64(404) || unknown["request_id"] == "" {
		t.Errorf("unknown-path log line: %v", unknown)
	}
	if page == nil {
		t.Fatal("no access-log line for the page")
	}
	for _, field := range []string{"duration_ms", "ttfb_ms"} {
		if _, ok := page[field].(float64); !ok {
			t.Errorf("access log %s = %v, want a number of milliseconds", field, page[field])
		}
	}
	if _, ok := page["duration"]; ok {
		t.Errorf("access log still has a unitless duration: %v", page)
	}
}
