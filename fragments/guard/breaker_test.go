package guard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/internal/stagetest"
	"github.com/inlayhq/inlay/fragments/transport"
	"github.com/sony/gobreaker/v2"
)

// transitions returns the breaker state changes logged, as "service:from->to".
func transitions(l *stagetest.LogRecorder) []string {
	var out []string
	for _, r := range l.Records() {
		if r.Message != "circuit breaker changed state" {
			continue
		}
		attrs := map[string]string{}
		r.Attrs(func(a slog.Attr) bool {
			attrs[a.Key] = a.Value.String()
			return true
		})
		out = append(out, attrs["service"]+":"+attrs["from"]+"->"+attrs["to"])
	}
	return out
}

// origin is an in-memory HTTP service for the Client under test: it counts
// requests, can hold them on a gate, and answers with the status that
// status returns. It opens no socket, so it runs inside a synctest bubble.
type origin struct {
	calls  atomic.Int64
	gate   chan struct{} // when not nil, requests wait for it to close
	status atomic.Int64  // zero means 200
}

func (o *origin) RoundTrip(r *http.Request) (*http.Response, error) {
	o.calls.Add(1)
	if o.gate != nil {
		select {
		case <-o.gate:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	status := int(o.status.Load())
	if status == 0 {
		status = http.StatusOK
	}
	return &http.Response{
		StatusCode: status,
		Header:     http.Header{"Content-Type": {"text/html"}},
		Body:       io.NopCloser(strings.NewReader("<p>ok</p>")),
	}, nil
}

// newGuarded returns Guards over a Client that sends its requests to o.
func newGuarded(o *origin, cfg Config, stats *fetch.Stats, logs *stagetest.LogRecorder) guarded {
	var logger *slog.Logger
	if logs != nil {
		logger = slog.New(logs)
	} else {
		logger = stagetest.DiscardLogger()
	}
	return guardedBy(&transport.Client{Transport: o}, func(string) Config { return cfg }, stats, logger)
}

// endpointCounts returns the counts of an endpoint's breaker.
func endpointCounts(g *Guards, service, endpoint string) gobreaker.Counts {
	return g.guard(service).endpoint(endpoint, g).Counts()
}

func guardRequest(service string) *fetch.Request {
	return &fetch.Request{ID: service + "-box", Service: service, URL: "http://" + service + "/box", Timeout: time.Second}
}

// F1: the breaker opens after exactly Failures consecutive failures, logs
// the change once, and while open makes no upstream call and adds no time.
// The service's one breaker (per_endpoint: false) is under test; an
// endpoint's works the same (TestPerEndpointBreakerIsolatesABrokenEndpoint).
func TestBreakerOpensAfterExactlyNFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := &origin{}
		o.status.Store(500)
		logs := &stagetest.LogRecorder{}
		stats := &fetch.Stats{}
		g := newGuarded(o, Config{Failures: 3, OpenFor: 10 * time.Second, ServiceOnly: true}, stats, logs)
		for i := range 3 {
			if got := g.State("search"); got != "closed" {
				t.Fatalf("after %d failures: got %q, want closed", i, got)
			}
			if _, err := g.Fetch(context.Background(), guardRequest("search")); fetch.KindOf(err) != fetch.KindStatus {
				t.Fatalf("failure %d: got %v, want a 500 status error", i+1, err)
			}
		}
		if got := g.State("search"); got != "open" {
			t.Fatalf("after 3 failures: got %q, want open", got)
		}
		if got, want := strings.Join(transitions(logs), " "), "search:closed->open"; got != want {
			t.Errorf("state changes logged: got %q, want %q", got, want)
		}

		start := time.Now()
		for i := range 100 {
			req := guardRequest("search")
			_, breaker, err := g.Guards.Fetch(context.Background(), req, g.next)
			if fetch.KindOf(err) != fetch.KindBreakerOpen || !errors.Is(err, gobreaker.ErrOpenState) {
				t.Fatalf("fetch %d while open: got %v, want %q wrapping gobreaker.ErrOpenState", i, err, fetch.KindBreakerOpen)
			}
			if breaker != "open" {
				t.Errorf("report: got breaker %q, want open", breaker)
			}
		}
		if elapsed := time.Since(start); elapsed != 0 {
			t.Errorf("100 refused fetches took %v, want 0", elapsed)
		}
		if got := o.calls.Load(); got != 3 {
			t.Errorf("upstream calls: got %d, want 3 (none while open)", got)
		}
		stagetest.WantStat(t, "BreakerOpen", &stats.BreakerOpen, 100)
	})
}

// F2: after OpenFor the breaker lets exactly Probes requests through and
// refuses the rest at once; the probes' outcome closes or reopens it.
func TestBreakerHalfOpenLetsExactlyProbesThrough(t *testing.T) {
	cases := []struct {
		name        string
		probeStatus int
		wantState   string
	}{
		{"probes succeed", 200, "closed"},
		{"probes fail", 503, "open"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				o := &origin{}
				o.status.Store(500)
				logs := &stagetest.LogRecorder{}
				g := newGuarded(o, Config{Failures: 1, OpenFor: 10 * time.Second, Probes: 3, ServiceOnly: true}, nil, logs)
				if _, err := g.Fetch(context.Background(), guardRequest("search")); fetch.KindOf(err) != fetch.KindStatus {
					t.Fatalf("tripping fetch: got %v", err)
				}
				time.Sleep(10 * time.Second)
				if got := g.State("search"); got != "open" {
					t.Fatalf("at OpenFor: got %q, want still open", got)
				}
				time.Sleep(time.Nanosecond)
				if got := g.State("search"); got != "half-open" {
					t.Fatalf("after OpenFor: got %q, want half-open", got)
				}

				o.gate = make(chan struct{})
				o.status.Store(int64(tc.probeStatus))
				var finished atomic.Int64
				counted := fetch.FetcherFunc(func(ctx context.Context, req *fetch.Request) (*fetch.Response, error) {
					defer finished.Add(1)
					return g.Fetch(ctx, req)
				})
				const n = 10
				wait := stagetest.FetchAll(context.Background(), counted, n, func(int) *fetch.Request { return guardRequest("search") })
				synctest.Wait()
				if got := o.calls.Load() - 1; got != 3 {
					t.Errorf("probes that reached the upstream: got %d, want 3", got)
				}
				if got := finished.Load(); got != n-3 {
					t.Errorf("fetches refused at once: got %d, want %d", got, n-3)
				}
				close(o.gate)
				refused := 0
				for _, r := range wait() {
					if fetch.KindOf(r.Err) == fetch.KindBreakerOpen {
						refused++
						if !errors.Is(r.Err, gobreaker.ErrTooManyRequests) {
							t.Errorf("refused probe: got %v, want gobreaker.ErrTooManyRequests", r.Err)
						}
					}
				}
				if refused != n-3 {
					t.Errorf("refused: got %d, want %d", refused, n-3)
				}
				if got := g.State("search"); got != tc.wantState {
					t.Fatalf("after the probes: got %q, want %q", got, tc.wantState)
				}
				want := "search:closed->open search:open->half-open search:half-open->" + tc.wantState
				if got := strings.Join(transitions(logs), " "); got != want {
					t.Errorf("state changes logged: got %q, want %q", got, want)
				}

				o.gate = nil
				calls := o.calls.Load()
				_, err := g.Fetch(context.Background(), guardRequest("search"))
				if tc.wantState == "closed" {
					if err != nil || o.calls.Load() != calls+1 {
						t.Errorf("closed again: got %v after %d calls, want a fetch that reaches the upstream", err, o.calls.Load()-calls)
					}
				} else if fetch.KindOf(err) != fetch.KindBreakerOpen || o.calls.Load() != calls {
					t.Errorf("reopened: got %v after %d calls, want a refusal without a call", err, o.calls.Load()-calls)
				}
			})
		})
	}
}

// The state a fetch reads without gobreaker's lock agrees with State at
// every step of a breaker's life: closed, open, half-open once OpenFor is
// up, closed again after the probe, and open after a failed probe.
func TestBreakerStateMirrorsGobreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := &origin{}
		g := newGuarded(o, Config{Failures: 1, OpenFor: 10 * time.Second, Probes: 1, ServiceOnly: true}, nil, nil)
		b := g.guard("search").breaker
		steps := []struct {
			name   string
			status int64         // the next fetch's answer; zero fetches nothing
			sleep  time.Duration // before the check
			want   gobreaker.State
		}{
			{"new", 0, 0, gobreaker.StateClosed},
			{"an answer", 200, 0, gobreaker.StateClosed},
			{"a failure", 500, 0, gobreaker.StateOpen},
			{"OpenFor up", 0, 10*time.Second + time.Nanosecond, gobreaker.StateHalfOpen},
			{"the probe answers", 200, 0, gobreaker.StateClosed},
			{"a failure again", 503, 0, gobreaker.StateOpen},
			{"OpenFor up again", 0, 10*time.Second + time.Nanosecond, gobreaker.StateHalfOpen},
			{"the probe fails", 500, 0, gobreaker.StateOpen},
		}
		for _, st := range steps {
			if st.status != 0 {
				o.status.Store(st.status)
				g.Fetch(context.Background(), guardRequest("search"))
			}
			time.Sleep(st.sleep)
			if got, want := b.state(), b.State(); got != want || got != st.want {
				t.Errorf("%s: state() = %v, State() = %v, want both %v", st.name, got, want, st.want)
			}
		}
	})
}

// F2: a probe whose caller went away is not counted, so it does not use up
// the half-open breaker's probes.
func TestBreakerCancelledProbeLeavesRoomForAnother(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := &origin{}
		o.status.Store(500)
		g := newGuarded(o, Config{Failures: 1, OpenFor: time.Second, Probes: 1}, nil, nil)
		g.Fetch(context.Background(), guardRequest("search"))
		time.Sleep(time.Second + time.Nanosecond)
		o.status.Store(200)
		o.gate = make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		wait := stagetest.FetchAll(ctx, g, 1, func(int) *fetch.Request { return guardRequest("search") })
		synctest.Wait()
		cancel()
		if got := fetch.KindOf(wait()[0].Err); got != fetch.KindCanceled {
			t.Fatalf("cancelled probe: got kind %q, want %q", got, fetch.KindCanceled)
		}
		o.gate = nil
		if _, err := g.Fetch(context.Background(), guardRequest("search")); err != nil {
			t.Fatalf("next probe: got %v, want it let through", err)
		}
		if got := g.State("search"); got != "closed" {
			t.Errorf("after a good probe: got %q, want closed", got)
		}
	})
}

// F3: client cancellations, 4xx answers, contract slips and local
// overflow say nothing about the service's health: none of them trips the
// breaker, however many.
func TestBreakerIgnoresCancellationsNotFoundAndOverflow(t *testing.T) {
	const n = 10_000
	cases := []struct {
		name          string
		maxConcurrent int
		run           func(t *testing.T, o *origin, g guarded)
	}{
		{"cancellations", 0, func(t *testing.T, o *origin, g guarded) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			for i := range n {
				if _, err := g.Fetch(ctx, guardRequest("search")); fetch.KindOf(err) != fetch.KindCanceled {
					t.Fatalf("fetch %d: got %v, want kind %q", i, err, fetch.KindCanceled)
				}
			}
			// And some that leave while their request is in flight.
			o.gate = make(chan struct{})
			ctx, cancel = context.WithCancel(context.Background())
			wait := stagetest.FetchAll(ctx, g, 20, func(int) *fetch.Request { return guardRequest("search") })
			synctest.Wait()
			cancel()
			for _, r := range wait() {
				if fetch.KindOf(r.Err) != fetch.KindCanceled {
					t.Fatalf("in-flight cancellation: got %v, want kind %q", r.Err, fetch.KindCanceled)
				}
			}
			o.gate = nil
		}},
		{"404s", 0, func(t *testing.T, o *origin, g guarded) {
			o.status.Store(404)
			for i := range n {
				if resp, err := g.Fetch(context.Background(), guardRequest("search")); err != nil || resp.Status != 404 {
					t.Fatalf("fetch %d: got %v, %v; want a 404 response", i, resp, err)
				}
			}
			o.status.Store(200)
		}},
		{"non-HTML answers", 0, func(t *testing.T, o *origin, g guarded) {
			g.next = &transport.Client{Transport: stagetest.RoundTripFunc(func(*http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: http.NoBody}, nil
			})}
			for i := range n {
				if _, err := g.Fetch(context.Background(), guardRequest("search")); fetch.KindOf(err) != fetch.KindContentType {
					t.Fatalf("fetch %d: got %v, want kind %q", i, err, fetch.KindContentType)
				}
			}
			g.next = &transport.Client{Transport: o}
		}},
		{"queue full", 1, func(t *testing.T, o *origin, g guarded) {
			o.gate = make(chan struct{})
			wait := stagetest.FetchAll(context.Background(), g, 1+DefaultMaxQueue, func(int) *fetch.Request { return guardRequest("search") })
			synctest.Wait()
			for i := range n {
				if _, err := g.Fetch(context.Background(), guardRequest("search")); fetch.KindOf(err) != fetch.KindOverflow {
					t.Fatalf("fetch %d: got %v, want kind %q", i, err, fetch.KindOverflow)
				}
			}
			close(o.gate)
			for _, r := range wait() {
				if r.Err != nil {
					t.Fatalf("a fetch in flight or queued: %v", r.Err)
				}
			}
			o.gate = nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				o := &origin{}
				logs := &stagetest.LogRecorder{}
				g := newGuarded(o, Config{Failures: 5, MaxConcurrent: tc.maxConcurrent}, nil, logs)
				tc.run(t, o, g)
				if got := g.State("search"); got != "closed" {
					t.Errorf("state: got %q, want closed", got)
				}
				for what, c := range map[string]gobreaker.Counts{"service": g.Counts("search"), "endpoint": endpointCounts(g.Guards, "search", "/box")} {
					if c.TotalFailures != 0 || c.ConsecutiveFailures != 0 {
						t.Errorf("%s counts: got %d failures (%d consecutive), want 0", what, c.TotalFailures, c.ConsecutiveFailures)
					}
				}
				if got := transitions(logs); len(got) != 0 {
					t.Errorf("state changes logged: got %q, want none", got)
				}
				if _, err := g.Fetch(context.Background(), guardRequest("search")); err != nil {
					t.Errorf("follow-up fetch: %v", err)
				}
			})
		})
	}
}

// F3, unit: which outcomes count against a service.
func TestBreakerCountsOnlyUpstreamFaultsAsFailures(t *testing.T) {
	cases := []struct {
		err         error
		wantSuccess bool
	}{
		{nil, true},
		{&fetch.Error{Kind: fetch.KindConnect}, false},
		{&fetch.Error{Kind: fetch.KindTimeout}, false},
		{&fetch.Error{Kind: fetch.KindBody}, false},
		{&fetch.Error{Kind: fetch.KindStatus, Status: 500}, false},
		{&fetch.Error{Kind: fetch.KindStatus, Status: 503}, false},
		{&fetch.Error{Kind: fetch.KindStatus, Status: 404}, true},
		{&fetch.Error{Kind: fetch.KindTooLarge}, true},
		{&fetch.Error{Kind: fetch.KindContentType}, true},
		{errors.New("not a fetch error"), false},
	}
	for _, tc := range cases {
		if got := countsAsSuccess(tc.err); got != tc.wantSuccess {
			t.Errorf("countsAsSuccess(%v): got %v, want %v", tc.err, got, tc.wantSuccess)
		}
	}
}

// F4: one breaker per service: a failing service opens its own and no
// other.
func TestBreakerIsPerService(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var searchCalls, basketCalls atomic.Int64
		client := &transport.Client{Transport: stagetest.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
			status := 200
			if r.URL.Host == "search" {
				searchCalls.Add(1)
				status = 503
			} else {
				basketCalls.Add(1)
			}
			return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"text/html"}}, Body: http.NoBody}, nil
		})}
		g := guardedBy(client, func(string) Config { return Config{Failures: 3} }, nil, stagetest.DiscardLogger())
		for range 10 {
			g.Fetch(context.Background(), guardRequest("search"))
			if _, err := g.Fetch(context.Background(), guardRequest("basket")); err != nil {
				t.Fatalf("basket: %v", err)
			}
		}
		if got := g.State("search"); got != "open" {
			t.Errorf("search: got %q, want open", got)
		}
		if got := g.State("basket"); got != "closed" {
			t.Errorf("basket: got %q, want closed", got)
		}
		if c := endpointCounts(g.Guards, "basket", "/box"); c.TotalFailures != 0 || c.TotalSuccesses != 10 {
			t.Errorf("basket counts: got %d failures, %d successes; want 0, 10", c.TotalFailures, c.TotalSuccesses)
		}
		if searchCalls.Load() != 3 || basketCalls.Load() != 10 {
			t.Errorf("calls: got search %d, basket %d; want 3, 10", searchCalls.Load(), basketCalls.Load())
		}
	})
}

// F5: a service's concurrency limit holds without refusing a healthy
// service: with 50 fetches for a ceiling of 4, the upstream sees at most 4
// at once, the other 46 wait their turn, and all 50 are answered.
func TestConcurrencyLimitQueuesOverflow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		up := gatedUpstream(gate)
		stats := &fetch.Stats{}
		g := guardedBy(up, func(string) Config { return Config{MaxConcurrent: 4} }, stats, stagetest.DiscardLogger())
		const n = 50
		wait := stagetest.FetchAll(context.Background(), g, n, func(int) *fetch.Request { return guardRequest("search") })
		synctest.Wait()
		if got := up.MaxInFlight.Load(); got != 4 {
			t.Errorf("upstream max in flight: got %d, want 4", got)
		}
		close(gate)
		for _, r := range wait() {
			if r.Err != nil {
				t.Errorf("unexpected error %v", r.Err)
			}
		}
		if got := up.MaxInFlight.Load(); got != 4 {
			t.Errorf("upstream max in flight after the queue drained: got %d, want 4", got)
		}
		stagetest.WantStat(t, "Queued", &stats.Queued, n-4)
		stagetest.WantStat(t, "Overflows", &stats.Overflows, 0)
	})
}

// A fetch waiting for the limit gives up at its own deadline, as a
// timeout, and leaves the queue; the breaker does not count it.
func TestConcurrencyLimitWaitEndsAtTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		up := gatedUpstream(gate)
		g := guardedBy(up, func(string) Config { return Config{MaxConcurrent: 1} }, nil, stagetest.DiscardLogger())
		held := stagetest.FetchAll(context.Background(), g, 1, func(int) *fetch.Request { return guardRequest("search") })
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := g.Fetch(ctx, guardRequest("search"))
		if fetch.KindOf(err) != fetch.KindTimeout {
			t.Errorf("queued fetch: got %v, want kind %q", err, fetch.KindTimeout)
		}
		if waited := time.Since(start); waited != 300*time.Millisecond {
			t.Errorf("waited %v, want the 300ms deadline", waited)
		}
		close(gate)
		if r := held()[0]; r.Err != nil {
			t.Fatal(r.Err)
		}
		if c := endpointCounts(g.Guards, "search", "/box"); c.Requests != 1 || c.TotalFailures != 0 {
			t.Errorf("breaker counts: got %d requests, %d failures; want 1, 0", c.Requests, c.TotalFailures)
		}
		if _, err := g.Fetch(context.Background(), guardRequest("search")); err != nil {
			t.Errorf("follow-up fetch: %v", err)
		}
	})
}

// The defaults apply where a service's config leaves values out: the
// breaker opens on the failure rate once the window holds enough fetches,
// not on a few failures in a row.
func TestGuardsDefaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := &origin{}
		o.status.Store(500)
		g := newGuarded(o, Config{}, nil, nil)
		for range DefaultBreakerMinRequests - 1 {
			g.Fetch(context.Background(), guardRequest("search"))
		}
		if got := g.State("search"); got != "closed" {
			t.Fatalf("after %d failures: got %q, want closed", DefaultBreakerMinRequests-1, got)
		}
		g.Fetch(context.Background(), guardRequest("search"))
		if got := g.State("search"); got != "open" {
			t.Fatalf("after %d failures: got %q, want open", DefaultBreakerMinRequests, got)
		}
		time.Sleep(DefaultBreakerOpenFor)
		if got := g.State("search"); got != "open" {
			t.Errorf("at DefaultBreakerOpenFor: got %q, want still open", got)
		}
		time.Sleep(time.Nanosecond)
		if got := g.State("search"); got != "half-open" {
			t.Errorf("after DefaultBreakerOpenFor: got %q, want half-open", got)
		}
	})
}

// With one breaker for the service (per_endpoint: false), the breaker
// opens on the failure rate over its window: an endpoint that always
// fails opens it even while another endpoint of the service succeeds,
// once the failures reach the rate.
func TestBreakerOpensOnTheFailureRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var broken atomic.Bool
		broken.Store(true)
		client := &transport.Client{Transport: stagetest.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
			status := 200
			if r.URL.Path == "/broken" && broken.Load() {
				status = 500
			}
			return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"text/html"}}, Body: http.NoBody}, nil
		})}
		g := guardedBy(client, func(string) Config { return Config{FailureRate: 0.5, MinRequests: 10, ServiceOnly: true} }, nil, stagetest.DiscardLogger())
		get := func(path string) error {
			_, err := g.Fetch(context.Background(), &fetch.Request{ID: "x", Service: "search", URL: "http://search" + path})
			return err
		}
		for range 4 { // 4 of 8: below the minimum count
			get("/ok")
			get("/broken")
		}
		if got := g.State("search"); got != "closed" {
			t.Fatalf("after 8 fetches: got %q, want closed", got)
		}
		get("/ok")
		get("/broken") // 5 of 10 failed: the rate is reached
		if got := g.State("search"); got != "open" {
			t.Fatalf("after 5 of 10 failed: got %q, want open", got)
		}
	})
}

// F4: one broken endpoint's own breaker (per_endpoint, the default) opens
// and fails it fast, while the service's other endpoint is served and the
// service's breaker stays closed.
func TestPerEndpointBreakerIsolatesABrokenEndpoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls sync.Map
		client := &transport.Client{Transport: stagetest.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
			n, _ := calls.LoadOrStore(r.URL.Path, new(atomic.Int64))
			n.(*atomic.Int64).Add(1)
			status := 200
			if strings.HasPrefix(r.URL.Path, "/broken") {
				status = 500
			}
			return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"text/html"}}, Body: http.NoBody}, nil
		})}
		g := guardedBy(client, func(string) Config { return Config{Failures: 3} }, nil, stagetest.DiscardLogger())
		for i := range 10 {
			// Interleaved, so the service never sees 3 failures in a row.
			g.Fetch(context.Background(), &fetch.Request{ID: "b", Service: "search", Endpoint: "/broken/{sku}", URL: fmt.Sprintf("http://search/broken/%d", i)})
			g.Fetch(context.Background(), &fetch.Request{ID: "o", Service: "search", Endpoint: "/ok", URL: "http://search/ok"})
		}
		if got := g.State("search"); got != "closed" {
			t.Errorf("service breaker: got %q, want closed", got)
		}
		var brokenCalls int64
		calls.Range(func(k, v any) bool {
			if strings.HasPrefix(k.(string), "/broken") {
				brokenCalls += v.(*atomic.Int64).Load()
			}
			return true
		})
		if brokenCalls != 3 {
			t.Errorf("calls to the broken endpoint: got %d, want 3 (then its breaker is open)", brokenCalls)
		}
		if _, err := g.Fetch(context.Background(), &fetch.Request{ID: "o", Service: "search", Endpoint: "/ok", URL: "http://search/ok"}); err != nil {
			t.Errorf("the healthy endpoint: %v", err)
		}
	})
}

// gatedUpstream answers <p>ok</p> once gate is closed.
func gatedUpstream(gate <-chan struct{}) *stagetest.Upstream {
	return &stagetest.Upstream{Answer: func(ctx context.Context, req *fetch.Request, _ int64) (*fetch.Response, error) {
		if err := stagetest.WaitGate(ctx, req, gate); err != nil {
			return nil, err
		}
		return stagetest.HTMLResponse("<p>ok</p>"), nil
	}}
}

// guarded is Guards in front of next, as the engine puts them: a
// [fetch.Fetcher].
type guarded struct {
	*Guards
	next fetch.Fetcher
}

func guardedBy(next fetch.Fetcher, config func(string) Config, stats *fetch.Stats, logger *slog.Logger) guarded {
	return guarded{Guards: New(config, stats, logger), next: next}
}

func (g guarded) Fetch(ctx context.Context, req *fetch.Request) (*fetch.Response, error) {
	resp, _, err := g.Guards.Fetch(ctx, req, g.next)
	return resp, err
}
