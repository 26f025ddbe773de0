package composer

// Load with the default config: a healthy service is never refused, and a
// hanging one holds only its own boxes and no more connections than its
// concurrency limit. Every load is on loopback and bounded in count.
//
// Their subject is capacity, which the race detector's instrumentation
// divides several times over, so they skip under -race; make test runs
// them in a second pass without it (go test -run '^TestLoad').

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlayhq/inlay/fragments/guard"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// fourBoxes is a page of four no-store fragments of one service, the
// third the primary, as the load benchmark composes.
const fourBoxes = pageHead +
	`<fragment id="header" src="team:/header"></fragment>` +
	`<fragment id="search" src="team:/search"></fragment>` +
	`<fragment id="basket" src="team:/basket" primary></fragment>` +
	`<fragment id="footer" src="team:/footer"></fragment>` + pageTail

// delayed answers body after d, marked no-store, unless the request ends
// first.
func delayed(d time.Duration, body string) teamtest.Route {
	return teamtest.Route{Handler: func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprint(w, body)
	}}
}

// loadResult counts how a load's pages came back.
type loadResult struct {
	pages, bad atomic.Int64
	first      sync.Once
	problem    string
}

// load sends pages requests from conns workers at once (a closed loop),
// checking each page with ok.
func load(t *testing.T, url string, conns, pages int, ok func(status int, body string) bool) *loadResult {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 2 * time.Minute} // a hang guard, not a bound
	res := &loadResult{}
	jobs := make(chan int, pages)
	for i := range pages {
		jobs <- i
	}
	close(jobs)
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for range jobs {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				resp, body, err := readAll(client, req)
				res.pages.Add(1)
				if err != nil || !ok(resp.StatusCode, body) {
					res.bad.Add(1)
					res.first.Do(func() { res.problem = fmt.Sprintf("%v %v %.200q", resp, err, body) })
				}
			}
		})
	}
	wg.Wait()
	return res
}

// With the default limits, queue and breaker, 64 and 256 shoppers at once
// and a burst of 1,000 on a page of four no-store fragments from one
// healthy service get whole pages: no error, no degraded box, no fetch
// refused.
//
// The service's and the page's deadlines are a minute (I6): whether a
// burst's queue drains within the default deadlines is a matter of the
// machine's spare CPU, and the test asserts counts, which a busy machine
// cannot change. make loadbench answers the deadline question with the
// default config throughout: its one-service scenario starts a burst of
// 1,000 page loads and counts the failed, non-200 and incomplete pages
// (docs/benchmarks.md).
func TestLoadHealthyServiceIsNeverRefused(t *testing.T) {
	skipUnderRace(t)
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/header": delayed(5*time.Millisecond, "<p>header</p>"),
		"/search": delayed(20*time.Millisecond, "<p>search</p>"),
		"/basket": delayed(10*time.Millisecond, "<p>basket</p>"),
		"/footer": delayed(5*time.Millisecond, "<p>footer</p>"),
	})
	obs := &countingObserver{}
	s := newShop(t, shopConfig{
		services:    map[string]*teamtest.Team{"team": team},
		serviceYAML: map[string]string{"team": "    timeout: 1m\n"},
		extra:       "page_timeout: 1m\n",
		layouts:     map[string]string{"p.html": fourBoxes},
		pages:       "  - path: /\n    layout: p.html",
		observer:    obs,
	})
	want := pageHead + "<p>header</p><p>search</p><p>basket</p><p>footer</p>" + pageTail
	// One page first, so that Inlay knows the four keys are no-store
	// (hit-for-miss) and the loads below send each fetch on its own. Cold,
	// concurrent fetches of a no-store key wait for one another, one
	// answer at a time: how long that takes is the machine's speed, and
	// the subject of another test.
	if resp, body := s.get(t, "/"); resp.StatusCode != http.StatusOK || body != want {
		t.Fatalf("first page: %d %q", resp.StatusCode, body)
	}
	for _, tc := range []struct {
		name         string
		conns, pages int
	}{
		{"64 shoppers", 64, 640},
		{"256 shoppers", 256, 1024},
		{"a burst of 1000", 1000, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := load(t, s.URL+"/", tc.conns, tc.pages, func(status int, body string) bool {
				return status == http.StatusOK && body == want
			})
			if n := res.bad.Load(); n != 0 {
				t.Errorf("pages not whole: got %d of %d, want 0; the first: %s", n, res.pages.Load(), res.problem)
			}
		})
	}
	st := s.inlay.FetchStats()
	if n := st.Overflows.Load(); n != 0 {
		t.Errorf("fetches refused: got %d, want 0", n)
	}
	if n := obs.degraded.Load(); n != 0 {
		t.Errorf("degraded boxes: got %d, want 0", n)
	}
	if n := s.inlay.Guards().State("team"); n != "closed" {
		t.Errorf("breaker: got %q, want closed", n)
	}
}

// outcomeObserver counts pages as countingObserver does, and every
// fragment fetch by service, fragment and outcome.
type outcomeObserver struct {
	countingObserver
	omu      sync.Mutex // protects outcomes
	outcomes map[string]int
}

func (o *outcomeObserver) FragmentDone(service, fragment, outcome string, _ bool, _ time.Duration) {
	o.omu.Lock()
	defer o.omu.Unlock()
	if o.outcomes == nil {
		o.outcomes = map[string]int{}
	}
	o.outcomes[fmt.Sprintf("%s %s %s", service, fragment, outcome)]++
}

// reset forgets what was counted so far.
func (o *outcomeObserver) reset() {
	o.omu.Lock()
	o.outcomes = nil
	o.omu.Unlock()
	o.mu.Lock()
	o.times = nil
	o.mu.Unlock()
	o.degraded.Store(0)
}

// counts returns the fetch outcomes counted so far.
func (o *outcomeObserver) counts() map[string]int {
	o.omu.Lock()
	defer o.omu.Unlock()
	return maps.Clone(o.outcomes)
}

// A hanging service under 1,000 concurrent pages holds only its own
// boxes: every page has the other service's boxes and the hanging box's
// fallback, every page is done while the hanging service still holds its
// answer, and the hanging service never holds more connections than its
// limit.
//
// It asserts counts, not times: how long a page takes under a thousand
// connections on a shared machine measures the machine (I6). So the
// healthy service's deadline and the page's are a minute: only the
// hanging box's 300ms can cut a box, and every other box must be whole,
// however busy the machine. That the hanging service's queue holds none
// of the other service's fetches is asserted by order in
// TestLoadHangingServiceQueueHoldsOnlyItsOwnFetches; that a page in Inlay
// takes the box's timeout and little more is measured by make loadbench,
// in its hanging-service scenario (docs/benchmarks.md).
func TestLoadHangingServiceHoldsOnlyItsOwnBoxes(t *testing.T) {
	skipUnderRace(t)
	shell := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/main":   {Body: "<h1>main</h1>", Header: map[string]string{"Cache-Control": "no-store"}},
		"/header": {Body: "<p>header</p>", Header: map[string]string{"Cache-Control": "no-store"}},
	})
	// The hanging service answers only once the test releases it, after
	// every page is done: a page that waited for it would hang the test
	// (the client's guard), and its late answer would show.
	release := make(chan struct{})
	released := sync.OnceFunc(func() { close(release) })
	t.Cleanup(released)
	slow := teamtest.NewRoutes(t, map[string]teamtest.Route{"/box": {Body: "<p>late</p>", Gate: release,
		Header: map[string]string{"Cache-Control": "no-store"}}})
	const timeout = 300 * time.Millisecond
	obs := &outcomeObserver{}
	s := newShop(t, shopConfig{
		observer:    obs,
		services:    map[string]*teamtest.Team{"shell": shell, "slow": slow},
		serviceYAML: map[string]string{"shell": "    timeout: 1m\n"},
		extra:       "page_timeout: 1m\n",
		layouts: map[string]string{"p.html": pageHead +
			`<fragment id="header" src="shell:/header"></fragment>` +
			`<fragment id="main" src="shell:/main" primary></fragment>` +
			fmt.Sprintf(`[<fragment id="box" src="slow:/box" timeout="%s"><em>fallback</em></fragment>]`, timeout) + pageTail},
		pages: "  - path: /\n    layout: p.html",
	})
	want := pageHead + "<p>header</p><h1>main</h1>[<em>fallback</em>]" + pageTail
	// One page first, so that Inlay knows the shell's keys are no-store
	// (hit-for-miss) and sends each page's shell fetches on their own: a
	// thousand cold fetches of a no-store key would wait for one another,
	// one answer at a time, and on a busy machine run into any deadline.
	// That is the subject of another test; this one counts boxes.
	if resp, body := s.get(t, "/"); resp.StatusCode != http.StatusOK || body != want {
		t.Fatalf("first page: %d %q", resp.StatusCode, body)
	}
	obs.reset()
	held := slow.Hits()
	const n = 1000
	start := make(chan struct{})
	tr := &http.Transport{MaxIdleConnsPerHost: n}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 2 * time.Minute} // a hang guard, not a bound
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range n {
		wg.Go(func() {
			<-start
			req, _ := http.NewRequest(http.MethodGet, s.URL+"/", nil)
			resp, body, err := readAll(client, req)
			if err != nil || resp.StatusCode != http.StatusOK || body != want {
				if bad.Add(1) == 1 {
					t.Errorf("page: %v %v %.300q", resp, err, body)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	// Every page is done (and none has the late answer) while the hanging
	// service still holds every fetch: no page waited for it.
	if got := slow.Hits(); got == held {
		t.Error("the hanging service saw no request: the test proves nothing")
	}
	released()
	if b := bad.Load(); b != 0 {
		t.Errorf("pages without the other boxes or the fallback: got %d of %d, want 0", b, n)
	}
	// Each page degraded exactly one box, the hanging one, and every
	// other box was whole.
	if got := obs.degraded.Load(); got != n {
		t.Errorf("degraded boxes: got %d, want %d, the hanging box of each page", got, n)
	}
	var boxes, others int
	for k, c := range obs.counts() {
		switch {
		case strings.HasPrefix(k, "slow box "):
			boxes += c
			if outcome := strings.Fields(k)[2]; outcome != "timeout" && outcome != "overflow" && outcome != "breaker_open" {
				t.Errorf("the hanging box: %d fetches ended %q, want timeout, overflow or breaker_open", c, outcome)
			}
		case strings.HasPrefix(k, "shell ") && strings.HasSuffix(k, " ok"):
			others += c
		default:
			t.Errorf("unexpected fetch outcome %q: %d", k, c)
		}
	}
	if boxes != n || others != 2*n {
		t.Errorf("fetch outcomes: %d hanging boxes fell back, %d other boxes whole; want %d and %d: %v", boxes, others, n, 2*n, obs.counts())
	}
	// The limit starts at its initial value and only shrinks as fetches
	// time out.
	if got := slow.PeakInFlight(); got > guard.DefaultInitialLimit {
		t.Errorf("requests held by the hanging service at once: got %d, want at most its limit %d", got, guard.DefaultInitialLimit)
	}
	if got := s.inlay.Guards().Limit("slow"); got >= guard.DefaultInitialLimit {
		t.Errorf("the hanging service's limit: got %d, want it below the initial %d after its timeouts", got, guard.DefaultInitialLimit)
	}
	if got := s.inlay.Guards().State("shell"); got != "closed" {
		t.Errorf("the healthy service's breaker: got %q, want closed", got)
	}
	if !strings.Contains(s.logText(), `"folded"`) {
		t.Errorf("no degraded-box log line: %.500s", s.logText())
	}
	inlay := obs.pageTimes()
	t.Logf("pages in Inlay (not asserted; see make loadbench): p50 %v, p99 %v (the box's timeout %v)",
		inlay[len(inlay)/2], inlay[len(inlay)*99/100], timeout)
	st := s.inlay.FetchStats()
	t.Logf("shell: %d requests, at most %d at once, limit %d; hanging service: %d requests; fetches %d, coalesced %d, passes %d, queued %d, upstream %d, sent together %d",
		shell.Hits(), shell.PeakInFlight(), s.inlay.Guards().Limit("shell"), slow.Hits(), st.Fetches.Load(), st.Coalesced.Load(),
		st.Passes.Load(), st.Queued.Load(), st.UpstreamGets.Load(), st.SentTogether.Load())
}

// skipUnderRace skips a load test in a race-detector build.
func skipUnderRace(t *testing.T) {
	t.Helper()
	if raceDetector {
		t.Skip("a load test: make test runs it without -race, whose instrumentation divides capacity")
	}
}

// A hanging service's queue holds only its own fetches: with 300 pages at
// once, three times its concurrency limit, and the hanging service holding
// every fetch it gets until the test releases it, every page's boxes from
// the other service are fetched while the hanging service still holds its
// whole limit and the rest of its fetches wait in its queue. Order and
// counts, no time: every deadline is a minute, and the waits are hang
// guards (I6). Once released, every page is whole.
func TestLoadHangingServiceQueueHoldsOnlyItsOwnFetches(t *testing.T) {
	skipUnderRace(t)
	shell := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/main":   {Body: "<h1>main</h1>", Header: map[string]string{"Cache-Control": "no-store"}},
		"/header": {Body: "<p>header</p>", Header: map[string]string{"Cache-Control": "no-store"}},
	})
	release := make(chan struct{})
	released := sync.OnceFunc(func() { close(release) })
	t.Cleanup(released)
	slow := teamtest.NewRoutes(t, map[string]teamtest.Route{"/box": {Body: "<p>late</p>", Gate: release,
		Header: map[string]string{"Cache-Control": "no-store"}}})
	s := newShop(t, shopConfig{
		services:    map[string]*teamtest.Team{"shell": shell, "slow": slow},
		serviceYAML: map[string]string{"shell": "    timeout: 1m\n", "slow": "    timeout: 1m\n"},
		extra:       "page_timeout: 1m\n",
		layouts: map[string]string{"p.html": pageHead +
			`<fragment id="header" src="shell:/header?p={id}"></fragment>` +
			`<fragment id="main" src="shell:/main?p={id}" primary></fragment>` +
			`[<fragment id="box" src="slow:/box?p={id}"><em>fallback</em></fragment>]` + pageTail},
		pages: "  - path: /p/{id}\n    layout: p.html",
	})
	const n = 3 * guard.DefaultInitialLimit
	tr := &http.Transport{MaxIdleConnsPerHost: n}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 2 * time.Minute} // a hang guard, not a bound
	var done atomic.Int64
	var wg sync.WaitGroup
	var bad atomic.Int64
	want := pageHead + "<p>header</p><h1>main</h1>[<p>late</p>]" + pageTail
	// Each page has its own id, so that no fetch is shared between pages.
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/p/%d", s.URL, i), nil)
			resp, body, err := readAll(client, req)
			done.Add(1)
			if err != nil || resp.StatusCode != http.StatusOK || body != want {
				if bad.Add(1) == 1 {
					t.Errorf("page: %v %v %.600q", resp, err, body)
				}
			}
		})
	}
	// Every page's two shell boxes are fetched while the hanging service
	// has answered nothing.
	until := time.Now().Add(2 * time.Minute)
	for shell.Hits() < 2*n {
		if time.Now().After(until) {
			released()
			t.Fatalf("shell fetches: %d of %d after 2 minutes, with the hanging service holding %d: its queue holds other services' fetches",
				shell.Hits(), 2*n, slow.Hits())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := done.Load(); got != 0 {
		t.Errorf("pages done before the hanging service answered: %d, want 0", got)
	}
	if got := slow.Hits(); got > guard.DefaultInitialLimit || got == 0 {
		t.Errorf("fetches the hanging service holds: %d, want 1 to its limit %d, the rest of the %d in its queue", got, guard.DefaultInitialLimit, n)
	}
	// The service answered nothing yet, so its limit is still the initial
	// one, and what it holds is what it holds at once: the check above is
	// the limit's. Once released, the limit adapts to the answers (the
	// queued fetches come back at once, and it may grow past the initial
	// one), so a peak taken then says nothing of the queue.
	released()
	wg.Wait()
	if b := bad.Load(); b != 0 {
		t.Errorf("pages not whole once the hanging service answered: %d of %d", b, n)
	}
	if got := slow.Hits(); got != n {
		t.Errorf("fetches of the hanging service: got %d, want %d, one per page", got, n)
	}
	if got := s.inlay.Guards().State("shell"); got != "closed" {
		t.Errorf("the other service's breaker: got %q, want closed", got)
	}
}
