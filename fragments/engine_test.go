package fragments

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/guard"
	"github.com/inlayhq/inlay/fragments/internal/stagetest"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// Configure updates the engine in place: an unchanged service keeps its
// breaker state and connections, a service whose address changed gets a
// new pool and its old connections are closed, and the cache keeps what
// it holds.
func TestEngineConfigureKeepsWhatDidNotChange(t *testing.T) {
	type server struct {
		*teamtest.Team
		conns  atomic.Int64  // connections opened
		closed chan struct{} // a connection closed
	}
	start := func(status int) *server {
		s := &server{closed: make(chan struct{}, 8)}
		s.Team = teamtest.NewUnstarted(t, nil)
		s.Set(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Cache-Control", "max-age=60")
			w.WriteHeader(status)
			io.WriteString(w, "<p>"+r.URL.Path+"</p>")
		})
		s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				s.conns.Add(1)
			case http.StateClosed:
				s.closed <- struct{}{}
			}
		}
		s.Start()
		return s
	}
	sick, healthy, moved := start(500), start(200), start(200)
	svc := func(name string, s *server) ServiceConfig {
		u, _ := url.Parse(s.URL)
		return ServiceConfig{Name: name, URL: u, Guard: guard.Config{Failures: 2}}
	}
	settings := Settings{Services: []ServiceConfig{svc("sick", sick), svc("healthy", healthy)}}
	e := NewEngine(EngineOptions{Logger: stagetest.DiscardLogger(), CleanupInterval: -1}, settings)
	t.Cleanup(e.Close)
	get := func(service, path string) (*fetch.Response, error) {
		u := map[string]*server{"sick": sick, "healthy": healthy}[service].URL
		return e.Fetch(context.Background(), &fetch.Request{ID: "x", Service: service, URL: u + path})
	}
	for range 2 {
		get("sick", "/a")
	}
	if got := e.Guards().State("sick"); got != "open" {
		t.Fatalf("sick breaker: got %q, want open", got)
	}
	if _, err := get("healthy", "/cached"); err != nil {
		t.Fatal(err)
	}
	e.Configure(settings) // a reload with nothing changed
	if got := e.Guards().State("sick"); got != "open" {
		t.Errorf("sick breaker after a reload: got %q, want still open", got)
	}
	if resp, rep, err := e.Start(context.Background(), &fetch.Request{ID: "x", Service: "healthy", URL: healthy.URL + "/cached"}, nil).Wait(); err != nil || rep.Cache != fetch.CacheHit || string(resp.Body) != "<p>/cached</p>" {
		t.Errorf("cache after a reload: got %v, %+v, %v; want the stored response, a hit", resp, rep, err)
	}
	if _, err := get("healthy", "/again"); err != nil {
		t.Fatal(err)
	}
	if n := healthy.conns.Load(); n != 1 {
		t.Errorf("connections to the unchanged service: got %d, want 1 (kept)", n)
	}
	// The healthy service moves to another address: a new pool, and the
	// old one's idle connection is closed.
	settings.Services[1] = svc("healthy", moved)
	e.Configure(settings)
	select {
	case <-healthy.closed:
	case <-time.After(5 * time.Second):
		t.Error("the replaced pool's idle connection was not closed")
	}
	if _, err := e.Fetch(context.Background(), &fetch.Request{ID: "x", Service: "healthy", URL: moved.URL + "/x"}); err != nil {
		t.Errorf("fetch from the moved service: %v", err)
	}
}
