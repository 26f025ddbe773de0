package fragments

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/guard"
	"github.com/inlayhq/inlay/fragments/internal/stagetest"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// pendingTeam is a stand-in team that counts the connections made to it.
type pendingTeam struct {
	*teamtest.Team
	conns  atomic.Int64  // connections opened
	closed chan struct{} // told of each connection the team closed (up to its buffer)
}

// newPendingTeam starts a team answering routes, counting connections.
func newPendingTeam(t *testing.T, routes map[string]teamtest.Route) *pendingTeam {
	t.Helper()
	pt := &pendingTeam{Team: teamtest.NewUnstarted(t, routes), closed: make(chan struct{}, 16)}
	pt.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			pt.conns.Add(1)
		case http.StateClosed:
			select {
			case pt.closed <- struct{}{}:
			default:
			}
		}
	}
	pt.Start()
	return pt
}

// newPendingEngine returns an engine whose one service, "box", is team,
// with guard and cacheOff as its settings.
func newPendingEngine(t *testing.T, team *pendingTeam, guard guard.Config, cacheOff bool) *Engine {
	t.Helper()
	e := NewEngine(EngineOptions{Logger: stagetest.DiscardLogger(), CleanupInterval: -1}, boxSettings(team, guard, cacheOff))
	t.Cleanup(e.Close)
	return e
}

// boxSettings are the settings of an engine whose one service, "box", is
// team.
func boxSettings(team *pendingTeam, guard guard.Config, cacheOff bool) Settings {
	u, _ := url.Parse(team.URL)
	return Settings{Services: []ServiceConfig{{Name: "box", URL: u, Guard: guard}}, CacheDisabled: cacheOff}
}

// boxReq is a request for path of the team behind service "box".
func boxReq(team *pendingTeam, path string) *fetch.Request {
	return &fetch.Request{ID: "box", Service: "box", URL: team.URL + path, Timeout: 5 * time.Second}
}

// noStore is a route whose answer no cache may keep.
func noStore(body string) teamtest.Route {
	return teamtest.Route{Body: body, Header: map[string]string{"Cache-Control": "no-store"}}
}

// markedEngine is an engine over a team whose one fragment, /ns, is
// no-store, fetched once: its key is marked hit-for-miss, and its
// connection is idle for the next fetch.
func markedEngine(t *testing.T, guards guard.Config) (*pendingTeam, *Engine) {
	t.Helper()
	team := newPendingTeam(t, map[string]teamtest.Route{"/ns": noStore("<p>ns</p>")})
	e := newPendingEngine(t, team, guards, false)
	mustFetch(t, e, team, "/ns")
	return team, e
}

// mustFetch fetches path through e, failing the test on an error.
func mustFetch(t *testing.T, e *Engine, team *pendingTeam, path string) *fetch.Response {
	t.Helper()
	resp, err := e.Fetch(context.Background(), boxReq(team, path))
	if err != nil {
		t.Fatalf("Fetch %s: %v", path, err)
	}
	return resp
}

// idleConns returns how many idle connections the engine's lean client
// keeps for service "box".
func idleConns(e *Engine, team *pendingTeam) int {
	g := (*e.services.Load())["box"].stable
	n := g.fallback.frag.Idle()
	for _, in := range *g.insts.Load() {
		n += in.frag.Idle()
	}
	return n
}

// statsSnapshot returns every counter of s by name.
func statsSnapshot(s *fetch.Stats) map[string]int64 {
	out := map[string]int64{}
	v := reflect.ValueOf(s).Elem()
	for i := range v.NumField() {
		if c, ok := v.Field(i).Addr().Interface().(*atomic.Int64); ok {
			out[v.Type().Field(i).Name] = c.Load()
		}
	}
	return out
}

// counts is what one fetch moved: the engine's counters and the
// service's upstream requests.
type counts struct {
	stats    map[string]int64
	upstream int64
}

// measure returns what fn moved of e's counters.
func measure(e *Engine, fn func()) counts {
	before, up := statsSnapshot(e.Stats()), e.UpstreamRequests()["box"]
	fn()
	after := statsSnapshot(e.Stats())
	moved := map[string]int64{}
	for name, n := range after {
		if d := n - before[name]; d != 0 {
			moved[name] = d
		}
	}
	return counts{stats: moved, upstream: e.UpstreamRequests()["box"] - up}
}

// sentTogether reports whether p's request went out at Start, for Wait
// to read its answer on the caller's goroutine.
func sentTogether(p *Pending) bool { return p.how == waitExchange }

// waitWithin runs p.Wait() and returns its result, failing the test if it
// has not returned within teamtest.WaitLimit: a guard against a hang,
// never a timing the test relies on.
func waitWithin(t *testing.T, p *Pending) (*fetch.Response, error) {
	resp, _, err := waitReport(t, p)
	return resp, err
}

// waitReport is waitWithin with the fetch's report.
func waitReport(t *testing.T, p *Pending) (*fetch.Response, fetch.Report, error) {
	t.Helper()
	type result struct {
		resp *fetch.Response
		rep  fetch.Report
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, rep, err := p.Wait()
		done <- result{resp, rep, err}
	}()
	select {
	case r := <-done:
		return r.resp, r.rep, r.err
	case <-time.After(teamtest.WaitLimit):
		t.Fatalf("Pending.Wait did not return within %v", teamtest.WaitLimit)
		return nil, fetch.Report{}, nil
	}
}

// Start sends at once, to be read later on the caller's goroutine, only
// what no cache can answer (a key marked hit-for-miss by a small
// answer), over an idle kept-alive connection or, with none idle, over
// one it dials on a short-lived goroutine; anything else waits on the
// cache's flight or on a goroutine of its own, the cache turned off
// included (it keeps no marks), and answers as Fetch would.
func TestStartSendsOnlyWhatNoCacheAnswers(t *testing.T) {
	cases := []struct {
		name     string
		cacheOff bool
		prime    []string // fetched first, in order
		busy     bool     // a first Start takes the idle connection
		path     string   // then started
		want     bool     // a Pending
		quiet    bool     // Quiet after Wait: nothing left running with the request
	}{
		{name: "key the cache does not know yet", prime: []string{"/other"}, path: "/ns"},
		{name: "cacheable fragment once stored", prime: []string{"/cached"}, path: "/cached", quiet: true},
		{name: "no-store fragment once marked", prime: []string{"/ns"}, path: "/ns", want: true, quiet: true},
		{name: "no-store fragment whose last answer was large", prime: []string{"/large"}, path: "/large"},
		{name: "cache disabled", cacheOff: true, prime: []string{"/ns"}, path: "/ns"},
		{name: "no idle connection: one is dialled", prime: []string{"/ns"}, busy: true, path: "/ns", want: true, quiet: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			team := newPendingTeam(t, map[string]teamtest.Route{
				"/ns":     noStore("<p>ns</p>"),
				"/other":  noStore("<p>other</p>"),
				"/cached": {Body: "<p>cached</p>", Header: map[string]string{"Cache-Control": "max-age=60"}},
				"/large":  noStore("<p>" + strings.Repeat("x", sentTogetherMaxBody) + "</p>"),
			})
			e := newPendingEngine(t, team, guard.Config{}, tc.cacheOff)
			for _, path := range tc.prime {
				mustFetch(t, e, team, path)
			}
			if len(tc.prime) > 0 && idleConns(e, team) != 1 {
				t.Fatalf("idle connections after priming: got %d, want 1", idleConns(e, team))
			}
			var first *Pending
			if tc.busy {
				before := team.Hits()
				if first = e.Start(context.Background(), boxReq(team, tc.path), nil); !sentTogether(first) {
					t.Fatal("the first Start: not sent together, want it sent")
				}
				teamtest.WaitUntil(t, "the first request at the team", func() bool { return team.Hits() == before+1 })
			}
			hits := team.Hits()
			var p *Pending
			moved := measure(e, func() { p = e.Start(context.Background(), boxReq(team, tc.path), nil) })
			if got := sentTogether(p); got != tc.want {
				t.Fatalf("Start(%s): sent together %v, want %v", tc.path, got, tc.want)
			}
			if !tc.want {
				if n := moved.stats["SentTogether"]; n != 0 {
					t.Errorf("Start not sent together yet counted SentTogether %d", n)
				}
				if _, err := waitWithin(t, p); err != nil {
					t.Errorf("Wait: %v", err)
				}
				if p.Quiet() != tc.quiet {
					t.Errorf("Quiet after Wait: %v, want %v", p.Quiet(), tc.quiet)
				}
				if tc.path == "/cached" && team.Hits() != hits {
					t.Errorf("a stored fragment went to the team: hits %d, want %d", team.Hits(), hits)
				}
				if first != nil {
					if _, err := waitWithin(t, first); err != nil {
						t.Errorf("the first Start's Wait: %v", err)
					}
				}
				wantNoSlotHeld(t, e)
				return
			}
			resp, err := waitWithin(t, p)
			if err != nil {
				t.Fatalf("Wait: %v", err)
			}
			if string(resp.Body) != "<p>ns</p>" {
				t.Errorf("Wait body: got %q, want %q", resp.Body, "<p>ns</p>")
			}
			if p.Quiet() != tc.quiet {
				t.Errorf("Quiet after Wait: %v, want %v", p.Quiet(), tc.quiet)
			}
			if first != nil {
				if _, err := waitWithin(t, first); err != nil {
					t.Errorf("the first Start's Wait: %v", err)
				}
				if got := team.conns.Load(); got != 2 {
					t.Errorf("connections: got %d, want 2 (the kept one, and one dialled for the second Start)", got)
				}
				if got := idleConns(e, team); got != 2 {
					t.Errorf("idle connections after both: got %d, want 2", got)
				}
			}
			wantNoSlotHeld(t, e)
		})
	}
}

// A started fetch answers and counts as a Fetch of the same fragment
// would: the same body, the same counters moved by the same amounts, the
// same report; and over the kept-alive connection, with no dial.
func TestStartCountsAsFetch(t *testing.T) {
	team, e := markedEngine(t, guard.Config{})

	fetchReq := boxReq(team, "/ns")
	var fetched *fetch.Response
	var fetchRep, startRep fetch.Report
	byFetch := measure(e, func() {
		var err error
		if fetched, fetchRep, err = e.start(context.Background(), fetchReq, false, nil).Wait(); err != nil {
			t.Fatalf("Fetch: %v", err)
		}
	})

	startReq := boxReq(team, "/ns")
	conns := team.conns.Load()
	var started *fetch.Response
	byStart := measure(e, func() {
		p := e.Start(context.Background(), startReq, nil)
		if !sentTogether(p) {
			t.Fatal("Start: not sent together, want it sent")
		}
		if p.Request() != startReq {
			t.Errorf("Pending.Request: got %p, want the request started (%p)", p.Request(), startReq)
		}
		var err error
		if started, startRep, err = waitReport(t, p); err != nil {
			t.Fatalf("Wait: %v", err)
		}
	})
	if string(started.Body) != string(fetched.Body) || started.Status != fetched.Status {
		t.Errorf("Wait: got %d %q, want %d %q as Fetch", started.Status, started.Body, fetched.Status, fetched.Body)
	}
	// The one count of its own: the fetch was sent together.
	if n := byStart.stats["SentTogether"]; n != 1 {
		t.Errorf("SentTogether moved by %d, want 1", n)
	}
	delete(byStart.stats, "SentTogether")
	if !reflect.DeepEqual(byStart, byFetch) {
		t.Errorf("counters moved by Start+Wait:\n got  %+v\n want %+v (as by Fetch)", byStart, byFetch)
	}
	if byFetch.upstream != 1 || byFetch.stats["UpstreamGets"] != 1 {
		t.Errorf("a Fetch moved %+v: want one upstream request and one UpstreamGets", byFetch)
	}
	if startRep != fetchRep {
		t.Errorf("report: got %+v, want %+v as Fetch", startRep, fetchRep)
	}
	if got := team.conns.Load(); got != conns {
		t.Errorf("connections: Start dialled %d, want none (the idle one is used)", got-conns)
	}
}

// Ready is false while the service has not answered, and true once the
// answer is in the socket, whole or not, coded or chunked: a page writes
// out what it has before it waits, and only then.
func TestPendingReadyOnlyWhenTheAnswerIsHere(t *testing.T) {
	big := "<p>" + strings.Repeat("x", 16<<10) + "</p>" // more than the read buffer
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, "<p>ns</p>")
	zw.Close()
	cases := []struct {
		name string
		// route answers the started request: held by gate, opened once
		// Ready said false, or telling written once the whole answer is
		// sent.
		route     func(gate <-chan struct{}, written chan<- struct{}) teamtest.Route
		waitFirst bool   // Wait is called once written has told
		body      string // the answer's body as Wait gives it
		want      int    // 1: not ready before Wait
	}{
		{
			name: "answer after Wait started",
			route: func(gate <-chan struct{}, _ chan<- struct{}) teamtest.Route {
				r := noStore("<p>ns</p>")
				r.Gate = gate
				return r
			},
			body: "<p>ns</p>",
			want: 1,
		},
		{
			name: "answer already in the socket",
			route: func(_ <-chan struct{}, written chan<- struct{}) teamtest.Route {
				return teamtest.Route{Handler: func(w http.ResponseWriter, r *http.Request) {
					writeWhole(w, "<p>ns</p>")
					written <- struct{}{}
				}}
			},
			waitFirst: true,
			body:      "<p>ns</p>",
		},
		{
			name: "answer larger than the read buffer already in the socket",
			route: func(_ <-chan struct{}, written chan<- struct{}) teamtest.Route {
				return teamtest.Route{Handler: func(w http.ResponseWriter, r *http.Request) {
					writeWhole(w, big)
					written <- struct{}{}
				}}
			},
			waitFirst: true,
			body:      big,
		},
		{
			name: "gzip answer already in the socket",
			route: func(_ <-chan struct{}, written chan<- struct{}) teamtest.Route {
				return teamtest.Route{Handler: func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Encoding", "gzip")
					writeWhole(w, gz.String())
					written <- struct{}{}
				}}
			},
			waitFirst: true,
			body:      "<p>ns</p>",
		},
		{
			name: "chunked answer already in the socket",
			route: func(_ <-chan struct{}, written chan<- struct{}) teamtest.Route {
				return teamtest.Route{Handler: rawAnswer("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nCache-Control: no-store\r\n"+
					"Transfer-Encoding: chunked\r\n\r\n4\r\n<p>n\r\n5\r\ns</p>\r\n0\r\n\r\n", written)}
			},
			waitFirst: true,
			body:      "<p>ns</p>",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			team, e := markedEngine(t, guard.Config{})
			gate, written := make(chan struct{}), make(chan struct{}, 1)
			var openGate sync.Once
			defer openGate.Do(func() { close(gate) })
			team.Route("/ns", tc.route(gate, written))

			p := e.Start(context.Background(), boxReq(team, "/ns"), nil)
			if !sentTogether(p) {
				t.Fatal("Start: not sent together, want it sent")
			}
			if tc.waitFirst {
				select {
				case <-written:
				case <-time.After(teamtest.WaitLimit):
					t.Fatal("the service never wrote its answer")
				}
			}
			if p.Answered() {
				// Answered reads nothing: an answer in the socket is found by Ready alone.
				t.Error("Answered of an exchange not read yet: got true, want false")
			}
			calls := 0
			if !p.Ready() {
				calls++
				openGate.Do(func() { close(gate) }) // the service answers only now
			}
			resp, err := waitWithin(t, p)
			if err != nil {
				t.Fatalf("Wait: %v", err)
			}
			if string(resp.Body) != tc.body {
				t.Errorf("body: got %d bytes %.40q..., want %d bytes %.40q...", len(resp.Body), resp.Body, len(tc.body), tc.body)
			}
			if calls != tc.want {
				t.Errorf("not ready before Wait: got %d, want %d", calls, tc.want)
			}
			wantNoSlotHeld(t, e)
			if n := idleConns(e, team); n != 1 {
				t.Errorf("idle connections after Wait: got %d, want 1 (kept for the next fetch)", n)
			}
		})
	}
}

// rawAnswer is a handler that writes raw, a whole HTTP/1.1 answer, on the
// connection itself, tells written, and keeps the connection open until
// the client closes it.
func rawAnswer(raw string, written chan<- struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		io.WriteString(conn, raw)
		written <- struct{}{}
		io.Copy(io.Discard, brw) // until the client closes it
	}
}

// writeWhole writes a whole no-store answer, Content-Length included, and
// flushes it: when it returns, the answer is in the client's socket on
// loopback.
func writeWhole(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	io.WriteString(w, body)
	w.(http.Flusher).Flush()
}

// An answer whose deadline passed before Wait was called is taken when
// it is already here, and fails at once as a timeout when it is not.
func TestPendingWaitAfterTheDeadline(t *testing.T) {
	cases := []struct {
		name string
		// here is how much of the answer the service sends before the
		// deadline passes: all, the headers and half the body, nothing.
		here string
	}{
		{name: "answer already here", here: "all"},
		{name: "part of the answer here", here: "part"},
		{name: "no answer yet", here: "none"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			team, e := markedEngine(t, guard.Config{Failures: 1})
			gate, written := make(chan struct{}), make(chan struct{}, 1)
			defer close(gate)
			team.Route("/ns", teamtest.Route{Handler: func(w http.ResponseWriter, r *http.Request) {
				held := func() bool {
					select {
					case <-gate:
						return true
					case <-r.Context().Done():
						return false
					}
				}
				switch tc.here {
				case "all":
					writeWhole(w, "<p>ns</p>")
					written <- struct{}{}
				case "part":
					w.Header().Set("Content-Type", "text/html")
					w.Header().Set("Content-Length", "9")
					io.WriteString(w, "<p>n")
					w.(http.Flusher).Flush()
					written <- struct{}{}
					if held() {
						io.WriteString(w, "s</p>")
					}
				case "none":
					if held() {
						writeWhole(w, "<p>ns</p>")
					}
				}
			}})

			req := boxReq(team, "/ns")
			req.Timeout = time.Millisecond
			p := e.Start(context.Background(), req, nil)
			if !sentTogether(p) {
				t.Fatal("Start: not sent together, want it sent")
			}
			if tc.here != "none" {
				select {
				case <-written:
				case <-time.After(teamtest.WaitLimit):
					t.Fatal("the service never wrote its answer")
				}
			}
			// Past the fetch's own deadline, which Start set: this waits
			// for it, not for luck.
			for time.Now().Before(p.ex.x.Deadline()) {
				time.Sleep(time.Until(p.ex.x.Deadline()))
			}
			resp, err := waitWithin(t, p)
			if p.waited {
				t.Error("Wait waited: a late Wait must not wait for the service")
			}
			wantNoSlotHeld(t, e)
			if tc.here == "all" {
				if err != nil {
					t.Fatalf("Wait after the deadline with the answer here: got %v, want the answer", err)
				}
				if string(resp.Body) != "<p>ns</p>" {
					t.Errorf("body: got %q, want %q", resp.Body, "<p>ns</p>")
				}
				if got := e.Guards().State("box"); got != "closed" {
					t.Errorf("breaker after a late answer taken: got %q, want closed", got)
				}
				// The connection is kept, its deadline no longer set.
				if n := idleConns(e, team); n != 1 {
					t.Errorf("idle connections after a late answer taken: got %d, want 1", n)
				}
				conns := team.conns.Load()
				team.Route("/ns", noStore("<p>again</p>"))
				if resp := mustFetch(t, e, team, "/ns"); string(resp.Body) != "<p>again</p>" {
					t.Errorf("next fetch: got %q, want %q", resp.Body, "<p>again</p>")
				}
				if got := team.conns.Load(); got != conns {
					t.Errorf("next fetch dialled %d connections, want none (the kept one)", got-conns)
				}
				return
			}
			if fetch.KindOf(err) != fetch.KindTimeout {
				t.Fatalf("Wait after the deadline with %s of the answer: got %v (kind %v), want KindTimeout", tc.here, err, fetch.KindOf(err))
			}
			// A timeout is the service's failure, as for a Fetch.
			if got := e.Guards().State("box"); got != "open" {
				t.Errorf("breaker after a timeout with Failures 1: got %q, want open", got)
			}
			if n := idleConns(e, team); n != 0 {
				t.Errorf("idle connections after a timeout: got %d, want 0 (the half-read one closed)", n)
			}
		})
	}
}

// Wait gives a fetch's exchange back to the pool it came from, emptied,
// and the Pending forgets it: the next page's fetch may take it at once,
// and this one must not read it again. The first fetch's answer stays
// its own after a second fetch, which may be sent on the same exchange.
func TestWaitGivesTheExchangeBack(t *testing.T) {
	team, e := markedEngine(t, guard.Config{})
	team.Route("/ns", noStore("<p>ns</p>"))
	first := e.Start(context.Background(), boxReq(team, "/ns"), nil)
	if !sentTogether(first) {
		t.Fatal("Start: not sent together, want it sent")
	}
	ex := first.ex
	resp, err := waitWithin(t, first)
	if err != nil || string(resp.Body) != "<p>ns</p>" {
		t.Fatalf("first Wait: got %v, %v; want <p>ns</p>", resp, err)
	}
	if first.ex != nil || sentTogether(first) {
		t.Fatal("after Wait the Pending still holds its exchange")
	}
	if ex.ticket.Request() != nil || ex.g != nil || ex.in != nil || ex.x.Deadline() != (time.Time{}) {
		t.Fatal("the exchange given back still points at the fetch it served")
	}
	if !first.Ready() || !first.Answered() {
		t.Error("a fetch Wait has read is not Ready")
	}
	second := e.Start(context.Background(), boxReq(team, "/ns"), nil)
	if _, err := waitWithin(t, second); err != nil {
		t.Fatalf("second Wait: %v", err)
	}
	if string(resp.Body) != "<p>ns</p>" {
		t.Errorf("the first fetch's answer changed under it: %q", resp.Body)
	}
	wantNoSlotHeld(t, e)
}

// A deadline that passes while Wait waits for the service ends the
// fetch then, as a timeout; the fetch was not ready before Wait.
func TestPendingWaitUntilTheDeadline(t *testing.T) {
	gate := make(chan struct{})
	defer close(gate)
	team, e := markedEngine(t, guard.Config{})
	held := noStore("<p>ns</p>")
	held.Gate = gate
	team.Route("/ns", held)
	req := boxReq(team, "/ns")
	req.Timeout = 50 * time.Millisecond
	p := e.Start(context.Background(), req, nil)
	if !sentTogether(p) {
		t.Fatal("Start: not sent together, want it sent")
	}
	if p.Ready() {
		t.Error("Ready before the service answered: got true, want false")
	}
	_, err := waitWithin(t, p)
	if fetch.KindOf(err) != fetch.KindTimeout {
		t.Fatalf("Wait past the deadline: got %v (kind %v), want KindTimeout", err, fetch.KindOf(err))
	}
	if !p.waited {
		t.Error("Wait did not wait for the service, want it to")
	}
	if n := idleConns(e, team); n != 0 {
		t.Errorf("idle connections after a timeout: got %d, want 0", n)
	}
	wantNoSlotHeld(t, e)
}

// The caller's context ending after Start, before Wait or while Wait
// waits for the service, makes Wait fail at once as canceled; the
// connection is closed, not kept (the next fetch dials), and the breaker
// counts nothing.
func TestPendingWaitAfterCancelClosesTheConnection(t *testing.T) {
	cases := []struct {
		name       string
		whileWaits bool // cancel once the service holds the request, while Wait runs
	}{
		{name: "cancelled before Wait"},
		{name: "cancelled while Wait waits", whileWaits: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gate := make(chan struct{})
			defer close(gate)
			team, e := markedEngine(t, guard.Config{Failures: 1})
			if got := team.conns.Load(); got != 1 {
				t.Fatalf("connections after the first fetch: got %d, want 1", got)
			}
			cancelled := make(chan string, 1)
			held := noStore("<p>ns</p>")
			held.Gate, held.Cancelled = gate, cancelled
			team.Route("/ns", held)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p := e.Start(ctx, boxReq(team, "/ns"), nil)
			if !sentTogether(p) {
				t.Fatal("Start: not sent together, want it sent")
			}
			if !tc.whileWaits {
				cancel()
			} else {
				// The service holds the request behind its gate: Wait
				// has nothing to read, and the cancel comes while it runs.
				teamtest.WaitUntil(t, "the request at the team", func() bool { return team.Hits() > 0 && !p.Ready() })
				go cancel()
			}
			_, err := waitWithin(t, p)
			if fetch.KindOf(err) != fetch.KindCanceled {
				t.Fatalf("Wait: got %v (kind %v), want KindCanceled", err, fetch.KindOf(err))
			}
			if n := idleConns(e, team); n != 0 {
				t.Errorf("idle connections after a cancelled Wait: got %d, want 0 (closed, not kept)", n)
			}
			wantNoSlotHeld(t, e)
			if got := e.Guards().State("box"); got != "closed" {
				t.Errorf("breaker after a cancelled fetch with Failures 1: got %q, want closed (not counted)", got)
			}
			// The service sees its request end with the connection.
			receive(t, cancelled)
			team.Route("/ns", noStore("<p>ns</p>"))
			mustFetch(t, e, team, "/ns")
			if got := team.conns.Load(); got != 2 {
				t.Errorf("connections after the next fetch: got %d, want 2 (the cancelled one was not reused)", got)
			}
		})
	}
}

// wantNoSlotHeld fails the test unless no fetch holds a slot of service
// "box"'s concurrency limit: every Wait gave its slot back.
func wantNoSlotHeld(t *testing.T, e *Engine) {
	t.Helper()
	if n := e.guards.InFlight("box"); n != 0 {
		t.Errorf("slots held after Wait returned: got %d, want 0", n)
	}
}

// A kept-alive connection that the service closed while it was idle is
// no loss: Start either finds it closed and leaves the fetch to Fetch, or
// sends on it and Wait fetches once more on a new connection. Either
// way the service answers the request once, and it counts once.
func TestStartOnAConnectionTheServiceClosed(t *testing.T) {
	team, e := markedEngine(t, guard.Config{})
	team.CloseClientConnections()
	select {
	case <-team.closed:
	case <-time.After(teamtest.WaitLimit):
		t.Fatal("the service did not close its idle connection")
	}
	hits := team.Hits()
	var resp *fetch.Response
	var err error
	moved := measure(e, func() {
		p := e.Start(context.Background(), boxReq(team, "/ns"), nil)
		if sentTogether(p) {
			t.Log("Start sent on the closed connection; Wait fetched anew")
		} else {
			t.Log("Start found the connection closed and fetched on a goroutine")
		}
		resp, err = waitWithin(t, p)
	})
	if err != nil {
		t.Fatalf("fetch after the service closed the idle connection: %v", err)
	}
	if string(resp.Body) != "<p>ns</p>" {
		t.Errorf("body: got %q, want %q", resp.Body, "<p>ns</p>")
	}
	if got := team.Hits() - hits; got != 1 {
		t.Errorf("requests answered: got %d, want 1", got)
	}
	if moved.upstream != 1 || moved.stats["UpstreamGets"] != 1 || moved.stats["Fetches"] != 1 {
		t.Errorf("counters moved: %+v, want one fetch, one upstream request", moved)
	}
	wantNoSlotHeld(t, e)
}

// A service at its concurrency ceiling gets no request sent together by
// Start, even with an idle connection to send it on: the fetch queues on
// a goroutine of its own.
func TestStartLeavesAServiceAtItsCeilingToFetch(t *testing.T) {
	gates := map[string]chan struct{}{"/g1": make(chan struct{}), "/g2": make(chan struct{}), "/hold": make(chan struct{})}
	arrived := make(chan string, 3)
	routes := map[string]teamtest.Route{"/ns": noStore("<p>ns</p>")}
	for path, gate := range gates {
		defer func() {
			select {
			case <-gate:
			default:
				close(gate)
			}
		}()
		routes[path] = teamtest.Route{Body: "<p>g</p>", Gate: gate, Arrived: arrived}
	}
	team := newPendingTeam(t, routes)
	e := newPendingEngine(t, team, guard.Config{MaxConcurrent: 4}, false)

	// Two connections are kept: two fetches at once, then the no-store
	// fragment that marks its key.
	var wg sync.WaitGroup
	for _, path := range []string{"/g1", "/g2"} {
		wg.Go(func() { fetchInBackground(t, e, team, path) })
	}
	for range 2 {
		receive(t, arrived)
	}
	close(gates["/g1"])
	close(gates["/g2"])
	wg.Wait()
	mustFetch(t, e, team, "/ns")

	// A reload lowers the ceiling to one; a fetch takes that slot.
	e.Configure(boxSettings(team, guard.Config{MaxConcurrent: 1}, false))
	wg.Go(func() { fetchInBackground(t, e, team, "/hold") })
	receive(t, arrived)
	if n := idleConns(e, team); n != 1 {
		t.Fatalf("idle connections while the slot is held: got %d, want 1", n)
	}
	hits := team.Hits()
	queued := e.Start(context.Background(), boxReq(team, "/ns"), nil)
	if sentTogether(queued) {
		t.Fatal("Start at the ceiling: sent together, want it queued")
	}
	teamtest.WaitUntil(t, "the fetch queued for the limit", func() bool { return e.Guards().Waiting("box") == 1 })
	if got := team.Hits(); got != hits {
		t.Errorf("Start at the ceiling sent a request: team hits %d, want %d", got, hits)
	}

	close(gates["/hold"])
	wg.Wait()
	if _, err := waitWithin(t, queued); err != nil {
		t.Errorf("Wait of the queued fetch: %v", err)
	}
	p := e.Start(context.Background(), boxReq(team, "/ns"), nil)
	if !sentTogether(p) {
		t.Fatal("Start with the slot free again: not sent together, want it sent")
	}
	if _, err := waitWithin(t, p); err != nil {
		t.Errorf("Wait: %v", err)
	}
	wantNoSlotHeld(t, e)
}

// fetchInBackground fetches path through e on a goroutine of its own,
// failing the test (without stopping it) on an error.
func fetchInBackground(t *testing.T, e *Engine, team *pendingTeam, path string) {
	if _, err := e.Fetch(context.Background(), boxReq(team, path)); err != nil {
		t.Errorf("Fetch %s: %v", path, err)
	}
}

// receive returns the next value of ch, failing the test after
// teamtest.WaitLimit.
func receive(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(teamtest.WaitLimit):
		t.Fatal("timed out waiting for a request to arrive")
		return ""
	}
}

// A breaker that is open refuses a started fetch as it refuses a Fetch:
// Wait gives KindBreakerOpen, nothing is sent, and the counters move as
// for a Fetch.
func TestStartWithTheBreakerOpen(t *testing.T) {
	team := newPendingTeam(t, map[string]teamtest.Route{
		"/ns":   noStore("<p>ns</p>"),
		"/fail": {Status: http.StatusInternalServerError},
	})
	e := newPendingEngine(t, team, guard.Config{Failures: 1, ServiceOnly: true}, false)
	mustFetch(t, e, team, "/ns")
	if _, err := e.Fetch(context.Background(), boxReq(team, "/fail")); fetch.KindOf(err) != fetch.KindStatus {
		t.Fatalf("Fetch /fail: got %v, want a status error", err)
	}
	if got := e.Guards().State("box"); got != "open" {
		t.Fatalf("breaker after one 500 with Failures 1: got %q, want open", got)
	}
	if n := idleConns(e, team); n != 1 {
		t.Fatalf("idle connections: got %d, want 1", n)
	}
	hits := team.Hits()
	var fetchErr error
	var fetchRep, startRep fetch.Report
	fetchReq, startReq := boxReq(team, "/ns"), boxReq(team, "/ns")
	byFetch := measure(e, func() { _, fetchRep, fetchErr = e.start(context.Background(), fetchReq, false, nil).Wait() })
	if fetch.KindOf(fetchErr) != fetch.KindBreakerOpen {
		t.Fatalf("Fetch with the breaker open: got %v, want KindBreakerOpen", fetchErr)
	}
	var waitErr error
	byStart := measure(e, func() {
		p := e.Start(context.Background(), startReq, nil)
		if !p.Ready() || !p.Answered() {
			t.Errorf("Ready, Answered of a refused fetch: got %v, %v; want true, true", p.Ready(), p.Answered())
		}
		_, startRep, waitErr = waitReport(t, p)
	})
	if fetch.KindOf(waitErr) != fetch.KindBreakerOpen {
		t.Errorf("Wait with the breaker open: got %v (kind %v), want KindBreakerOpen", waitErr, fetch.KindOf(waitErr))
	}
	if !reflect.DeepEqual(byStart, byFetch) {
		t.Errorf("counters moved by a refused Start+Wait:\n got  %+v\n want %+v (as by Fetch)", byStart, byFetch)
	}
	if startRep != fetchRep || startRep.Breaker != "open" {
		// Report.Breaker is what Server-Timing and the debug view show of
		// the box: a refusal by Start must say "open" there too.
		t.Errorf("report of a refused Start+Wait: got %+v, want %+v as Fetch's, breaker open", startRep, fetchRep)
	}
	if got := team.Hits(); got != hits {
		t.Errorf("requests sent with the breaker open: got %d, want none", got-hits)
	}
	if n := idleConns(e, team); n != 1 {
		t.Errorf("idle connections after the refusal: got %d, want 1 (kept)", n)
	}
	wantNoSlotHeld(t, e)
}

// A half-open breaker lets a started fetch through as its probe, counts
// the probe's outcome when Wait reads it, and refuses a second fetch
// while the one probe it allows is out, as it refuses a second Fetch.
func TestStartAsTheHalfOpenBreakersProbe(t *testing.T) {
	const openFor = 200 * time.Millisecond
	gates := map[string]chan struct{}{"/g1": make(chan struct{}), "/g2": make(chan struct{})}
	arrived := make(chan string, 2)
	routes := map[string]teamtest.Route{"/ns": noStore("<p>ns</p>"), "/fail": {Status: http.StatusInternalServerError}}
	for path, gate := range gates {
		routes[path] = teamtest.Route{Body: "<p>g</p>", Gate: gate, Arrived: arrived}
	}
	team := newPendingTeam(t, routes)
	e := newPendingEngine(t, team, guard.Config{Failures: 1, OpenFor: openFor, Probes: 1, ServiceOnly: true}, false)
	var wg sync.WaitGroup
	for path, gate := range gates {
		wg.Go(func() { fetchInBackground(t, e, team, path) })
		defer func() {
			select {
			case <-gate:
			default:
				close(gate)
			}
		}()
	}
	receive(t, arrived)
	receive(t, arrived)
	for _, gate := range gates {
		close(gate)
	}
	wg.Wait()
	mustFetch(t, e, team, "/ns")
	e.Fetch(context.Background(), boxReq(team, "/fail"))
	if got := e.Guards().State("box"); got != "open" {
		t.Fatalf("breaker after a 500: got %q, want open", got)
	}
	// The breaker turns half-open once OpenFor has passed: its own clock.
	teamtest.WaitUntil(t, "the breaker half-open", func() bool { return e.Guards().State("box") == "half-open" })
	if n := idleConns(e, team); n != 2 {
		t.Fatalf("idle connections: got %d, want 2", n)
	}
	probe := e.Start(context.Background(), boxReq(team, "/ns"), nil)
	if !sentTogether(probe) {
		t.Fatal("Start of the probe: not sent together, want it sent")
	}
	second := e.Start(context.Background(), boxReq(team, "/ns"), nil)
	if _, err := waitWithin(t, second); fetch.KindOf(err) != fetch.KindBreakerOpen {
		t.Errorf("Wait of a second fetch while the probe is out: got %v, want KindBreakerOpen", err)
	}
	if _, err := waitWithin(t, probe); err != nil {
		t.Fatalf("Wait of the probe: %v", err)
	}
	if got := e.Guards().State("box"); got != "closed" {
		t.Errorf("breaker after the probe answered: got %q, want closed", got)
	}
	wantNoSlotHeld(t, e)
}

// A sent fetch that finds no idle connection dials one on a goroutine of
// its own; when the service is gone, Wait gives the connect failure that
// Fetch would, its endpoint's breaker counts it, and no slot stays held.
func TestStartDialFailureIsAConnectFailure(t *testing.T) {
	team, e := markedEngine(t, guard.Config{})
	for _, in := range *(*e.services.Load())["box"].stable.insts.Load() {
		in.frag.Retire() // its idle connections closed: the fetch dials
	}
	team.Close() // nothing listens any more: the dial is refused

	failures := e.Guards().EndpointCounts("box", "/ns").TotalFailures
	p := e.Start(context.Background(), boxReq(team, "/ns"), nil)
	if !sentTogether(p) {
		t.Fatal("Start: not sent together, want it sent on a dialled connection")
	}
	_, err := waitWithin(t, p)
	if fetch.KindOf(err) != fetch.KindConnect {
		t.Fatalf("Wait: got %v (kind %v), want a connect failure", err, fetch.KindOf(err))
	}
	if got := e.Guards().EndpointCounts("box", "/ns").TotalFailures - failures; got != 1 {
		t.Errorf("breaker failures: got %d more, want 1", got)
	}
	wantNoSlotHeld(t, e)
}
