package composer

// Fault-matrix tests (docs/fault-matrix.md, rows A, B, C1, C3, C5, E, F5,
// I1): each fault is made by a stub that misbehaves precisely, and each test
// ends by checking that the server still serves. Loopback tests use real
// HTTP; the tests whose subject is time run in a synctest bubble against
// in-memory services.

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"

	"github.com/inlayhq/inlay/fragments"
	"github.com/inlayhq/inlay/fragments/cache"
	"github.com/inlayhq/inlay/fragments/guard"
	"github.com/inlayhq/inlay/fragments/shared"
	"github.com/inlayhq/inlay/fragments/shared/redistest"
	"github.com/inlayhq/inlay/teams/teamtest"
	"golang.org/x/net/html"
)

// memShop is a shop whose services are in-memory handlers, for tests that
// run inside a synctest bubble: no socket, and a fetch stack built here
// (a cache without a cleanup goroutine, guards, a client) that the test can
// inspect.
type memShop struct {
	inlay  *Server
	cache  *cache.Cache
	guards *guard.Guards
	logs   *teamtest.Logs
}

// memTransport sends each request to the handler of the service named by
// its host, service.test, in the calling goroutine. Like a real transport,
// it fails the request if its context ended before the answer was made.
type memTransport map[string]http.HandlerFunc

func (m memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	h := m[strings.TrimSuffix(r.URL.Hostname(), ".test")]
	if h == nil {
		return nil, fmt.Errorf("dial %s: no such service", r.URL.Host)
	}
	rec := httptest.NewRecorder()
	h(rec, r)
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	return rec.Result(), nil
}

// newMemShop returns a memShop whose engine reaches services the way way
// says.
func newMemShop(t *testing.T, way memWay, sc shopConfig, services map[string]http.HandlerFunc, guard guard.Config) *memShop {
	t.Helper()
	urls := map[string]string{}
	for name := range services {
		urls[name] = "http://" + name + ".test"
	}
	cfg, fsys := sc.parse(t, urls)
	logs, logger := sc.logger()
	// The production engine, over in-memory services, with the test's
	// guard settings for every service.
	settings := EngineSettings(cfg)
	for i := range settings.Services {
		settings.Services[i].Guard = guard
	}
	opts := way.options(t, services)
	opts.Logger, opts.CleanupInterval = logger, -1
	engine := fragments.NewEngine(opts, settings)
	t.Cleanup(engine.Close)
	srv, err := New(cfg, Options{Engine: engine, LayoutFS: fsys, Logger: logger, Observer: sc.observer})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(srv.Close)
	return &memShop{inlay: srv, cache: engine.Cache(), guards: engine.Guards(), logs: logs}
}

// serve runs one page request through the server and returns the response.
func serve(h http.Handler, ctx context.Context, path string, header ...string) *http.Response {
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

// get serves a page and returns its status and body.
func (s *memShop) get(t *testing.T, path string, header ...string) (int, string) {
	t.Helper()
	resp := serve(s.inlay, context.Background(), path, header...)
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (s *memShop) logText() string {
	return s.logs.String()
}

// htmlHandler answers with body after holding for delay, unless the
// request's context ends first. header is name, value pairs.
func htmlHandler(delay time.Duration, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Add(header[i], header[i+1])
		}
		io.WriteString(w, body)
	}
}

// routes dispatches on the request path.
func routes(m map[string]http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h := m[r.URL.Path]; h != nil {
			h(w, r)
			return
		}
		http.NotFound(w, r)
	}
}

// hangHandler never answers; it counts the requests that ended because
// their context did.
func hangHandler(cancelled *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		cancelled.Add(1)
	}
}

// The fault layout: a primary, then a box with an inline fallback between
// brackets, so that a test can compare whole pages.
const (
	faultLayout = pageHead + `<fragment id="main" src="shell:/main" primary></fragment>[<fragment id="box" src="box:/box"%s><em>fallback</em></fragment>]` + pageTail
	faultPage   = pageHead + `<h1>main</h1>[<em>fallback</em>]` + pageTail
)

func boxPage(content string) string { return pageHead + `<h1>main</h1>[` + content + `]` + pageTail }

// faultShop serves faultLayout over loopback: shell answers /main, box
// answers /box as route says. attrs go on the box's <fragment> tag.
func faultShop(t *testing.T, route teamtest.Route, attrs string, edit ...func(*shopConfig)) (*shop, *teamtest.Team) {
	t.Helper()
	shell := teamtest.NewRoutes(t, map[string]teamtest.Route{"/main": {Body: "<h1>main</h1>"}})
	box := teamtest.NewRoutes(t, map[string]teamtest.Route{"/box": route})
	sc := shopConfig{
		services: map[string]*teamtest.Team{"shell": shell, "box": box},
		layouts:  map[string]string{"p.html": fmt.Sprintf(faultLayout, attrs)},
		pages:    "  - path: /\n    layout: p.html",
	}
	for _, e := range edit {
		e(&sc)
	}
	return newShop(t, sc), box
}

// wantAlive fails the test unless the shop still serves its page with 200.
func wantAlive(t *testing.T, s *shop) {
	t.Helper()
	if resp, body := s.get(t, "/"); resp.StatusCode != http.StatusOK {
		t.Errorf("follow-up request: got status %d, want 200; body %q", resp.StatusCode, body)
	}
}

// wantLog fails the test unless a log record has all the given
// "key":"value" pairs.
func wantLog(t *testing.T, logs string, pairs ...string) {
	t.Helper()
	for _, line := range strings.Split(logs, "\n") {
		ok := line != ""
		for i := 0; ok && i+1 < len(pairs); i += 2 {
			ok = strings.Contains(line, fmt.Sprintf("%q:%q", pairs[i], pairs[i+1]))
		}
		if ok {
			return
		}
	}
	t.Errorf("no log record with %q; logs:\n%s", pairs, logs)
}

// newGate returns a gate for stub routes and a function that opens it,
// once however often it is called. Tests defer the opening too, so that a
// test that fails before it opens the gate leaves no handler waiting (and
// no server Close waiting on that handler).
func newGate() (chan struct{}, func()) {
	ch := make(chan struct{})
	var once sync.Once
	return ch, func() { once.Do(func() { close(ch) }) }
}

// receive waits for a value on ch, failing the test after 10s.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// pageClient is an HTTP client for many concurrent page requests.
func pageClient(t *testing.T) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// readAll sends req and reads the whole answer.
func readAll(c *http.Client, req *http.Request) (*http.Response, string, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, string(body), err
}

// notBefore fails the test if elapsed is under lo. It is the only
// wall-clock check of the loopback twins of the synctest tests: a busy
// machine makes a page later, never earlier. How much later says nothing
// but the machine's load, so they assert no upper bound (I6). Instead,
// longDeadlines moves every deadline but the one under test a minute away,
// past teamtest.GetTimeout, the hang guard: a page that comes back at all
// was cut by the deadline under test.
func notBefore(t *testing.T, what string, elapsed, lo time.Duration) {
	t.Helper()
	if elapsed < lo {
		t.Errorf("%s took %v, want at least %v", what, elapsed, lo)
	}
}

// longDeadlines sets the timeout of every service of sc, and the page's,
// to a minute.
func longDeadlines(sc *shopConfig) {
	if sc.serviceYAML == nil {
		sc.serviceYAML = map[string]string{}
	}
	for name := range sc.services {
		sc.serviceYAML[name] += "    timeout: 1m\n"
	}
	sc.extra += "page_timeout: 1m\n"
}

// ---- A. Timing faults ----

// A1 (synctest): a fragment that never answers is cut at exactly its own
// deadline; its box shows the fallback, the others are intact, the failure
// is logged and counted by its service's breaker.
func TestHangingFragmentFallsBackAtExactlyItsDeadline(t *testing.T) {
	memTest(t, func(t *testing.T, way memWay) {
		var cancelled atomic.Int64
		var answering atomic.Bool
		shell := routes(map[string]http.HandlerFunc{
			"/main":   htmlHandler(0, "<h1>main</h1>"),
			"/footer": htmlHandler(0, "<p>footer</p>"),
		})
		search := func(w http.ResponseWriter, r *http.Request) {
			if answering.Load() {
				htmlHandler(0, "<ul>results</ul>")(w, r)
				return
			}
			hangHandler(&cancelled)(w, r)
		}
		s := newMemShop(t, way, shopConfig{
			layouts: map[string]string{"p.html": pageHead + `<fragment src="shell:/main" primary></fragment>` +
				`[<fragment id="search" src="search:/box" timeout="300ms"><em>search is resting</em></fragment>]` +
				`<fragment src="shell:/footer"></fragment>` + pageTail},
			pages: "  - path: /\n    layout: p.html",
		}, map[string]http.HandlerFunc{"shell": shell, "search": search}, guard.Config{})

		start := time.Now()
		status, body := s.get(t, "/")
		if elapsed := time.Since(start); elapsed != 300*time.Millisecond {
			t.Errorf("page took %v, want exactly the fragment's 300ms", elapsed)
		}
		if status != http.StatusOK {
			t.Errorf("status: got %d, want 200", status)
		}
		if want := pageHead + "<h1>main</h1>[<em>search is resting</em>]<p>footer</p>" + pageTail; body != want {
			t.Errorf("page:\ngot  %q\nwant %q", body, want)
		}
		wantLog(t, s.logText(), "msg", "fragment degraded", "fragment", "search", "reason", "timeout")
		if c := s.guards.EndpointCounts("search", "/box"); c.TotalFailures != 1 {
			t.Errorf("search breaker failures: got %d, want 1", c.TotalFailures)
		}
		if c := s.guards.Counts("shell"); c.TotalFailures != 0 {
			t.Errorf("shell breaker failures: got %d, want 0", c.TotalFailures)
		}
		synctest.Wait()
		if got := cancelled.Load(); got != 1 {
			t.Errorf("search requests cancelled: got %d, want 1", got)
		}

		answering.Store(true)
		if status, body := s.get(t, "/"); status != http.StatusOK || !strings.Contains(body, "<ul>results</ul>") {
			t.Errorf("follow-up page: got %d %q, want 200 with the results", status, body)
		}
	})
}

// A1 (synctest): a box sent together with a box that never answers, whose
// own deadline passes while the page waits for the hanging one, is shown
// when its answer came in time: the page reads it once the hanging box's
// deadline has passed and takes it whole, waiting for nothing more. Over
// in-memory connections both boxes are sent by the page (the lean client's
// exchanges); over the RoundTripper, on goroutines of their own.
func TestSentBoxReadAfterItsDeadlineIsShownWhenItAnswered(t *testing.T) {
	memTest(t, func(t *testing.T, way memWay) {
		var hanging atomic.Bool
		var cancelled atomic.Int64
		team := routes(map[string]http.HandlerFunc{
			"/hang": func(w http.ResponseWriter, r *http.Request) {
				if hanging.Load() {
					hangHandler(&cancelled)(w, r)
					return
				}
				htmlHandler(0, "<p>hang</p>", "Cache-Control", "no-store")(w, r)
			},
			"/fast": htmlHandler(0, "<p>fast</p>", "Cache-Control", "no-store"),
		})
		s := newMemShop(t, way, shopConfig{
			layouts: map[string]string{"p.html": pageHead + `<fragment src="team:/hang" timeout="300ms"><em>inline</em></fragment>` +
				`<hr><fragment src="team:/fast" timeout="200ms"><em>late</em></fragment>` + pageTail},
			pages: "  - path: /\n    layout: p.html",
		}, map[string]http.HandlerFunc{"team": team}, guard.Config{})
		// The first page learns that both answers are not to be stored.
		if status, body := s.get(t, "/"); status != http.StatusOK || body != pageHead+"<p>hang</p><hr><p>fast</p>"+pageTail {
			t.Fatalf("first page: got %d %q", status, body)
		}

		hanging.Store(true)
		sent := s.inlay.FetchStats().SentTogether.Load()
		start := time.Now()
		status, body := s.get(t, "/")
		if elapsed := time.Since(start); elapsed != 300*time.Millisecond {
			t.Errorf("page took %v, want exactly the hanging box's 300ms", elapsed)
		}
		if want := pageHead + "<em>inline</em><hr><p>fast</p>" + pageTail; status != http.StatusOK || body != want {
			t.Errorf("page:\ngot  %d %q\nwant 200 %q", status, body, want)
		}
		sentNow, wantSent := s.inlay.FetchStats().SentTogether.Load()-sent, int64(0)
		if way.conns {
			wantSent = 2
		}
		if sentNow != wantSent {
			t.Errorf("boxes sent together: got %d, want %d", sentNow, wantSent)
		}
		synctest.Wait()
		if got := cancelled.Load(); got != 1 {
			t.Errorf("hanging requests cancelled: got %d, want 1", got)
		}
	})
}

// A1 over loopback: a service that accepts the request and never sends
// headers costs the page its box's deadline, no more: every other deadline
// is a minute away, and the page comes back (I6: no upper bound).
func TestHangingFragmentFallsBackAtItsDeadlineOnLoopback(t *testing.T) {
	cancelled := make(chan string, 1)
	s, box := faultShop(t, teamtest.Route{Hang: true, Cancelled: cancelled}, ` timeout="300ms"`, longDeadlines)
	start := time.Now()
	resp, body := s.get(t, "/")
	notBefore(t, "the page", time.Since(start), 300*time.Millisecond)
	if resp.StatusCode != http.StatusOK || body != faultPage {
		t.Errorf("page: got %d %q, want 200 %q", resp.StatusCode, body, faultPage)
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Error("the hanging request was not cancelled")
	}
	wantLog(t, s.logText(), "fragment", "box", "reason", "timeout")
	if c := s.inlay.Guards().EndpointCounts("box", "/box"); c.TotalFailures != 1 {
		t.Errorf("box breaker failures: got %d, want 1", c.TotalFailures)
	}
	if n := box.Hits(); n != 1 {
		t.Errorf("box requests: got %d, want 1", n)
	}
	wantAlive(t, s)
}

// A2: headers, then a body that drips a byte at a time forever, beats any
// idle timeout but not the total one: the box falls back at its deadline
// and not one dripped byte reaches the page. Every other deadline is a
// minute away (I6: no upper bound).
func TestDripFeedingFragmentIsCutAtItsTotalDeadline(t *testing.T) {
	stopped := make(chan struct{}, 2)
	drip := func(w http.ResponseWriter, r *http.Request) {
		defer func() { stopped <- struct{}{} }()
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-tick.C:
			case <-r.Context().Done():
				return
			}
			if _, err := w.Write([]byte{"DRIP"[i%4]}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}
	s, _ := faultShop(t, teamtest.Route{Handler: drip}, ` timeout="300ms"`, longDeadlines)
	start := time.Now()
	resp, body := s.get(t, "/")
	notBefore(t, "the page", time.Since(start), 300*time.Millisecond)
	if resp.StatusCode != http.StatusOK || body != faultPage {
		t.Errorf("page: got %d %q, want 200 %q", resp.StatusCode, body, faultPage)
	}
	for _, b := range []string{"D", "R", "I", "P"} {
		if strings.Count(body, b) != strings.Count(faultPage, b) {
			t.Errorf("dripped byte %q reached the page", b)
		}
	}
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Error("the drip was never cut off")
	}
	wantLog(t, s.logText(), "fragment", "box", "reason", "timeout")
	wantAlive(t, s)
}

// A3 (synctest): a primary slower than its deadline makes a 504 static
// page at exactly that deadline, with nothing of the layout or fragments.
func TestSlowPrimaryIsA504StaticPageAtItsDeadline(t *testing.T) {
	memTest(t, func(t *testing.T, way memWay) {
		var cancelled atomic.Int64
		var answering atomic.Bool
		product := func(w http.ResponseWriter, r *http.Request) {
			if answering.Load() {
				htmlHandler(0, "<h1>product</h1>")(w, r)
				return
			}
			hangHandler(&cancelled)(w, r)
		}
		s := newMemShop(t, way, shopConfig{
			layouts: map[string]string{"p.html": pageHead + `<fragment src="shell:/header"></fragment>` +
				`<fragment id="product" src="product:/p" timeout="1s" primary></fragment>` + pageTail},
			pages: "  - path: /\n    layout: p.html",
		}, map[string]http.HandlerFunc{
			"shell":   htmlHandler(0, "<p>header</p>", "Set-Cookie", "tracking=1"),
			"product": product,
		}, guard.Config{})

		start := time.Now()
		resp := serve(s.inlay, context.Background(), "/")
		elapsed := time.Since(start)
		b, _ := io.ReadAll(resp.Body)
		body := string(b)
		if elapsed != time.Second {
			t.Errorf("504 after %v, want exactly the primary's 1s", elapsed)
		}
		if resp.StatusCode != http.StatusGatewayTimeout {
			t.Fatalf("status: got %d, want 504", resp.StatusCode)
		}
		for _, leak := range []string{"<title>t</title>", "<p>header</p>", "layout-end"} {
			if strings.Contains(body, leak) {
				t.Errorf("the 504 page holds %q from the layout or a fragment: %q", leak, body)
			}
		}
		if !strings.Contains(body, "took too long") {
			t.Errorf("the 504 page lacks its explanation: %q", body)
		}
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("Cache-Control: got %q, want no-store", got)
		}
		if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
			t.Errorf("Set-Cookie: got %q, want none", got)
		}
		wantLog(t, s.logText(), "msg", "primary fragment failed", "fragment", "product")
		if !strings.Contains(s.logText(), `"status":504`) {
			t.Errorf("the primary failure was not logged with status 504: %s", s.logText())
		}
		synctest.Wait()
		if cancelled.Load() != 1 {
			t.Errorf("primary requests cancelled: got %d, want 1", cancelled.Load())
		}

		answering.Store(true)
		if status, body := s.get(t, "/"); status != http.StatusOK || !strings.Contains(body, "<h1>product</h1>") {
			t.Errorf("follow-up page: got %d %q, want 200 with the product", status, body)
		}
	})
}

// A4 (synctest): an answer just inside the deadline is shown; one just
// outside falls back. No false timeouts, no late answers.
func TestFragmentDeadlineBoundary(t *testing.T) {
	cases := []struct {
		name  string
		delay time.Duration
		want  string
	}{
		{"10ms inside", 290 * time.Millisecond, "<p>in time</p>"},
		{"10ms outside", 310 * time.Millisecond, "<em>fallback</em>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			memTest(t, func(t *testing.T, way memWay) {
				s := newMemShop(t, way, shopConfig{
					layouts: map[string]string{"p.html": fmt.Sprintf(faultLayout, ` timeout="300ms"`)},
					pages:   "  - path: /\n    layout: p.html",
				}, map[string]http.HandlerFunc{
					"shell": htmlHandler(0, "<h1>main</h1>"),
					"box":   htmlHandler(tc.delay, "<p>in time</p>"),
				}, guard.Config{})
				start := time.Now()
				status, body := s.get(t, "/")
				if elapsed, want := time.Since(start), min(tc.delay, 300*time.Millisecond); elapsed != want {
					t.Errorf("page took %v, want %v", elapsed, want)
				}
				if status != http.StatusOK || body != boxPage(tc.want) {
					t.Errorf("page: got %d %q, want 200 %q", status, body, boxPage(tc.want))
				}
			})
		})
	}
}

// twentySlowBoxes is a layout of 20 boxes, each with its own fallback.
func twentySlowBoxes() (layout, want string) {
	var l, w strings.Builder
	l.WriteString(pageHead)
	w.WriteString(pageHead)
	for i := range 20 {
		fmt.Fprintf(&l, `<fragment id="b%d" src="slow:/b%d"><i>%d</i></fragment>`, i, i, i)
		fmt.Fprintf(&w, `<i>%d</i>`, i)
	}
	l.WriteString(pageTail)
	w.WriteString(pageTail)
	return l.String(), w.String()
}

// A5 (synctest): when every fragment takes longer than the page may, the
// page is done at exactly its deadline, however many fragments it has.
func TestPageDeadlineBoundsManySlowFragments(t *testing.T) {
	memTest(t, func(t *testing.T, way memWay) {
		layout, want := twentySlowBoxes()
		var cancelled atomic.Int64
		s := newMemShop(t, way, shopConfig{
			layouts: map[string]string{"p.html": layout},
			pages:   "  - path: /\n    layout: p.html",
			extra:   "page_timeout: 300ms\n",
		}, map[string]http.HandlerFunc{"slow": hangHandler(&cancelled)}, guard.Config{})
		start := time.Now()
		status, body := s.get(t, "/")
		if elapsed := time.Since(start); elapsed != 300*time.Millisecond {
			t.Errorf("page with 20 hanging fragments took %v, want exactly the page's 300ms", elapsed)
		}
		if status != http.StatusOK || body != want {
			t.Errorf("page: got %d %q, want 200 %q", status, body, want)
		}
		synctest.Wait()
		if got := cancelled.Load(); got != 20 {
			t.Errorf("fragment requests cancelled: got %d, want 20", got)
		}
	})
}

// A5 over loopback: 20 hanging fragments cost one page deadline, not 20:
// the service's deadline is a minute away, and the page comes back (I6: no
// upper bound).
func TestPageDeadlineBoundsManySlowFragmentsOnLoopback(t *testing.T) {
	layout, want := twentySlowBoxes()
	routes := map[string]teamtest.Route{}
	for i := range 20 {
		routes[fmt.Sprintf("/b%d", i)] = teamtest.Route{Hang: true}
	}
	slow := teamtest.NewRoutes(t, routes)
	s := newShop(t, shopConfig{
		services:    map[string]*teamtest.Team{"slow": slow},
		serviceYAML: map[string]string{"slow": "    timeout: 1m\n"},
		layouts:     map[string]string{"p.html": layout},
		pages:       "  - path: /\n    layout: p.html",
		extra:       "page_timeout: 300ms\n",
	})
	start := time.Now()
	resp, body := s.get(t, "/")
	notBefore(t, "the page", time.Since(start), 300*time.Millisecond)
	if resp.StatusCode != http.StatusOK || body != want {
		t.Errorf("page: got %d %q, want 200 %q", resp.StatusCode, body, want)
	}
	if n := slow.Hits(); n != 20 {
		t.Errorf("fragment requests: got %d, want 20 (all at once)", n)
	}
}

// A6: a service that cannot be reached (connection refused, no such host)
// falls back at once, without waiting for the deadline, and counts as a
// failure of that service. The deadline is a minute away, past
// teamtest.GetTimeout: a page that comes back at all did not wait for it,
// and no wall-clock bound is asserted (I6).
func TestUnreachableServiceFallsBackAtOnce(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, box *teamtest.Team, sc *shopConfig)
	}{
		{"connection refused", func(t *testing.T, box *teamtest.Team, _ *shopConfig) {
			box.Close() // its port now refuses connections
		}},
		{"no such host", func(t *testing.T, box *teamtest.Team, sc *shopConfig) {
			boxAddr := box.Listener.Addr().String()
			dialer := &net.Dialer{}
			tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				if addr == boxAddr {
					return nil, &net.DNSError{Err: "no such host", Name: "box.invalid", IsNotFound: true}
				}
				return dialer.DialContext(ctx, network, addr)
			}}
			t.Cleanup(tr.CloseIdleConnections)
			sc.fetchTransport = tr
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := faultShop(t, teamtest.Route{Body: "<p>box</p>"}, ` timeout="1m"`, longDeadlines, func(sc *shopConfig) {
				tc.setup(t, sc.services["box"], sc)
			})
			resp, body := s.get(t, "/")
			if resp.StatusCode != http.StatusOK || body != faultPage {
				t.Errorf("page: got %d %q, want 200 %q", resp.StatusCode, body, faultPage)
			}
			wantLog(t, s.logText(), "fragment", "box", "reason", "connect")
			if c := s.inlay.Guards().EndpointCounts("box", "/box"); c.TotalFailures != 1 {
				t.Errorf("box breaker failures: got %d, want 1", c.TotalFailures)
			}
			wantAlive(t, s)
		})
	}
}

// A7: a shopper who hangs up after the first bytes cancels the fragment
// fetches nobody else waits for; that is no failure of the service, and
// the server goes on serving.
func TestShopperLeavingAfterFirstByteCancelsUpstream(t *testing.T) {
	cancelled := make(chan string, 1)
	arrived := make(chan string, 1)
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/fast": {Body: "<nav>fast</nav>"},
		"/slow": {Hang: true, Arrived: arrived, Cancelled: cancelled},
	})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts: map[string]string{
			"p.html":  pageHead + `<fragment src="team:/fast"></fragment><main>static</main><fragment src="team:/slow"></fragment>` + pageTail,
			"ok.html": pageHead + `<fragment src="team:/fast"></fragment>` + pageTail,
		},
		pages: "  - path: /\n    layout: p.html\n  - path: /ok\n    layout: ok.html",
	})
	before := s.inlay.Guards().EndpointCounts("team", "/slow")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/", nil)
	client := pageClient(t)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	first := pageHead + "<nav>fast</nav><main>static</main>"
	got := make([]byte, len(first))
	if _, err := io.ReadFull(resp.Body, got); err != nil || string(got) != first {
		t.Fatalf("first bytes: got %q, %v; want %q", got, err, first)
	}
	receive(t, arrived, "the slow fragment's request") // it is at the service
	cancel()                                           // the shopper hangs up
	resp.Body.Close()
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream request was not cancelled after the shopper left")
	}
	teamtest.WaitUntil(t, "the cancelled fetch is accounted for", func() bool {
		return s.inlay.Guards().EndpointCounts("team", "/slow").TotalExclusions > before.TotalExclusions
	})
	after := s.inlay.Guards().EndpointCounts("team", "/slow")
	if after.TotalFailures != before.TotalFailures || after.ConsecutiveFailures != before.ConsecutiveFailures {
		t.Errorf("breaker failures: got %d (%d consecutive), want %d (%d): a shopper leaving is no service failure",
			after.TotalFailures, after.ConsecutiveFailures, before.TotalFailures, before.ConsecutiveFailures)
	}
	if st := s.inlay.Guards().State("team"); st != "closed" {
		t.Errorf("breaker: got %q, want closed", st)
	}
	if strings.Contains(s.logText(), `"reason":"canceled"`) {
		t.Errorf("a cancelled fetch was logged as degraded: %s", s.logText())
	}
	if resp, body := s.get(t, "/ok"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "<nav>fast</nav>") {
		t.Errorf("next request: got %d %q, want 200", resp.StatusCode, body)
	}
}

// ---- B. Content faults ----

// B1: a 5xx fills no box: the fallback shows, the error body is neither
// shown nor stored, and the failure counts against the service.
func TestServerErrorFragmentNeverReachesPageOrCache(t *testing.T) {
	for _, status := range []int{500, 502, 503, 504} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			s, box := faultShop(t, teamtest.Route{Status: status, Body: "<b>secret stack trace</b>",
				Header: map[string]string{"Cache-Control": "max-age=60"}}, "")
			for i := range 2 {
				resp, body := s.get(t, "/")
				if resp.StatusCode != http.StatusOK || body != faultPage {
					t.Fatalf("page %d: got %d %q, want 200 %q", i+1, resp.StatusCode, body, faultPage)
				}
			}
			if n := box.Hits(); n != 2 {
				t.Errorf("box requests for 2 pages: got %d, want 2 (a %d is never cached)", n, status)
			}
			if n := s.inlay.FetchStats().Stored.Load(); n != 0 {
				t.Errorf("responses stored: got %d, want 0", n)
			}
			if c := s.inlay.Guards().EndpointCounts("box", "/box"); c.TotalFailures != 2 {
				t.Errorf("box breaker failures: got %d, want 2", c.TotalFailures)
			}
			wantLog(t, s.logText(), "fragment", "box", "reason", "status")
		})
	}
}

// B1/E4 (synctest): within stale-if-error the stored copy stands in for a
// failing service; past it, the fallback shows.
func TestStaleFragmentStandsInForAFailingService(t *testing.T) {
	memTest(t, func(t *testing.T, way memWay) {
		var failing atomic.Bool
		var calls atomic.Int64
		box := func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			if failing.Load() {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			htmlHandler(0, "<p>v1</p>", "Cache-Control", "max-age=1, stale-if-error=60")(w, r)
		}
		s := newMemShop(t, way, shopConfig{
			layouts: map[string]string{"p.html": fmt.Sprintf(faultLayout, "")},
			pages:   "  - path: /\n    layout: p.html",
		}, map[string]http.HandlerFunc{"shell": htmlHandler(0, "<h1>main</h1>"), "box": box}, guard.Config{Failures: 100})
		if _, body := s.get(t, "/"); body != boxPage("<p>v1</p>") {
			t.Fatalf("first page: got %q", body)
		}
		time.Sleep(2 * time.Second)
		failing.Store(true)
		if status, body := s.get(t, "/"); status != http.StatusOK || body != boxPage("<p>v1</p>") {
			t.Errorf("at +2s, service failing: got %d %q, want the stale copy", status, body)
		}
		time.Sleep(60 * time.Second)
		if status, body := s.get(t, "/"); status != http.StatusOK || body != faultPage {
			t.Errorf("at +62s: got %d %q, want the fallback", status, body)
		}
		if got := calls.Load(); got != 3 {
			t.Errorf("box requests: got %d, want 3", got)
		}
	})
}

// B2: a 404 or 410 is an answer, not an outage: the fallback shows, the
// breaker counts it as a success, and it is kept as briefly as its own
// headers or the negative cache allow (max-age=60 here), so a second page
// asks the service nothing.
func TestNotFoundFragmentFallsBackAndCountsAsSuccess(t *testing.T) {
	for _, status := range []int{404, 410} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			s, box := faultShop(t, teamtest.Route{Status: status, Body: "<b>gone</b>",
				Header: map[string]string{"Cache-Control": "max-age=60"}}, "")
			for i := range 2 {
				resp, body := s.get(t, "/")
				if resp.StatusCode != http.StatusOK || body != faultPage {
					t.Fatalf("page %d: got %d %q, want 200 %q", i+1, resp.StatusCode, body, faultPage)
				}
			}
			if n := box.Hits(); n != 1 {
				t.Errorf("box requests: got %d, want 1 (the answer kept)", n)
			}
			if c := s.inlay.Guards().EndpointCounts("box", "/box"); c.TotalFailures != 0 || c.TotalSuccesses != 1 {
				t.Errorf("box breaker: got %d failures, %d successes; want 0, 1", c.TotalFailures, c.TotalSuccesses)
			}
		})
	}
}

// dialSpy is a fragment transport that records every address it dials.
type dialSpy struct {
	*http.Transport
	mu    sync.Mutex
	addrs []string
}

func newDialSpy(t *testing.T) *dialSpy {
	d := &dialSpy{}
	dialer := &net.Dialer{Timeout: time.Second}
	d.Transport = &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		d.mu.Lock()
		d.addrs = append(d.addrs, addr)
		d.mu.Unlock()
		return dialer.DialContext(ctx, network, addr)
	}}
	t.Cleanup(d.CloseIdleConnections)
	return d
}

func (d *dialSpy) dialled() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.addrs...)
}

// B3: a non-primary redirect is never followed, wherever it points: the
// fallback shows and the target is never dialled.
func TestFragmentRedirectIsNeverFollowed(t *testing.T) {
	target := teamtest.NewRoutes(t, map[string]teamtest.Route{"/x": {Body: "<p>target</p>"}})
	locations := map[string]string{
		"another service": target.URL + "/x",
		"cloud metadata":  "http://169.254.169.254/latest/meta-data/",
	}
	for _, status := range []int{301, 302, 303, 307, 308} {
		for name, loc := range locations {
			t.Run(fmt.Sprintf("%d to %s", status, name), func(t *testing.T) {
				spy := newDialSpy(t)
				s, box := faultShop(t, teamtest.Route{Status: status, Header: map[string]string{"Location": loc}}, "",
					func(sc *shopConfig) { sc.fetchTransport = spy })
				resp, body := s.get(t, "/")
				if resp.StatusCode != http.StatusOK || body != faultPage {
					t.Errorf("page: got %d %q, want 200 %q", resp.StatusCode, body, faultPage)
				}
				if got := resp.Header.Get("Location"); got != "" {
					t.Errorf("Location %q reached the shopper", got)
				}
				boxAddr := box.Listener.Addr().String()
				for _, addr := range spy.dialled() {
					if addr != boxAddr && addr != s.inlay.cfg.Services["shell"].BaseURL.Host {
						t.Errorf("dialled %s, want only the shell and box services", addr)
					}
				}
				wantAlive(t, s)
			})
		}
	}
	if n := target.Hits(); n != 0 {
		t.Errorf("redirect target requests: got %d, want 0", n)
	}
}

// B4: a body cut short, however it is cut, never reaches the page and is
// never stored.
func TestBrokenBodyNeverReachesPageOrCache(t *testing.T) {
	const head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nCache-Control: max-age=60\r\n"
	cases := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"reset mid-body", teamtest.Raw(head+"Content-Length: 100\r\n\r\n<p>PARTIAL", true)},
		{"Content-Length 100, 10 bytes and close", teamtest.Raw(head+"Content-Length: 100\r\n\r\n<p>PARTIAL", false)},
		{"chunked without the last chunk", teamtest.Raw(head+"Transfer-Encoding: chunked\r\n\r\na\r\n<p>PARTIAL\r\n", false)},
		{"handler aborts after a flush", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Cache-Control", "max-age=60")
			io.WriteString(w, "<p>PARTIAL")
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, box := faultShop(t, teamtest.Route{Handler: tc.handler}, "")
			for i := range 2 {
				resp, body := s.get(t, "/")
				if resp.StatusCode != http.StatusOK || body != faultPage {
					t.Fatalf("page %d: got %d %q, want 200 %q", i+1, resp.StatusCode, body, faultPage)
				}
			}
			if n := box.Hits(); n != 2 {
				t.Errorf("box requests: got %d, want 2 (a partial body is never stored)", n)
			}
			if n := s.inlay.FetchStats().Stored.Load(); n != 0 {
				t.Errorf("responses stored: got %d, want 0", n)
			}
			wantLog(t, s.logText(), "fragment", "box", "reason", "body")
		})
	}
}

// B5: bodies over the size cap, whether announced, endless or a gzip bomb,
// are cut at the cap: the fallback shows and the connection is dropped
// rather than drained.
func TestOversizedFragmentIsCutAtTheCap(t *testing.T) {
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write(make([]byte, 10<<20)) // 10 MiB of zeros: about 10 KB compressed
	zw.Close()
	writeForever := func(w http.ResponseWriter) {
		chunk := bytes.Repeat([]byte("<p>big</p>"), 3300)
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
	cases := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"50 MB announced", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Length", fmt.Sprint(50<<20))
			writeForever(w)
		}},
		{"endless", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			writeForever(w)
		}},
		{"gzip bomb", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb.Bytes())
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan struct{}, 1)
			handler := func(w http.ResponseWriter, r *http.Request) {
				defer func() { done <- struct{}{} }()
				tc.handler(w, r)
			}
			s, _ := faultShop(t, teamtest.Route{Handler: handler}, "",
				func(sc *shopConfig) { sc.extra = "max_fragment_bytes: 65536\n" })
			resp, body := s.get(t, "/")
			if resp.StatusCode != http.StatusOK || body != faultPage {
				t.Errorf("page: got %d %q, want 200 %q", resp.StatusCode, body, faultPage)
			}
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("the stub is still writing: the connection was not dropped")
			}
			wantLog(t, s.logText(), "fragment", "box", "reason", "too_large")
			wantAlive(t, s)
		})
	}
}

// B6: whatever bytes a fragment sends, the page stays valid UTF-8 and a
// fragment's byte order mark does not reach it.
func TestFragmentBodyKeepsThePageValidUTF8(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"invalid UTF-8", "<p>a\xff\xfeb\xc3</p>", "<p>a\uFFFDb\uFFFD</p>"},
		{"leading BOM", "\uFEFF<p>b</p>", "<p>b</p>"},
		{"NUL bytes", "<p>c\x00d</p>", "<p>c\x00d</p>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := faultShop(t, teamtest.Route{Body: tc.body}, "")
			resp, body := s.get(t, "/")
			if !utf8.ValidString(body) {
				t.Errorf("page is not valid UTF-8: %q", body)
			}
			if strings.Contains(body, "\uFEFF") {
				t.Errorf("page holds a BOM: %q", body)
			}
			if resp.StatusCode != http.StatusOK || body != boxPage(tc.want) {
				t.Errorf("page: got %d %q, want 200 %q", resp.StatusCode, body, boxPage(tc.want))
			}
		})
	}
}

// B7: a fragment body is opaque: placeholders in it are never fetched, and
// markup it leaves open must not swallow the rest of the layout.
func TestMarkupInFragmentBodyCannotBreakTheLayout(t *testing.T) {
	target := teamtest.NewRoutes(t, map[string]teamtest.Route{"/t": {Body: "<p>INJECTED</p>"}})
	cases := []struct {
		name     string
		body     string
		fallback bool // the body leaves markup open: the box must fall back
	}{
		{"fragment tag", `<fragment src="box:/t"></fragment><fragment src="` + target.URL + `/t"/>`, false},
		{"esi include", `<esi:include src="` + target.URL + `/t"/>`, false},
		{"ssi include", `<!--#include virtual="` + target.URL + `/t" -->`, false},
		{"early end of document", `<p>x</p></body></html>`, false},
		{"unclosed script", `<script>var s = "`, true},
		{"unclosed style", `<style>p {`, true},
		{"unclosed comment", `<!-- note`, true},
		{"unclosed textarea", `<textarea>type here`, true},
		{"unclosed title", `<title>t`, true},
		{"plaintext", `<plaintext>all the rest`, true},
		{"unclosed noscript", `<noscript>`, true},
		{"unclosed iframe", `<iframe>`, true},
		{"unclosed xmp", `<xmp>`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, box := faultShop(t, teamtest.Route{Body: tc.body}, "",
				func(sc *shopConfig) { sc.services["target"] = target })
			resp, body := s.get(t, "/")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status: got %d, want 200", resp.StatusCode)
			}
			if !layoutEndIsAnElement(t, body) {
				t.Errorf("the layout after the box no longer parses as elements: %q", body)
			}
			if n := box.Hits(); n != 1 {
				t.Errorf("box requests: got %d, want 1 (placeholders in its body fetched nothing)", n)
			}
			if strings.Contains(body, "INJECTED") {
				t.Errorf("an include in a fragment body was followed: %q", body)
			}
			if tc.fallback && body != faultPage {
				t.Errorf("a body that leaves markup open: got %q, want the fallback %q", body, faultPage)
			}
		})
	}
	if n := target.Hits(); n != 0 {
		t.Errorf("requests to targets named in fragment bodies: got %d, want 0", n)
	}
}

// layoutEndIsAnElement reports whether the page parses with
// <footer id="layout-end"> as an element, not as text swallowed by raw
// text, a comment or plaintext.
func layoutEndIsAnElement(t *testing.T, page string) bool {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatalf("parsing the page: %v", err)
	}
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "footer" {
			continue
		}
		for _, a := range n.Attr {
			if a.Key == "id" && a.Val == "layout-end" {
				return true
			}
		}
	}
	return false
}

// B8, B9, B10: answers that are not usable HTML fall back.
func TestUnusableFragmentAnswersFallBack(t *testing.T) {
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	hugeHeader := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("X-Huge", strings.Repeat("a", 100<<10))
		io.WriteString(w, "<p>ok</p>")
	}
	manyHeaders := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		for i := range 10_000 {
			w.Header().Set(fmt.Sprintf("X-H%d", i), "v")
		}
		io.WriteString(w, "<p>ok</p>")
	}
	cases := []struct {
		name    string
		route   teamtest.Route
		wantLog string // the degraded record's reason, if checked
	}{
		{"JSON", teamtest.Route{Body: `{"html":"<p>x</p>"}`, Header: map[string]string{"Content-Type": "application/json"}}, "content_type"},
		{"PNG", teamtest.Route{Body: png, Header: map[string]string{"Content-Type": "image/png"}}, "content_type"},
		{"binary", teamtest.Route{Body: "\x00\x01\x02", Header: map[string]string{"Content-Type": "application/octet-stream"}}, "content_type"},
		{"plain text", teamtest.Route{Body: "<p>x</p>", Header: map[string]string{"Content-Type": "text/plain"}}, "content_type"},
		{"corrupt gzip", teamtest.Route{Body: "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage-not-deflate",
			Header: map[string]string{"Content-Encoding": "gzip"}}, "body"},
		{"100 KB response header", teamtest.Route{Handler: hugeHeader}, ""},
		{"10k response headers", teamtest.Route{Handler: manyHeaders}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := faultShop(t, tc.route, "")
			resp, body := s.get(t, "/")
			if resp.StatusCode != http.StatusOK || body != faultPage {
				t.Errorf("page: got %d %q, want 200 %q", resp.StatusCode, body, faultPage)
			}
			if tc.wantLog != "" {
				wantLog(t, s.logText(), "fragment", "box", "reason", tc.wantLog)
			}
			wantAlive(t, s)
		})
	}
}

// B12: an answer whose head is malformed or whose framing is ambiguous
// falls back, and its connection is never used again: nothing after it
// can be read as the next answer.
func TestMalformedAnswerHeadsFallBack(t *testing.T) {
	const ok = "Content-Type: text/html\r\n"
	for name, raw := range map[string]string{
		"differing Content-Length":    "HTTP/1.1 200 OK\r\n" + ok + "Content-Length: 8\r\nContent-Length: 9\r\n\r\n<p>x</p>",
		"Content-Length not a number": "HTTP/1.1 200 OK\r\n" + ok + "Content-Length: 0x8\r\n\r\n<p>x</p>",
		"gzip transfer encoding":      "HTTP/1.1 200 OK\r\n" + ok + "Transfer-Encoding: gzip, chunked\r\n\r\n8\r\n<p>x</p>\r\n0\r\n\r\n",
		"folded header line":          "HTTP/1.1 200 OK\r\n" + ok + "X-A: 1\r\n 2\r\nContent-Length: 8\r\n\r\n<p>x</p>",
		"NUL in a header value":       "HTTP/1.1 200 OK\r\n" + ok + "X-A: a\x00b\r\nContent-Length: 8\r\n\r\n<p>x</p>",
		"space before the colon":      "HTTP/1.1 200 OK\r\n" + ok + "Content-Length : 8\r\n\r\n<p>x</p>",
		"not an HTTP/1.x status line": "HTTP/2.0 200 OK\r\n" + ok + "Content-Length: 8\r\n\r\n<p>x</p>",
		"a second answer smuggled in": "HTTP/1.1 200 OK\r\n" + ok + "Content-Length: 8\r\nTransfer-Encoding: identity\r\n\r\n<p>x</p>HTTP/1.1 200 OK\r\n" + ok + "Content-Length: 13\r\n\r\n<p>evil</p>\r\n",
		"a header line without colon": "HTTP/1.1 200 OK\r\n" + ok + "X-A 1\r\nContent-Length: 8\r\n\r\n<p>x</p>",
	} {
		t.Run(name, func(t *testing.T) {
			s, _ := faultShop(t, teamtest.Route{Handler: teamtest.Raw(raw, false)}, "")
			resp, body := s.get(t, "/")
			if resp.StatusCode != http.StatusOK || body != faultPage {
				t.Errorf("page: got %d %q, want 200 %q", resp.StatusCode, body, faultPage)
			}
			wantLog(t, s.logText(), "fragment", "box", "reason", "body")
			wantAlive(t, s)
		})
	}
}

// B11: a 204, or a 200 with an empty body, is an answer that says "show
// nothing": the box is empty, without its fallback and without a degraded
// log record. (Policy: an empty 200 is not a failure.)
func TestEmptyFragmentAnswersLeaveTheBoxEmpty(t *testing.T) {
	for name, route := range map[string]teamtest.Route{
		"204":       {Status: 204},
		"empty 200": {Body: ""},
	} {
		t.Run(name, func(t *testing.T) {
			s, _ := faultShop(t, route, "")
			resp, body := s.get(t, "/")
			if resp.StatusCode != http.StatusOK || body != boxPage("") {
				t.Errorf("page: got %d %q, want 200 %q", resp.StatusCode, body, boxPage(""))
			}
			if strings.Contains(s.logText(), "fragment degraded") {
				t.Errorf("an empty answer was logged as degraded: %s", s.logText())
			}
		})
	}
}

// ---- C. Credentials and leakage ----

// C1: a non-primary fragment's Set-Cookie never reaches the shopper, is
// counted, and makes the fragment uncacheable whatever its Cache-Control.
func TestNonPrimarySetCookieIsDroppedCountedAndNeverCached(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/main": {Body: "<h1>main</h1>", Header: map[string]string{"Set-Cookie": "primary=1"}},
		"/side": {Body: "<p>side</p>", Header: map[string]string{"Set-Cookie": "side=1", "Cache-Control": "public, max-age=60"}},
	})
	obs := &countingObserver{}
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts:  map[string]string{"p.html": pageHead + `<fragment src="team:/side"></fragment><fragment src="team:/main" primary></fragment>` + pageTail},
		pages:    "  - path: /\n    layout: p.html",
		observer: obs,
	})
	for i := range 2 {
		resp, body := s.get(t, "/")
		if got := resp.Header.Values("Set-Cookie"); len(got) != 1 || got[0] != "primary=1" {
			t.Errorf("page %d: Set-Cookie got %q, want only the primary's", i+1, got)
		}
		if want := pageHead + "<p>side</p><h1>main</h1>" + pageTail; body != want {
			t.Errorf("page %d:\ngot  %q\nwant %q", i+1, body, want)
		}
	}
	if n := len(team.RequestsTo("/side")); n != 2 {
		t.Errorf("side requests for 2 pages: got %d, want 2 (a response with Set-Cookie is never stored)", n)
	}
	if n := s.inlay.FetchStats().Stored.Load(); n != 0 {
		t.Errorf("responses stored: got %d, want 0", n)
	}
	if n := obs.droppedCookies.Load(); n != 2 {
		t.Errorf("dropped cookies counted: got %d, want 2", n)
	}
}

// C3: two shoppers hammer a credentialed fragment that echoes a canary of
// its own; not once does one see the other's, whether the fragment is
// private, public but varying on Cookie (never stored: one copy per shopper
// is no copy to share) or says nothing.
func TestCredentialedFragmentNeverCrossesShoppers(t *testing.T) {
	cases := []struct {
		name         string
		cacheControl string
		requests     int
		wantFetches  int64 // -1: one per request
	}{
		{"private", "private, max-age=60", 2000, -1},
		{"public but varies on Cookie", "public, max-age=60", 400, -1},
		{"no cache headers", "", 400, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			basket := teamtest.NewRoutes(t, map[string]teamtest.Route{"/mini": {Handler: func(w http.ResponseWriter, r *http.Request) {
				session := "none"
				if c, err := r.Cookie("session"); err == nil {
					session = c.Value
				}
				w.Header().Set("Content-Type", "text/html")
				if tc.cacheControl != "" {
					w.Header().Set("Cache-Control", tc.cacheControl)
				}
				w.Header().Set("Vary", "Cookie")
				io.WriteString(w, "<b>canary-"+session+"</b>")
			}}})
			// A minute for the box and the page: a box that a loaded
			// machine let time out would lack its canary and count as
			// crossed (I6).
			sc := shopConfig{
				services: map[string]*teamtest.Team{"basket-cookies": basket},
				layouts:  map[string]string{"p.html": pageHead + `<fragment id="mini" src="basket-cookies:/mini"></fragment>` + pageTail},
				pages:    "  - path: /\n    layout: p.html",
			}
			longDeadlines(&sc)
			s := newShop(t, sc)
			users := [2]string{fmt.Sprintf("alice-%d", time.Now().UnixNano()), fmt.Sprintf("bob-%d", time.Now().UnixNano())}
			client := pageClient(t)
			jobs := make(chan int)
			var crossed, failed atomic.Int64
			var firstProblem sync.Once
			var wg sync.WaitGroup
			for range 50 {
				wg.Go(func() {
					for i := range jobs {
						me, other := users[i%2], users[1-i%2]
						req, _ := http.NewRequest(http.MethodGet, s.URL+"/", nil)
						req.Header.Set("Cookie", "session="+me)
						resp, body, err := readAll(client, req)
						switch {
						case err != nil || resp.StatusCode != http.StatusOK:
							failed.Add(1)
							firstProblem.Do(func() { t.Errorf("request %d: %v %v", i, resp, err) })
						case strings.Contains(body, "canary-"+other) || !strings.Contains(body, "canary-"+me):
							crossed.Add(1)
							firstProblem.Do(func() { t.Errorf("request %d as %s got %q", i, me, body) })
						}
					}
				})
			}
			for i := range tc.requests {
				jobs <- i
			}
			close(jobs)
			wg.Wait()
			if n := crossed.Load(); n != 0 {
				t.Errorf("pages with the other shopper's canary, or without their own: got %d, want 0", n)
			}
			if n := failed.Load(); n != 0 {
				t.Errorf("failed requests: got %d, want 0", n)
			}
			want := tc.wantFetches
			if want < 0 {
				want = int64(tc.requests)
			}
			if n := basket.Hits(); n != want {
				t.Errorf("basket requests: got %d, want %d", n, want)
			}
		})
	}
}

// C5: a fragment that varies on Accept-Language is stored once per
// language, and each shopper gets their language.
func TestVaryAcceptLanguageKeepsOneEntryPerLanguage(t *testing.T) {
	box := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "Accept-Language")
		fmt.Fprintf(w, `<p lang="%s">hello</p>`, r.Header.Get("Accept-Language"))
	}
	s, stub := faultShop(t, teamtest.Route{Handler: box}, "")
	for round := range 3 {
		for _, lang := range []string{"de", "fr"} {
			_, body := s.get(t, "/", "Accept-Language", lang)
			if want := boxPage(`<p lang="` + lang + `">hello</p>`); body != want {
				t.Errorf("round %d, %s:\ngot  %q\nwant %q", round, lang, body, want)
			}
		}
	}
	if n := stub.Hits(); n != 2 {
		t.Errorf("box requests: got %d, want 2 (one per language)", n)
	}
	if n := s.inlay.FetchStats().CacheHits.Load(); n != 4 {
		t.Errorf("cache hits: got %d, want 4", n)
	}
}

// ---- E. Cache, stampede, stale ----

// stampedeLayout has a single box between brackets, fetched from box:/box.
// The generous deadlines (with patientPage) keep a loaded machine from
// turning a held fetch into a timeout.
const (
	stampedeLayout = pageHead + `[<fragment id="box" src="box:/box" timeout="10s"><em>fallback</em></fragment>]` + pageTail
	patientPage    = "page_timeout: 10s\n"
)

func stampedePage(content string) string { return pageHead + "[" + content + "]" + pageTail }

// servePages serves n page requests at once, each on its own goroutine,
// and returns a function that waits for them and returns the pages.
func servePages(h http.Handler, n int, ctx func(i int) context.Context, header func(i int) []string) func() []*http.Response {
	pages := make([]*http.Response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var hdr []string
			if header != nil {
				hdr = header(i)
			}
			c := context.Background()
			if ctx != nil {
				c = ctx(i)
			}
			pages[i] = serve(h, c, "/", hdr...)
		})
	}
	return func() []*http.Response {
		wg.Wait()
		return pages
	}
}

func bodyOf(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// E1: 1000 pages at once on one cold cacheable fragment make exactly one
// upstream fetch, and every page shows the same content.
func TestStampedeOfPagesMakesOneUpstreamFetch(t *testing.T) {
	const n = 1000
	gate, openGate := newGate()
	defer openGate()
	arrived := make(chan string, n)
	box := teamtest.NewRoutes(t, map[string]teamtest.Route{"/box": {Body: "<p>popular</p>", Gate: gate, Arrived: arrived,
		Header: map[string]string{"Cache-Control": "max-age=60"}}})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"box": box},
		layouts:  map[string]string{"p.html": stampedeLayout},
		pages:    "  - path: /\n    layout: p.html",
		extra:    patientPage,
	})
	wait := servePages(s.inlay, n, nil, nil)
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the fragment was never fetched")
	}
	teamtest.WaitUntil(t, "every page has asked the cache", func() bool { return s.inlay.FetchStats().CacheMisses.Load() == n })
	openGate()
	for i, resp := range wait() {
		if body := bodyOf(resp); resp.StatusCode != http.StatusOK || body != stampedePage("<p>popular</p>") {
			t.Fatalf("page %d: got %d %q, want 200 with the popular fragment", i, resp.StatusCode, body)
		}
	}
	if n := box.Hits(); n != 1 {
		t.Errorf("upstream fetches for %d cold pages: got %d, want 1", 1000, n)
	}
	if n := s.inlay.FetchStats().UpstreamGets.Load(); n != 1 {
		t.Errorf("FetchStats().UpstreamGets: got %d, want 1", n)
	}
	// The same request again (a real client's would send other headers,
	// and so have another key).
	if body := bodyOf(serve(s.inlay, context.Background(), "/")); body != stampedePage("<p>popular</p>") || box.Hits() != 1 {
		t.Errorf("follow-up page: got %q after %d fetches, want the stored fragment", body, box.Hits())
	}
}

// E2 (synctest): when that one fetch fails, all 1000 pages show the
// fallback from that one failure: one upstream call, one breaker failure.
func TestStampedeOfPagesSharesOneFailure(t *testing.T) {
	memTest(t, func(t *testing.T, way memWay) {
		gate := make(chan struct{})
		var calls atomic.Int64
		box := func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			select {
			case <-gate:
			case <-r.Context().Done():
				return
			}
			http.Error(w, "<b>oops</b>", http.StatusInternalServerError)
		}
		s := newMemShop(t, way, shopConfig{layouts: map[string]string{"p.html": stampedeLayout}, pages: "  - path: /\n    layout: p.html"},
			map[string]http.HandlerFunc{"box": box}, guard.Config{Failures: 5})
		const n = 1000
		wait := servePages(s.inlay, n, nil, nil)
		synctest.Wait()
		if got := calls.Load(); got != 1 {
			t.Fatalf("upstream calls while %d pages wait: got %d, want 1", n, got)
		}
		close(gate)
		for i, resp := range wait() {
			if body := bodyOf(resp); resp.StatusCode != http.StatusOK || body != stampedePage("<em>fallback</em>") {
				t.Fatalf("page %d: got %d %q, want 200 with the fallback", i, resp.StatusCode, body)
			}
		}
		if got := calls.Load(); got != 1 {
			t.Errorf("upstream calls: got %d, want 1", got)
		}
		if c := s.guards.EndpointCounts("box", "/box"); c.TotalFailures != 1 {
			t.Errorf("breaker failures: got %d, want 1, not one per page", c.TotalFailures)
		}
		if st := s.guards.State("box"); st != "closed" {
			t.Errorf("breaker: got %q, want closed", st)
		}
	})
}

// E3 (synctest): the page whose request started the shared fetch goes
// away; the fetch goes on, and the other pages get the fragment.
func TestLeaderPageLeavingDoesNotPoisonOtherPages(t *testing.T) {
	memTest(t, func(t *testing.T, way memWay) {
		gate := make(chan struct{})
		var calls, cancelled atomic.Int64
		box := func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			select {
			case <-gate:
			case <-r.Context().Done():
				cancelled.Add(1)
				return
			}
			htmlHandler(0, "<p>shared</p>", "Cache-Control", "max-age=60")(w, r)
		}
		s := newMemShop(t, way, shopConfig{layouts: map[string]string{"p.html": stampedeLayout}, pages: "  - path: /\n    layout: p.html"},
			map[string]http.HandlerFunc{"box": box}, guard.Config{})
		leaderCtx, leaderLeaves := context.WithCancel(context.Background())
		waitLeader := servePages(s.inlay, 1, func(int) context.Context { return leaderCtx }, nil)
		synctest.Wait()
		const n = 49
		waitOthers := servePages(s.inlay, n, nil, nil)
		synctest.Wait()
		leaderLeaves()
		waitLeader()
		synctest.Wait()
		if got := cancelled.Load(); got != 0 {
			t.Fatal("the shared fetch was cancelled with the page that started it")
		}
		close(gate)
		for i, resp := range waitOthers() {
			if body := bodyOf(resp); resp.StatusCode != http.StatusOK || body != stampedePage("<p>shared</p>") {
				t.Fatalf("page %d: got %d %q, want 200 with the shared fragment", i, resp.StatusCode, body)
			}
		}
		if got := calls.Load(); got != 1 {
			t.Errorf("upstream calls: got %d, want 1", got)
		}
		if strings.Contains(s.logText(), "context canceled") {
			t.Errorf("a waiting page saw the leader's cancellation: %s", s.logText())
		}
	})
}

// E3/A7 over loopback: when every page waiting on a fetch has gone, the
// fetch is cancelled: the service sees its request's context end.
func TestUpstreamCancelledWhenEveryPageLeaves(t *testing.T) {
	const n = 10
	gate, openGate := newGate()
	defer openGate()
	arrived := make(chan string, 100)
	cancelled := make(chan string, 100)
	box := teamtest.NewRoutes(t, map[string]teamtest.Route{"/box": {Body: "<p>late</p>", Gate: gate, Arrived: arrived, Cancelled: cancelled,
		Header: map[string]string{"Cache-Control": "max-age=60"}}})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"box": box},
		layouts:  map[string]string{"p.html": stampedeLayout},
		pages:    "  - path: /\n    layout: p.html",
		extra:    patientPage,
	})
	ctx, leave := context.WithCancel(context.Background())
	client := pageClient(t)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/", nil)
			if resp, _, err := readAll(client, req); err == nil {
				t.Errorf("a page answered %d before its shopper left, want none", resp.StatusCode)
			}
		})
	}
	receive(t, arrived, "the fragment request")
	teamtest.WaitUntil(t, "every page has asked the cache", func() bool { return s.inlay.FetchStats().CacheMisses.Load() == n })
	leave()
	wg.Wait()
	teamtest.WaitUntil(t, "the service has no request left", func() bool { return box.InFlight() == 0 })
	if hits, got := box.Hits(), int64(len(cancelled)); got != hits {
		t.Errorf("upstream requests cancelled: got %d of %d, want all", got, hits)
	}
	if c := s.inlay.Guards().EndpointCounts("box", "/box"); c.TotalFailures != 0 {
		t.Errorf("breaker failures: got %d, want 0: shoppers leaving is no service failure", c.TotalFailures)
	}
	openGate()
	if resp, body := s.get(t, "/"); resp.StatusCode != http.StatusOK || body != stampedePage("<p>late</p>") {
		t.Errorf("next page: got %d %q, want 200 with the fragment", resp.StatusCode, body)
	}
}

// E8: one stored body shared by 1000 concurrent pages is read, never
// written (the race detector watches), and every page is the same.
func TestCachedFragmentIsSharedUnchangedByConcurrentPages(t *testing.T) {
	content := "<p>" + strings.Repeat("shared ", 500) + "</p>"
	box := teamtest.NewRoutes(t, map[string]teamtest.Route{"/box": {Body: content, Header: map[string]string{"Cache-Control": "max-age=60"}}})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"box": box},
		layouts:  map[string]string{"p.html": stampedeLayout},
		pages:    "  - path: /\n    layout: p.html",
		extra:    patientPage,
	})
	if body := bodyOf(serve(s.inlay, context.Background(), "/")); body != stampedePage(content) {
		t.Fatalf("first page: %q", body)
	}
	for i, resp := range servePages(s.inlay, 1000, nil, nil)() {
		if body := bodyOf(resp); body != stampedePage(content) {
			t.Fatalf("page %d differs: %q", i, body)
		}
	}
	if n := box.Hits(); n != 1 {
		t.Errorf("box requests: got %d, want 1", n)
	}
}

// E9: a no-store fragment that carries a per-request token (as a CSRF
// field would) is fetched for every page, and every page gets its own.
func TestNoStoreFragmentIsFetchedForEveryPage(t *testing.T) {
	const n = 40
	gate, openGate := newGate()
	defer openGate()
	arrived := make(chan string, n)
	var count atomic.Int64
	box := teamtest.NewRoutes(t, map[string]teamtest.Route{"/box": {Arrived: arrived, Handler: func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, `<input name="csrf" value="token-%d-for-%s">`, count.Add(1), r.Header.Get(HeaderRequestID))
	}}})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"box": box},
		layouts:  map[string]string{"p.html": stampedeLayout},
		pages:    "  - path: /\n    layout: p.html",
		extra:    patientPage,
	})
	client := pageClient(t)
	bodies := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, s.URL+"/", nil)
			req.Header.Set(HeaderRequestID, fmt.Sprintf("page-%d", i))
			resp, body, err := readAll(client, req)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("page %d: %v %v", i, resp, err)
			}
			bodies[i] = body
		})
	}
	receive(t, arrived, "the first fragment request")
	stats := s.inlay.FetchStats()
	teamtest.WaitUntil(t, "every page has asked the cache", func() bool { return stats.CacheMisses.Load()+stats.Passes.Load() == n })
	openGate()
	wg.Wait()
	seen := map[string]int{}
	for i, body := range bodies {
		if want := fmt.Sprintf(`-for-page-%d">`, i); !strings.Contains(body, want) {
			t.Errorf("page %d: got %q, want its own token (ending %q)", i, body, want)
		}
		if prev, dup := seen[body]; dup {
			t.Errorf("pages %d and %d got the same token", prev, i)
		}
		seen[body] = i
	}
	if got := box.Hits(); got != n {
		t.Errorf("upstream fetches for %d pages: got %d, want %d", n, got, n)
	}
}

// ---- F. Overload ----

// F5: a service at its concurrency limit is not asked for more: fetches
// over it wait their turn within their own deadline, the service never
// sees more than the limit at once, every page gets its fragment, and the
// breaker counts none of the waiting.
func TestConcurrencyLimitQueuesWithinTheDeadline(t *testing.T) {
	const n, limit = 20, 4
	gate, openGate := newGate()
	defer openGate()
	arrived := make(chan string, n)
	box := teamtest.NewRoutes(t, map[string]teamtest.Route{"/slow": {Body: "<p>slow</p>", Gate: gate, Arrived: arrived}})
	s := newShop(t, shopConfig{
		services:    map[string]*teamtest.Team{"box": box},
		serviceYAML: map[string]string{"box": fmt.Sprintf("    max_concurrent: %d\n", limit)},
		// One key per page, so that no page waits on another's fetch.
		layouts: map[string]string{"p.html": pageHead + `[<fragment id="box" src="box:/slow?u={u}" timeout="10s"><em>fallback</em></fragment>]` + pageTail},
		pages:   "  - path: /\n    layout: p.html",
		extra:   patientPage,
	})
	client := pageClient(t)
	type page struct {
		i    int
		body string
	}
	pages := make(chan page, n)
	for i := range n {
		go func() {
			req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/?u=%d", s.URL, i), nil)
			resp, body, err := readAll(client, req)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("page %d: %v %v", i, resp, err)
			}
			pages <- page{i, body}
		}()
	}
	for range limit {
		receive(t, arrived, "the fragment requests within the limit")
	}
	// Every other fetch is queued, not refused: wait until all are.
	teamtest.WaitUntil(t, "every fetch over the limit to wait in its queue", func() bool {
		return s.inlay.Guards().Waiting("box") >= n-limit
	})
	select {
	case p := <-pages:
		t.Fatalf("page %d answered while the service held its fetches: %q", p.i, p.body)
	default:
	}
	openGate()
	for range n {
		if p := <-pages; p.body != stampedePage("<p>slow</p>") {
			t.Errorf("page %d: got %q, want the fragment", p.i, p.body)
		}
	}
	if got := box.PeakInFlight(); got > limit {
		t.Errorf("requests in flight at the service, at most: got %d, want ≤ %d", got, limit)
	}
	if got := box.Hits(); got != n {
		t.Errorf("requests that reached the service: got %d, want %d", got, n)
	}
	if got := s.inlay.FetchStats().Overflows.Load(); got != 0 {
		t.Errorf("overflows: got %d, want 0", got)
	}
	if c := s.inlay.Guards().EndpointCounts("box", "/slow"); c.TotalFailures != 0 {
		t.Errorf("breaker failures: got %d, want 0", c.TotalFailures)
	}
}

// ---- I. Process ----

// panicOn is a log handler that panics on records with the given message,
// which puts a panic on the request's own goroutine.
type panicOn struct {
	slog.Handler
	msg string
}

func (p panicOn) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == p.msg {
		panic("log sink broke on " + p.msg)
	}
	return p.Handler.Handle(ctx, r)
}
func (p panicOn) WithAttrs(a []slog.Attr) slog.Handler { return panicOn{p.Handler.WithAttrs(a), p.msg} }
func (p panicOn) WithGroup(g string) slog.Handler      { return panicOn{p.Handler.WithGroup(g), p.msg} }

// I1: a panic while serving a request is that request's 500; the server
// goes on serving.
func TestPanicWhileServingIsA500AndTheServerGoesOn(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	product := func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		htmlHandler(0, "<h1>product</h1>")(w, r)
	}
	s, _ := faultShop(t, teamtest.Route{Body: "<p>box</p>"}, "", func(sc *shopConfig) {
		sc.services["shell"].Route("/main", teamtest.Route{Handler: product})
		sc.logHandler = func(h slog.Handler) slog.Handler { return panicOn{h, "primary fragment failed"} }
	})
	resp, body := s.get(t, "/")
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("status: got %d, want 500", resp.StatusCode)
	}
	if strings.Contains(body, "<title>t</title>") || strings.Contains(body, "log sink broke") {
		t.Errorf("the 500 page shows the layout or the panic: %q", body)
	}
	wantLog(t, s.logText(), "msg", "panic serving request")
	failing.Store(false)
	if resp, body := s.get(t, "/"); resp.StatusCode != http.StatusOK || body != pageHead+"<h1>product</h1>[<p>box</p>]"+pageTail {
		t.Errorf("next request: got %d %q, want 200", resp.StatusCode, body)
	}
}

// I1: a panic in the fetch stack, which runs on a goroutine of its own, is
// that fragment's failure: a non-primary falls back, a primary makes an
// error page, and the process lives on.
func TestPanicInFetcherIsContained(t *testing.T) {
	var panicking atomic.Value // the host whose fetch panics
	panicking.Store("")
	services := memTransport{"shell": htmlHandler(0, "<h1>main</h1>"), "box": htmlHandler(0, "<p>box</p>")}
	transport := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Hostname() == panicking.Load().(string) {
			panic("fetcher bug")
		}
		return services.RoundTrip(r)
	})
	sc := shopConfig{layouts: map[string]string{"p.html": fmt.Sprintf(faultLayout, "")}, pages: "  - path: /\n    layout: p.html"}
	cfg, fsys := sc.parse(t, map[string]string{"shell": "http://shell.test", "box": "http://box.test"})
	logs, logger := sc.logger()
	srv, err := New(cfg, Options{FetchTransport: transport, CacheCleanup: -1, LayoutFS: fsys, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	s := &memShop{inlay: srv, logs: logs}

	panicking.Store("box.test")
	if status, body := s.get(t, "/"); status != http.StatusOK || body != faultPage {
		t.Errorf("panic in a box: got %d %q, want 200 %q", status, body, faultPage)
	}
	panicking.Store("shell.test")
	if status, body := s.get(t, "/"); status < 500 || strings.Contains(body, "<title>t</title>") {
		t.Errorf("panic in the primary: got %d %q, want an error page", status, body)
	}
	if !strings.Contains(s.logText(), "fetcher bug") {
		t.Errorf("the panic was not logged: %s", s.logText())
	}
	panicking.Store("")
	if status, body := s.get(t, "/"); status != http.StatusOK || body != boxPage("<p>box</p>") {
		t.Errorf("next request: got %d %q, want 200", status, body)
	}
}

// I5: a panic below the shared cache tier (in the Redis client, on the
// goroutine its calls run on) leaves the page whole: every box's fetch goes
// on without the tier, the panic is logged with its stack, and the process
// serves the next page.
func TestSharedTierPanicLeavesThePageWhole(t *testing.T) {
	rs := redistest.Start(t)
	tagged := teamtest.Route{Body: "<p>box</p>", Header: map[string]string{"Cache-Control": "max-age=60", "Surrogate-Key": "box-tag other-tag"}}
	s, _ := faultShop(t, tagged, "", func(sc *shopConfig) {
		sc.extra = "cache:\n  shared:\n    url: " + rs.URL("") + "\n    timeout: 1s\n"
	})
	ctx := shared.WithFault(context.Background(), func(op string) { panic("client bug in " + op) })
	resp := serve(s.inlay, ctx, "/")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != boxPage("<p>box</p>") {
		t.Fatalf("page with a panicking tier: got %d %q, want 200 %q", resp.StatusCode, body, boxPage("<p>box</p>"))
	}
	wantLog(t, s.logs.String(), "level", "ERROR", "fragment", "box")
	if text := s.logs.String(); !strings.Contains(text, "panic in the shared cache tier") || !strings.Contains(text, `"stack":"goroutine`) {
		t.Errorf("the panic is not logged with its stack:\n%s", text)
	}
	if resp, body := s.get(t, "/"); resp.StatusCode != http.StatusOK || body != boxPage("<p>box</p>") {
		t.Errorf("next page: got %d %q", resp.StatusCode, body)
	}
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
