package composer

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// stubRoute says how the stub answers one path.
type stubRoute struct {
	status int               // zero means 200
	body   string            // sent after the headers
	header map[string]string // extra response headers
	// gate, when not nil, holds the answer until it is closed.
	gate chan struct{}
	// hang holds the answer until the request is cancelled.
	hang bool
	// arrived, when not nil, receives the path when a request arrives.
	arrived chan string
	// cancelled, when not nil, receives the path when a request held by
	// hang or gate ends because its context did.
	cancelled chan<- string
	// handler, when not nil, answers instead of the fields above (after
	// arrived): for drips, resets and other misbehaviour.
	handler http.HandlerFunc
}

// stub is a fragment service whose routes the test controls. It records
// every request it gets.
type stub struct {
	*httptest.Server
	mu       sync.Mutex // protects routes and requests
	routes   map[string]stubRoute
	requests []recorded
	hits     atomic.Int64
	// inFlight counts the requests being answered; maxInFlight is its peak.
	inFlight, maxInFlight atomic.Int64
}

// recorded is what the stub saw of one request.
type recorded struct {
	Method, Path, RawPath, Query string
	Header                       http.Header
	Body                         string
}

func newStub(t testing.TB, routes map[string]stubRoute) *stub {
	t.Helper()
	s := &stub{routes: routes}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *stub) serve(w http.ResponseWriter, r *http.Request) {
	s.hits.Add(1)
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		if m := s.maxInFlight.Load(); n <= m || s.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests = append(s.requests, recorded{r.Method, r.URL.Path, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), string(body)})
	route, ok := s.routes[r.URL.Path]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	if route.arrived != nil {
		route.arrived <- r.URL.Path
	}
	if route.handler != nil {
		route.handler(w, r)
		return
	}
	if route.hang {
		<-r.Context().Done()
		route.reportCancel(r)
		return
	}
	if route.gate != nil {
		select {
		case <-route.gate:
		case <-r.Context().Done():
			route.reportCancel(r)
			return
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	for k, v := range route.header {
		w.Header().Set(k, v)
	}
	status := route.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	io.WriteString(w, route.body)
}

func (route *stubRoute) reportCancel(r *http.Request) {
	if route.cancelled != nil {
		route.cancelled <- r.URL.Path
	}
}

func (s *stub) requestsTo(path string) []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []recorded
	for _, r := range s.requests {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// shop is an Inlay server under test, in front of stub services.
type shop struct {
	*httptest.Server
	inlay *Server
	logs  *teamtest.Logs
	// layoutFS is the layouts folder the shop reads; a test may edit it.
	layoutFS fstest.MapFS
}

// shopConfig describes a test shop: layout files by name, and the YAML of
// the pages and gateway sections.
type shopConfig struct {
	layouts  map[string]string
	services map[string]*stub // cookies are forwarded to services named *-cookies
	pages    string           // YAML list items under pages:
	gateway  string           // YAML list items under gateway:
	extra    string           // more top-level YAML
	// serviceYAML holds more YAML lines for a service, indented to sit
	// under it, like "    max_concurrent: 4\n".
	serviceYAML map[string]string
	// fetchTransport, when not nil, carries the fragment requests.
	fetchTransport http.RoundTripper
	// logHandler, when not nil, wraps the handler the shop logs to.
	logHandler func(slog.Handler) slog.Handler
	// observer, when not nil, is told about every page and fragment.
	observer Observer
}

func newShop(t testing.TB, sc shopConfig) *shop {
	t.Helper()
	urls := map[string]string{}
	for name, st := range sc.services {
		urls[name] = st.URL
	}
	cfg, fsys := sc.parse(t, urls)
	logs, logger := sc.logger()
	srv, err := New(cfg, Options{LayoutFS: fsys, Logger: logger, FetchTransport: sc.fetchTransport, Observer: sc.observer})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(srv.Close) // after hs.Close: cleanups run last-in first-out
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &shop{Server: hs, inlay: srv, logs: logs, layoutFS: fsys}
}

// logger returns the shop's logger and the buffer its JSON records go to.
func (sc shopConfig) logger() (*teamtest.Logs, *slog.Logger) {
	logs := &teamtest.Logs{}
	var h slog.Handler = slog.NewJSONHandler(logs, nil)
	if sc.logHandler != nil {
		h = sc.logHandler(h)
	}
	return logs, slog.New(h)
}

// parse builds the shop's config, with the services at the given base
// URLs, and its layouts folder.
func (sc shopConfig) parse(t testing.TB, urls map[string]string) (*config.Config, fstest.MapFS) {
	t.Helper()
	var y strings.Builder
	y.WriteString("services:\n")
	for name, u := range urls {
		fmt.Fprintf(&y, "  %s:\n    url: %s\n    timeout: 2s\n", name, u)
		if strings.HasSuffix(name, "-cookies") {
			y.WriteString("    cookies: true\n")
		}
		y.WriteString(sc.serviceYAML[name])
	}
	y.WriteString("pages:\n" + sc.pages + "\n")
	if sc.gateway != "" {
		y.WriteString("gateway:\n" + sc.gateway + "\n")
	}
	y.WriteString(sc.extra)
	cfg, err := config.Parse("test.yaml", []byte(y.String()))
	if err != nil {
		t.Fatalf("config: %v\n%s", err, y.String())
	}
	fsys := fstest.MapFS{}
	for name, body := range sc.layouts {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return cfg, fsys
}

// get fetches a page and returns its response with the body read whole.
func (s *shop) get(t *testing.T, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return resp, string(body)
}

func (s *shop) logText() string {
	return s.logs.String()
}

// newShopFromYAML starts a shop from a whole config, with layouts on disk.
func newShopFromYAML(t *testing.T, yaml string) *shop {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("config: %v\n%s", err, yaml)
	}
	logs := &teamtest.Logs{}
	srv, err := New(cfg, Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	return &shop{Server: hs, inlay: srv, logs: logs}
}
