package cache

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/guard"
	"github.com/inlayhq/inlay/fragments/internal/stagetest"
	"github.com/inlayhq/inlay/fragments/transport"
)

// newTestCache returns a Cache in front of next with no cleanup goroutine,
// as synctest bubbles want, closed when the test ends.
func newTestCache(tb testing.TB, next fetch.Fetcher, cfg Config) *Cache {
	tb.Helper()
	if cfg.CleanupInterval == 0 {
		cfg.CleanupInterval = -1
	}
	c := New(next, cfg)
	tb.Cleanup(c.Close)
	return c
}

// cacheRequest is a fragment request with header given as name, value pairs.
func cacheRequest(url string, header ...string) *fetch.Request {
	h := http.Header{"Accept": {"text/html"}}
	for i := 0; i+1 < len(header); i += 2 {
		h.Add(header[i], header[i+1])
	}
	return &fetch.Request{ID: "box", Service: "svc", URL: url, Fields: stagetest.FieldsOf(h), Timeout: 2 * time.Second}
}

// E1: a stampede on one cold cacheable key makes exactly one upstream fetch,
// and every caller gets the same content.
func TestCacheStampedeMakesOneUpstreamFetch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		up := &stagetest.Upstream{Answer: func(ctx context.Context, req *fetch.Request, n int64) (*fetch.Response, error) {
			if err := stagetest.WaitGate(ctx, req, gate); err != nil {
				return nil, err
			}
			return stagetest.HTMLResponse(fmt.Sprintf("<p>answer %d</p>", n), "Cache-Control", "max-age=60"), nil
		}}
		c := newTestCache(t, up, Config{})
		const n = 1000
		wait := stagetest.FetchAll(context.Background(), c, n, func(int) *fetch.Request { return cacheRequest("http://svc/box") })
		synctest.Wait() // every caller is blocked: on the fetch, or waiting for it
		if got := up.Calls.Load(); got != 1 {
			t.Fatalf("upstream calls while %d callers wait: got %d, want 1", n, got)
		}
		close(gate)
		coalesced := 0
		for i, r := range wait() {
			if r.Err != nil {
				t.Fatalf("caller %d: got error %v, want the response", i, r.Err)
			}
			if got, want := r.Body(), "<p>answer 1</p>"; got != want {
				t.Fatalf("caller %d: got %q, want %q", i, got, want)
			}
			if r.Report.Coalesced {
				coalesced++
			}
		}
		if got := up.Calls.Load(); got != 1 {
			t.Errorf("upstream calls: got %d, want 1", got)
		}
		if coalesced != n-1 {
			t.Errorf("reports marked coalesced: got %d, want %d", coalesced, n-1)
		}
		st := c.Stats()
		stagetest.WantStat(t, "CacheMisses", &st.CacheMisses, n)
		stagetest.WantStat(t, "Coalesced", &st.Coalesced, n-1)
		stagetest.WantStat(t, "UpstreamGets", &st.UpstreamGets, 1)
		stagetest.WantStat(t, "Stored", &st.Stored, 1)

		// Still alive, and now a hit.
		req := cacheRequest("http://svc/box")
		rep := &fetch.Report{}
		resp, err := c.Fetch(context.Background(), req, rep)
		if err != nil || string(resp.Body) != "<p>answer 1</p>" || rep.Cache != fetch.CacheHit {
			t.Errorf("follow-up fetch: got %v, %v, cache %q; want the stored answer as a hit", resp, err, rep.Cache)
		}
		if got := up.Calls.Load(); got != 1 {
			t.Errorf("upstream calls after a hit: got %d, want 1", got)
		}
	})
}

// E1, arrivals spread across the fetch: callers that missed the cache just
// before the one fetch stored its answer, and asked for it just after that
// fetch ended, must not fetch again. The upstream answers at once, so the
// callers keep arriving while and after it does; without gates the
// interleavings vary, hence the rounds.
func TestCacheStampedeArrivingAcrossTheFetchMakesOneUpstreamFetch(t *testing.T) {
	const rounds, callers = 100, 64
	for round := range rounds {
		up := &stagetest.Upstream{Answer: func(context.Context, *fetch.Request, int64) (*fetch.Response, error) {
			return stagetest.HTMLResponse("<p>x</p>", "Cache-Control", "max-age=60"), nil
		}}
		c := newTestCache(t, up, Config{})
		start := make(chan struct{})
		var wg sync.WaitGroup
		var failed atomic.Int64
		for range callers {
			wg.Go(func() {
				<-start
				if _, err := c.Fetch(context.Background(), cacheRequest("http://svc/box"), nil); err != nil {
					failed.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if got := up.Calls.Load(); got != 1 {
			t.Fatalf("round %d: upstream calls for %d callers: got %d, want 1", round, callers, got)
		}
		if got := failed.Load(); got != 0 {
			t.Fatalf("round %d: %d callers got an error, want 0", round, got)
		}
	}
}

// E2: when the one shared fetch fails, every waiter gets that failure: one
// upstream call, one breaker failure, not one per waiter.
func TestCacheStampedeSharesOneFailure(t *testing.T) {
	cases := []struct {
		name     string
		answer   func(ctx context.Context, req *http.Request) (*http.Response, error)
		wantKind fetch.Kind
	}{
		{"500", func(context.Context, *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 500, Header: http.Header{}, Body: http.NoBody}, nil
		}, fetch.KindStatus},
		{"timeout", func(ctx context.Context, _ *http.Request) (*http.Response, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}, fetch.KindTimeout},
		{"garbage body", func(context.Context, *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/html"}},
				Body: errorReader{errors.New("connection reset by peer")}}, nil
		}, fetch.KindBody},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				gate := make(chan struct{})
				var calls atomic.Int64
				client := &transport.Client{Transport: stagetest.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
					calls.Add(1)
					select {
					case <-gate:
					case <-r.Context().Done():
						return nil, r.Context().Err()
					}
					return tc.answer(r.Context(), r)
				})}
				guards := guardedBy(client, func(string) guard.Config { return guard.Config{Failures: 5, ServiceOnly: true} }, nil, stagetest.DiscardLogger())
				c := newTestCache(t, guards, Config{})
				const n = 1000
				start := time.Now()
				wait := stagetest.FetchAll(context.Background(), c, n, func(int) *fetch.Request {
					req := cacheRequest("http://svc/box")
					req.Timeout = 300 * time.Millisecond
					return req
				})
				synctest.Wait()
				close(gate)
				for i, r := range wait() {
					if got := fetch.KindOf(r.Err); got != tc.wantKind {
						t.Fatalf("caller %d: got kind %q (%v), want %q", i, got, r.Err, tc.wantKind)
					}
				}
				if got := calls.Load(); got != 1 {
					t.Errorf("upstream calls: got %d, want 1", got)
				}
				counts := guards.Counts("svc")
				if counts.TotalFailures != 1 {
					t.Errorf("breaker failures: got %d, want 1", counts.TotalFailures)
				}
				if got := guards.State("svc"); got != "closed" {
					t.Errorf("breaker: got %q, want closed after one failure", got)
				}
				if tc.wantKind == fetch.KindTimeout {
					if got, want := time.Since(start), 300*time.Millisecond; got != want {
						t.Errorf("waiters gave up after %v, want the fetch's deadline %v", got, want)
					}
				}
				stagetest.WantStat(t, "Stored", &c.Stats().Stored, 0)
				if c.Len() != 0 {
					t.Errorf("entries after a failure: got %d, want 0", c.Len())
				}
			})
		})
	}
}

// errorReader is a body that fails on the first read.
type errorReader struct{ err error }

func (r errorReader) Read([]byte) (int, error) { return 0, r.err }
func (r errorReader) Close() error             { return nil }

// E3: the caller that started the shared fetch leaves; the fetch goes on for
// the others, who get the response and no "context canceled".
func TestCacheLeaderLeavingDoesNotPoisonWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		var upstreamCancelled atomic.Bool
		up := &stagetest.Upstream{Answer: func(ctx context.Context, req *fetch.Request, _ int64) (*fetch.Response, error) {
			if err := stagetest.WaitGate(ctx, req, gate); err != nil {
				upstreamCancelled.Store(true)
				return nil, err
			}
			return stagetest.HTMLResponse("<p>shared</p>", "Cache-Control", "max-age=60"), nil
		}}
		c := newTestCache(t, up, Config{})

		leaderCtx, cancelLeader := context.WithCancel(context.Background())
		waitLeader := stagetest.FetchAll(leaderCtx, c, 1, func(int) *fetch.Request { return cacheRequest("http://svc/box") })
		synctest.Wait() // the leader's fetch has started
		const n = 99
		waitOthers := stagetest.FetchAll(context.Background(), c, n, func(int) *fetch.Request { return cacheRequest("http://svc/box") })
		synctest.Wait() // the others wait on it
		cancelLeader()
		leader := waitLeader()[0]
		if got := fetch.KindOf(leader.Err); got != fetch.KindCanceled {
			t.Errorf("leader: got kind %q (%v), want %q", got, leader.Err, fetch.KindCanceled)
		}
		synctest.Wait()
		if upstreamCancelled.Load() {
			t.Fatal("the upstream fetch was cancelled with the leader, while 99 callers still wait for it")
		}
		close(gate)
		for i, r := range waitOthers() {
			if r.Err != nil {
				t.Fatalf("waiter %d: got error %v, want the response", i, r.Err)
			}
			if got, want := r.Body(), "<p>shared</p>"; got != want {
				t.Fatalf("waiter %d: got %q, want %q", i, got, want)
			}
		}
		if got := up.Calls.Load(); got != 1 {
			t.Errorf("upstream calls: got %d, want 1", got)
		}
	})
}

// E3: once every caller has left, nobody wants the shared fetch: its
// context is cancelled, and the next caller starts a new one.
func TestCacheLastCallerLeavingCancelsUpstream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var cancelled atomic.Int64
		up := &stagetest.Upstream{Answer: func(ctx context.Context, req *fetch.Request, n int64) (*fetch.Response, error) {
			if n == 1 {
				<-ctx.Done() // the first fetch never answers
				cancelled.Add(1)
				return nil, stagetest.CtxError(ctx, req)
			}
			return stagetest.HTMLResponse("<p>second</p>", "Cache-Control", "max-age=60"), nil
		}}
		c := newTestCache(t, up, Config{})
		const n = 10
		cancels := make([]context.CancelFunc, n)
		waits := make([]func() []stagetest.Result, n)
		for i := range n {
			ctx, cancel := context.WithCancel(context.Background())
			cancels[i] = cancel
			waits[i] = stagetest.FetchAll(ctx, c, 1, func(int) *fetch.Request { return cacheRequest("http://svc/box") })
			synctest.Wait()
		}
		for i := range n - 1 {
			cancels[i]()
			synctest.Wait()
			if got := cancelled.Load(); got != 0 {
				t.Fatalf("upstream cancelled after %d of %d callers left, want it to go on", i+1, n)
			}
		}
		cancels[n-1]()
		synctest.Wait()
		if got := cancelled.Load(); got != 1 {
			t.Fatalf("upstream cancellations after every caller left: got %d, want 1", got)
		}
		for i, w := range waits {
			if got := fetch.KindOf(w()[0].Err); got != fetch.KindCanceled {
				t.Errorf("caller %d: got kind %q, want %q", i, got, fetch.KindCanceled)
			}
		}
		resp, err := c.Fetch(context.Background(), cacheRequest("http://svc/box"), nil)
		if err != nil || string(resp.Body) != "<p>second</p>" {
			t.Errorf("next caller: got %v, %v; want a new fetch's answer", resp, err)
		}
		if got := up.Calls.Load(); got != 2 {
			t.Errorf("upstream calls: got %d, want 2", got)
		}
	})
}

// E4: within stale-if-error the stored copy stands in for a failure of any
// kind; past it, the failure shows (RFC 5861 §4).
func TestCacheServesStaleIfErrorWithinItsWindow(t *testing.T) {
	cases := []struct {
		name     string
		fail     func(ctx context.Context, req *fetch.Request) error // nil for "breaker open"
		wantKind fetch.Kind
	}{
		{"500", func(_ context.Context, req *fetch.Request) error {
			return &fetch.Error{Kind: fetch.KindStatus, Status: 500, ID: req.ID, Service: req.Service}
		}, fetch.KindStatus},
		{"reset", func(_ context.Context, req *fetch.Request) error {
			return &fetch.Error{Kind: fetch.KindBody, ID: req.ID, Service: req.Service, Err: errors.New("connection reset by peer")}
		}, fetch.KindBody},
		{"timeout", func(ctx context.Context, req *fetch.Request) error {
			<-ctx.Done()
			return stagetest.CtxError(ctx, req)
		}, fetch.KindTimeout},
		{"breaker open", nil, fetch.KindBreakerOpen},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var failing atomic.Bool
				up := &stagetest.Upstream{Answer: func(ctx context.Context, req *fetch.Request, _ int64) (*fetch.Response, error) {
					if failing.Load() {
						if tc.fail == nil {
							return nil, &fetch.Error{Kind: fetch.KindStatus, Status: 503, ID: req.ID, Service: req.Service}
						}
						return nil, tc.fail(ctx, req)
					}
					return stagetest.HTMLResponse("<p>v1</p>", "Cache-Control", "max-age=1, stale-if-error=60"), nil
				}}
				// Only the breaker case lets one failure open the breaker.
				failures := uint32(100)
				if tc.fail == nil {
					failures = 1
				}
				guards := guardedBy(up, func(string) guard.Config {
					return guard.Config{Failures: failures, OpenFor: time.Hour, ServiceOnly: true}
				}, nil, stagetest.DiscardLogger())
				c := newTestCache(t, guards, Config{})
				get := func() (*fetch.Response, error, fetch.Report) {
					req := cacheRequest("http://svc/box")
					req.Timeout = 300 * time.Millisecond
					rep := &fetch.Report{}
					resp, err := c.Fetch(context.Background(), req, rep)
					return resp, err, *rep
				}
				if _, err, _ := get(); err != nil {
					t.Fatalf("first fetch: %v", err)
				}
				time.Sleep(2 * time.Second)
				failing.Store(true)
				if tc.fail == nil {
					// Another fragment of the service fails and opens its breaker.
					if _, err := c.Fetch(context.Background(), cacheRequest("http://svc/other"), nil); fetch.KindOf(err) != fetch.KindStatus {
						t.Fatalf("tripping fetch: got %v, want a 503", err)
					}
					if got := guards.State("svc"); got != "open" {
						t.Fatalf("breaker: got %q, want open", got)
					}
				}
				callsBefore := up.Calls.Load()
				resp, err, rep := get()
				if err != nil || string(resp.Body) != "<p>v1</p>" {
					t.Fatalf("at +2s with the upstream failing: got %v, %v; want the stale <p>v1</p>", resp, err)
				}
				if rep.Cache != fetch.CacheStale {
					t.Errorf("report: got cache %q, want %q", rep.Cache, fetch.CacheStale)
				}
				if tc.fail == nil && up.Calls.Load() != callsBefore {
					t.Errorf("upstream called while the breaker is open")
				}
				stagetest.WantStat(t, "StaleServed", &c.Stats().StaleServed, 1)

				time.Sleep(60 * time.Second) // +62s: past max-age + stale-if-error
				resp, err, rep = get()
				if resp != nil || fetch.KindOf(err) != tc.wantKind {
					t.Fatalf("at +62s: got %v, %v; want no stale copy and a %q error", resp, err, tc.wantKind)
				}
				if rep.Cache == fetch.CacheStale {
					t.Errorf("report at +62s: got cache %q, want no stale", rep.Cache)
				}
				stagetest.WantStat(t, "StaleServed", &c.Stats().StaleServed, 1)
			})
		})
	}
}

// E5: past max-age but within stale-while-revalidate, a burst of callers
// all get the stale copy at once, one background refresh fetches the new
// one, and the callers after it get the new one.
func TestCacheStaleWhileRevalidateRefreshesOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		up := &stagetest.Upstream{Answer: func(ctx context.Context, req *fetch.Request, n int64) (*fetch.Response, error) {
			if n > 1 {
				if err := stagetest.WaitGate(ctx, req, gate); err != nil {
					return nil, err
				}
			}
			return stagetest.HTMLResponse(fmt.Sprintf("<p>v%d</p>", n), "Cache-Control", "max-age=1, stale-while-revalidate=30"), nil
		}}
		c := newTestCache(t, up, Config{})
		if _, err := c.Fetch(context.Background(), cacheRequest("http://svc/box"), nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)

		const n = 100
		start := time.Now()
		results := stagetest.FetchAll(context.Background(), c, n, func(int) *fetch.Request { return cacheRequest("http://svc/box") })()
		if elapsed := time.Since(start); elapsed != 0 {
			t.Errorf("stale callers waited %v, want 0: the refresh runs in the background", elapsed)
		}
		for i, r := range results {
			if r.Err != nil || r.Body() != "<p>v1</p>" || r.Report.Cache != fetch.CacheStale {
				t.Fatalf("caller %d: got %q, %v, cache %q; want the stale <p>v1</p>", i, r.Body(), r.Err, r.Report.Cache)
			}
		}
		synctest.Wait()
		if got := up.Calls.Load(); got != 2 {
			t.Errorf("upstream calls: got %d, want 2 (the first fetch and one refresh)", got)
		}
		stagetest.WantStat(t, "Refreshes", &c.Stats().Refreshes, 1)
		close(gate)
		synctest.Wait() // the refresh has stored v2

		req := cacheRequest("http://svc/box")
		rep := &fetch.Report{}
		resp, err := c.Fetch(context.Background(), req, rep)
		if err != nil || string(resp.Body) != "<p>v2</p>" || rep.Cache != fetch.CacheHit {
			t.Errorf("after the refresh: got %v, %v, cache %q; want <p>v2</p> as a hit", resp, err, rep.Cache)
		}
		if got := up.Calls.Load(); got != 2 {
			t.Errorf("upstream calls after the refresh: got %d, want 2", got)
		}
	})
}

// E5: a refresh that fails leaves the stale copy in place.
func TestCacheFailedRefreshKeepsStaleCopy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := &stagetest.Upstream{Answer: func(_ context.Context, req *fetch.Request, n int64) (*fetch.Response, error) {
			if n > 1 {
				return nil, &fetch.Error{Kind: fetch.KindStatus, Status: 503, ID: req.ID, Service: req.Service}
			}
			return stagetest.HTMLResponse("<p>v1</p>", "Cache-Control", "max-age=1, stale-while-revalidate=30"), nil
		}}
		c := newTestCache(t, up, Config{Logger: stagetest.DiscardLogger()})
		if _, err := c.Fetch(context.Background(), cacheRequest("http://svc/box"), nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		for i := range 3 {
			req := cacheRequest("http://svc/box")
			rep := &fetch.Report{}
			resp, err := c.Fetch(context.Background(), req, rep)
			if err != nil || string(resp.Body) != "<p>v1</p>" || rep.Cache != fetch.CacheStale {
				t.Fatalf("fetch %d after a failed refresh: got %v, %v, cache %q; want the stale <p>v1</p>", i, resp, err, rep.Cache)
			}
			synctest.Wait() // the refresh has failed
		}
		if got := up.Calls.Load(); got != 4 {
			t.Errorf("upstream calls: got %d, want 4 (the first and one refresh per stale hit)", got)
		}
		if c.Len() != 1 {
			t.Errorf("entries: got %d, want the stale one kept", c.Len())
		}
	})
}

// E6: responses that a shared cache must not store are not stored, and
// each request for them reaches the upstream.
func TestCacheNeverStoresUnsafeResponses(t *testing.T) {
	cases := []struct {
		name      string
		reqHeader []string
		status    int
		header    []string
		wantPass  bool // a hit-for-miss marker is left instead
	}{
		{name: "no-store", header: []string{"Cache-Control", "max-age=60, no-store"}, wantPass: true},
		{name: "private", header: []string{"Cache-Control", "private, max-age=60"}, wantPass: true},
		{name: "no-cache", header: []string{"Cache-Control", "no-cache, max-age=60"}, wantPass: true},
		{name: "upper-case directive", header: []string{"Cache-Control", "max-age=60, NO-STORE"}, wantPass: true},
		{name: "directive on a second line", header: []string{"Cache-Control", "max-age=60", "Cache-Control", "private"}, wantPass: true},
		{name: "Set-Cookie", header: []string{"Cache-Control", "max-age=60", "Set-Cookie", "id=1"}, wantPass: true},
		{name: "Vary star", header: []string{"Cache-Control", "max-age=60", "Vary", "*"}, wantPass: true},
		{name: "Vary Cookie", header: []string{"Cache-Control", "max-age=60", "Vary", "Accept-Language, cookie"}, wantPass: true},
		{name: "request with Cookie", reqHeader: []string{"Cookie", "id=1"}, header: []string{"Cache-Control", "max-age=60"}, wantPass: true},
		{name: "request with Authorization", reqHeader: []string{"Authorization", "Bearer x"}, header: []string{"Cache-Control", "max-age=60"}, wantPass: true},
		{name: "no freshness at all", header: []string{}, wantPass: true},
		{name: "404 with no-store", status: 404, header: []string{"Cache-Control", "no-store"}},
		{name: "410 with private", status: 410, header: []string{"Cache-Control", "private"}},
		{name: "301", status: 301, header: []string{"Cache-Control", "max-age=60", "Location", "/x"}},
		{name: "204", status: 204, header: []string{"Cache-Control", "max-age=60"}},
		{name: "max-age=0", header: []string{"Cache-Control", "max-age=0"}},
		{name: "Expires in the past", header: []string{"Expires", "Thu, 01 Jan 1970 00:00:00 GMT"}},
		{name: "Expires invalid", header: []string{"Expires", "0"}},
		{name: "Age beyond max-age", header: []string{"Cache-Control", "max-age=60", "Age", "61"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := &stagetest.Upstream{Answer: func(_ context.Context, _ *fetch.Request, n int64) (*fetch.Response, error) {
				return stagetest.StatusResponse(cmp.Or(tc.status, http.StatusOK), fmt.Sprintf("<p>token %d</p>", n), tc.header...), nil
			}}
			c := newTestCache(t, up, Config{})
			for i := range 2 {
				req := cacheRequest("http://svc/box", tc.reqHeader...)
				rep := &fetch.Report{}
				resp, err := c.Fetch(context.Background(), req, rep)
				if err != nil {
					t.Fatalf("fetch %d: %v", i+1, err)
				}
				if got, want := string(resp.Body), fmt.Sprintf("<p>token %d</p>", i+1); got != want {
					t.Errorf("fetch %d: got %q, want %q (a fresh upstream answer, not a stored one)", i+1, got, want)
				}
				if i == 1 && tc.wantPass && rep.Cache != fetch.CachePass {
					t.Errorf("second fetch: got cache %q, want %q (hit-for-miss)", rep.Cache, fetch.CachePass)
				}
			}
			stagetest.WantStat(t, "Stored", &c.Stats().Stored, 0)
			wantLen := 0
			if tc.wantPass {
				wantLen = 1
			}
			if c.Len() != wantLen {
				t.Errorf("entries: got %d, want %d", c.Len(), wantLen)
			}
			if got := up.Calls.Load(); got != 2 {
				t.Errorf("upstream calls: got %d, want 2", got)
			}
		})
	}
}

// The counterpart of the table above: what may be stored is.
func TestCacheStoresExplicitlyFreshResponses(t *testing.T) {
	cases := []struct {
		name      string
		reqHeader []string
		header    []string
	}{
		{name: "max-age", header: []string{"Cache-Control", "max-age=60"}},
		{name: "s-maxage", header: []string{"Cache-Control", "s-maxage=60"}},
		{name: "Expires", header: []string{"Date", "Mon, 01 Jan 2024 00:00:00 GMT", "Expires", "Mon, 01 Jan 2024 00:01:00 GMT"}},
		{name: "request with Cookie, response public", reqHeader: []string{"Cookie", "id=1"}, header: []string{"Cache-Control", "public, max-age=60"}},
		{name: "request with Cookie, response s-maxage", reqHeader: []string{"Cookie", "id=1"}, header: []string{"Cache-Control", "s-maxage=60"}},
		{name: "Vary Accept-Language", header: []string{"Cache-Control", "max-age=60", "Vary", "Accept-Language"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := &stagetest.Upstream{Answer: func(_ context.Context, _ *fetch.Request, n int64) (*fetch.Response, error) {
				return stagetest.HTMLResponse(fmt.Sprintf("<p>token %d</p>", n), tc.header...), nil
			}}
			c := newTestCache(t, up, Config{})
			for i := range 2 {
				resp, err := c.Fetch(context.Background(), cacheRequest("http://svc/box", tc.reqHeader...), nil)
				if err != nil || string(resp.Body) != "<p>token 1</p>" {
					t.Fatalf("fetch %d: got %v, %v; want the stored <p>token 1</p>", i+1, resp, err)
				}
			}
			if got := up.Calls.Load(); got != 1 {
				t.Errorf("upstream calls: got %d, want 1", got)
			}
			stagetest.WantStat(t, "Stored", &c.Stats().Stored, 1)
		})
	}
}

// E6: where RFC 9111 §4.2.4 forbids serving stale (must-revalidate,
// proxy-revalidate, and s-maxage, which implies proxy-revalidate), neither
// stale-if-error nor stale-while-revalidate applies.
func TestCacheNeverServesStaleWhereForbidden(t *testing.T) {
	for _, cc := range []string{
		"max-age=1, must-revalidate, stale-if-error=60, stale-while-revalidate=60",
		"max-age=1, proxy-revalidate, stale-if-error=60, stale-while-revalidate=60",
		"s-maxage=1, stale-if-error=60, stale-while-revalidate=60",
	} {
		t.Run(cc, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var failing atomic.Bool
				up := &stagetest.Upstream{Answer: func(_ context.Context, req *fetch.Request, _ int64) (*fetch.Response, error) {
					if failing.Load() {
						return nil, &fetch.Error{Kind: fetch.KindStatus, Status: 503, ID: req.ID, Service: req.Service}
					}
					return stagetest.HTMLResponse("<p>v1</p>", "Cache-Control", cc), nil
				}}
				c := newTestCache(t, up, Config{})
				if _, err := c.Fetch(context.Background(), cacheRequest("http://svc/box"), nil); err != nil {
					t.Fatal(err)
				}
				time.Sleep(2 * time.Second)
				failing.Store(true)
				req := cacheRequest("http://svc/box")
				rep := &fetch.Report{}
				resp, err := c.Fetch(context.Background(), req, rep)
				if resp != nil || fetch.KindOf(err) != fetch.KindStatus {
					t.Errorf("past max-age with the upstream failing: got %v, %v; want the 503 and no stale copy", resp, err)
				}
				if rep.Cache == fetch.CacheStale {
					t.Errorf("report: got cache %q, want no stale", rep.Cache)
				}
				stagetest.WantStat(t, "StaleServed", &c.Stats().StaleServed, 0)
			})
		})
	}
}

// E6, time: a response stops being a hit exactly when its max-age runs
// out, and the next request fetches it again.
func TestCacheFreshnessEndsAtMaxAge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := &stagetest.Upstream{Answer: func(_ context.Context, _ *fetch.Request, n int64) (*fetch.Response, error) {
			return stagetest.HTMLResponse(fmt.Sprintf("<p>v%d</p>", n), "Cache-Control", "max-age=10"), nil
		}}
		c := newTestCache(t, up, Config{})
		get := func() (string, fetch.CacheStatus) {
			req := cacheRequest("http://svc/box")
			rep := &fetch.Report{}
			resp, err := c.Fetch(context.Background(), req, rep)
			if err != nil {
				t.Fatal(err)
			}
			return string(resp.Body), rep.Cache
		}
		get()
		time.Sleep(10*time.Second - time.Nanosecond)
		if body, status := get(); body != "<p>v1</p>" || status != fetch.CacheHit {
			t.Errorf("just before max-age: got %q (%s), want <p>v1</p> (hit)", body, status)
		}
		time.Sleep(time.Nanosecond)
		if body, status := get(); body != "<p>v2</p>" || status != fetch.CacheMiss {
			t.Errorf("at max-age: got %q (%s), want <p>v2</p> (miss)", body, status)
		}
	})
}

// E7: a flood of distinct keys stays within the byte budget: old entries
// are evicted, and the accounting matches what is stored.
func TestCacheStaysWithinByteBudgetUnderKeyExplosion(t *testing.T) {
	const maxBytes = 64 << 10
	up := &stagetest.Upstream{Answer: func(_ context.Context, req *fetch.Request, _ int64) (*fetch.Response, error) {
		return stagetest.HTMLResponse("<p>"+req.URL+"</p>", "Cache-Control", "max-age=3600"), nil
	}}
	c := newTestCache(t, up, Config{MaxBytes: maxBytes})
	const keys = 100_000
	for i := range keys {
		if _, err := c.Fetch(context.Background(), cacheRequest(fmt.Sprintf("http://svc/box?utm=%d", i)), nil); err != nil {
			t.Fatal(err)
		}
		if got := c.Bytes(); got > maxBytes {
			t.Fatalf("after %d keys: Bytes() = %d, want at most %d", i+1, got, maxBytes)
		}
	}
	if got, most := c.Len(), maxBytes/entryOverhead; got > most || got == 0 {
		t.Errorf("entries: got %d, want between 1 and %d", got, most)
	}
	if got := c.Stats().Evictions.Load(); got < keys/2 {
		t.Errorf("evictions: got %d, want most of the %d keys evicted", got, keys)
	}
	if got, want := c.Bytes(), storedBytes(c); got != want {
		t.Errorf("Bytes() = %d, but the stored entries add up to %d", got, want)
	}
}

// E7 with concurrent writers: the accounting stays exact.
func TestCacheByteAccountingIsExactUnderConcurrency(t *testing.T) {
	const maxBytes = 32 << 10
	up := &stagetest.Upstream{Answer: func(_ context.Context, req *fetch.Request, _ int64) (*fetch.Response, error) {
		return stagetest.HTMLResponse(strings.Repeat("x", len(req.URL)%200), "Cache-Control", "max-age=3600"), nil
	}}
	c := newTestCache(t, up, Config{MaxBytes: maxBytes})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				// Overlapping keys: writers replace each other's entries.
				_, _ = c.Fetch(context.Background(), cacheRequest(fmt.Sprintf("http://svc/box?w=%d&i=%d", w%2, i)), nil)
			}
		})
	}
	wg.Wait()
	if got := c.Bytes(); got > maxBytes {
		t.Errorf("Bytes() = %d, want at most %d", got, maxBytes)
	}
	if got, want := c.Bytes(), storedBytes(c); got != want {
		t.Errorf("Bytes() = %d, but the stored entries add up to %d", got, want)
	}
}

// storedBytes adds up the sizes of the entries in the store.
func storedBytes(c *Cache) int64 {
	c.storeMu.Lock()
	defer c.storeMu.Unlock()
	var n int64
	c.store.Range(func(_ string, v any) bool {
		n += itemSize(v)
		return true
	})
	return n
}

// A response larger than a tenth of the budget is served but not stored.
func TestCacheDoesNotStoreEntriesOverATenthOfTheBudget(t *testing.T) {
	up := &stagetest.Upstream{Answer: func(context.Context, *fetch.Request, int64) (*fetch.Response, error) {
		return stagetest.HTMLResponse(strings.Repeat("x", 2000), "Cache-Control", "max-age=60"), nil
	}}
	c := newTestCache(t, up, Config{MaxBytes: 10_000})
	for range 2 {
		if resp, err := c.Fetch(context.Background(), cacheRequest("http://svc/big"), nil); err != nil || len(resp.Body) != 2000 {
			t.Fatalf("got %v, %v; want the 2000-byte body", resp, err)
		}
	}
	if got := up.Calls.Load(); got != 2 {
		t.Errorf("upstream calls: got %d, want 2", got)
	}
	if c.Len() != 0 || c.Bytes() != 0 {
		t.Errorf("got %d entries of %d bytes, want none", c.Len(), c.Bytes())
	}
}

// E9: a response that may not be stored is never handed to another
// request: every caller of a no-store fragment gets the token fetched for
// it, even those that waited on another caller's fetch.
func TestCacheHandsUnstorableResponseOnlyToItsOwnCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		up := &stagetest.Upstream{Answer: func(ctx context.Context, req *fetch.Request, n int64) (*fetch.Response, error) {
			if err := stagetest.WaitGate(ctx, req, gate); err != nil {
				return nil, err
			}
			// The token names the request it was made for, as a CSRF field would.
			return stagetest.HTMLResponse(fmt.Sprintf("token-%d-for-%s", n, req.Get(fetch.HeaderRequestID)), "Cache-Control", "no-store"), nil
		}}
		c := newTestCache(t, up, Config{})
		const n = 40
		wait := stagetest.FetchAll(context.Background(), c, n, func(i int) *fetch.Request {
			// The request id is not part of the key: all 40 share one.
			return cacheRequest("http://svc/csrf", fetch.HeaderRequestID, fmt.Sprintf("page-%d", i))
		})
		synctest.Wait()
		close(gate)
		seen := map[string]bool{}
		for i, r := range wait() {
			if r.Err != nil {
				t.Fatalf("caller %d: %v", i, r.Err)
			}
			if want := fmt.Sprintf("-for-page-%d", i); !strings.HasSuffix(r.Body(), want) {
				t.Errorf("caller %d: got %q, want its own token (ending %q)", i, r.Body(), want)
			}
			if seen[r.Body()] {
				t.Errorf("caller %d: token %q was handed out twice", i, r.Body())
			}
			seen[r.Body()] = true
		}
		if got := up.Calls.Load(); got != n {
			t.Errorf("upstream calls: got %d, want %d", got, n)
		}
		stagetest.WantStat(t, "UpstreamGets", &c.Stats().UpstreamGets, n)
		stagetest.WantStat(t, "Stored", &c.Stats().Stored, 0)
	})
}

// E9, hit-for-miss: the key is remembered as uncacheable for HitForMiss,
// during which callers fetch without waiting on each other; after it, the
// response is considered for storing again.
func TestCacheHitForMissExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var cacheable atomic.Bool
		up := &stagetest.Upstream{Answer: func(_ context.Context, _ *fetch.Request, n int64) (*fetch.Response, error) {
			cc := "no-store"
			if cacheable.Load() {
				cc = "max-age=60"
			}
			return stagetest.HTMLResponse(fmt.Sprintf("<p>%d</p>", n), "Cache-Control", cc), nil
		}}
		c := newTestCache(t, up, Config{HitForMiss: 30 * time.Second})
		get := func() fetch.CacheStatus {
			req := cacheRequest("http://svc/box")
			rep := &fetch.Report{}
			if _, err := c.Fetch(context.Background(), req, rep); err != nil {
				t.Fatal(err)
			}
			return rep.Cache
		}
		get()
		cacheable.Store(true) // the service changes its mind
		time.Sleep(29 * time.Second)
		if got := get(); got != fetch.CachePass {
			t.Errorf("within hit-for-miss: got %q, want %q", got, fetch.CachePass)
		}
		time.Sleep(2 * time.Second)
		if got := get(); got != fetch.CacheMiss {
			t.Errorf("after hit-for-miss: got %q, want %q", got, fetch.CacheMiss)
		}
		if got := get(); got != fetch.CacheHit {
			t.Errorf("next: got %q, want %q", got, fetch.CacheHit)
		}
		stagetest.WantStat(t, "Passes", &c.Stats().Passes, 1)
	})
}

// C5: a fragment that varies on Accept-Language gets one entry per
// language, and each language its own.
func TestCacheKeepsOneEntryPerLanguage(t *testing.T) {
	up := &stagetest.Upstream{Answer: func(_ context.Context, req *fetch.Request, _ int64) (*fetch.Response, error) {
		return stagetest.HTMLResponse("<p lang="+req.Get("Accept-Language")+">hello</p>",
			"Cache-Control", "max-age=60", "Vary", "Accept-Language"), nil
	}}
	c := newTestCache(t, up, Config{})
	for round := range 3 {
		for _, lang := range []string{"de", "fr"} {
			req := cacheRequest("http://svc/box", "Accept-Language", lang)
			rep := &fetch.Report{}
			resp, err := c.Fetch(context.Background(), req, rep)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := string(resp.Body), "<p lang="+lang+">hello</p>"; got != want {
				t.Errorf("round %d, %s: got %q, want %q", round, lang, got, want)
			}
			wantStatus := fetch.CacheHit
			if round == 0 {
				wantStatus = fetch.CacheMiss
			}
			if rep.Cache != wantStatus {
				t.Errorf("round %d, %s: got cache %q, want %q", round, lang, rep.Cache, wantStatus)
			}
		}
	}
	if got := up.Calls.Load(); got != 2 {
		t.Errorf("upstream calls: got %d, want 2 (one per language)", got)
	}
	if c.Len() != 3 {
		t.Errorf("entries: got %d, want 3 (the variant index and one per language)", c.Len())
	}
}

// C12: Vary names a page context header however it spells it, and the
// cache keys on it: Vary: X-Inlay-Base-URL (canonical form
// X-Inlay-Base-Url) keeps one entry per base URL, as check-fragment
// advises for a body built from it.
func TestCacheVaryOnBaseURL(t *testing.T) {
	up := &stagetest.Upstream{Answer: func(_ context.Context, req *fetch.Request, _ int64) (*fetch.Response, error) {
		return stagetest.HTMLResponse(`<script src="`+req.Get("X-Inlay-Base-URL")+`/app.js"></script>`,
			"Cache-Control", "max-age=60", "Vary", "X-Inlay-Base-URL"), nil
	}}
	c := newTestCache(t, up, Config{})
	for range 2 {
		for _, base := range []string{"https://shop.example", "https://evil.example"} {
			// Spelt as the composer sends it (composer.HeaderBaseURL).
			req := &fetch.Request{ID: "box", Service: "svc", URL: "http://svc/box", Timeout: 2 * time.Second,
				Fields: []fetch.Field{{Name: "Accept", Values: []string{"text/html"}}, {Name: "X-Inlay-Base-URL", Values: []string{base}}}}
			resp, err := c.Fetch(context.Background(), req, nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := `<script src="` + base + `/app.js"></script>`; string(resp.Body) != want {
				t.Errorf("base %s: got %q, want %q", base, resp.Body, want)
			}
		}
	}
	if got := up.Calls.Load(); got != 2 {
		t.Errorf("upstream calls: got %d, want 2 (one per base URL)", got)
	}
}

// The key is the service and URL plus only what the stored response's
// Vary names, normalised: headers the team did not vary on never split
// the cache.
func TestSecondaryKeyNormalisesOnlyVariedHeaders(t *testing.T) {
	base := cacheRequest("http://svc/box", "Accept-Language", "de-DE,de;q=0.9", "User-Agent", "ua", "Accept-Encoding", "gzip, br")
	for _, tc := range []struct {
		name  string
		vary  []string
		other *fetch.Request
		same  bool
	}{
		{"no vary, other agent", nil, cacheRequest("http://svc/box", "User-Agent", "other"), true},
		{"language first tag", []string{"Accept-Language"}, cacheRequest("http://svc/box", "Accept-Language", "de-de;q=1, en"), true},
		{"other language", []string{"Accept-Language"}, cacheRequest("http://svc/box", "Accept-Language", "fr"), false},
		{"encoding gzip or not", []string{"Accept-Encoding"}, cacheRequest("http://svc/box", "Accept-Encoding", "deflate, gzip"), true},
		{"encoding without gzip", []string{"Accept-Encoding"}, cacheRequest("http://svc/box", "Accept-Encoding", "br"), false},
		{"varied agent", []string{"User-Agent"}, cacheRequest("http://svc/box", "User-Agent", "other"), false},
		{"tracing never keyed", nil, cacheRequest("http://svc/box", fetch.HeaderRequestID, "r1", fetch.HeaderTraceparent, "00-1-2-01"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if fetch.PrimaryKey(tc.other) != fetch.PrimaryKey(base) {
				t.Fatalf("primary keys differ: %q, %q", fetch.PrimaryKey(tc.other), fetch.PrimaryKey(base))
			}
			got := fetch.SecondaryKey(tc.other, tc.vary) == fetch.SecondaryKey(base, tc.vary)
			if got != tc.same {
				t.Errorf("same variant: got %v, want %v (%q vs %q)", got, tc.same, fetch.SecondaryKey(tc.other, tc.vary), fetch.SecondaryKey(base, tc.vary))
			}
		})
	}
	if fetch.PrimaryKey(cacheRequest("http://svc/box?x")) == fetch.PrimaryKey(base) {
		t.Error("another URL shares the primary key")
	}
}

// Close stops the cleanup goroutine, which drops expired entries and their
// bytes on its interval. Inside the bubble, a goroutine left running would
// fail the test.
func TestCacheCleanupDropsExpiredEntriesUntilClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := &stagetest.Upstream{Answer: func(context.Context, *fetch.Request, int64) (*fetch.Response, error) {
			return stagetest.HTMLResponse("<p>x</p>", "Cache-Control", "max-age=1"), nil
		}}
		c := New(up, Config{CleanupInterval: time.Minute})
		defer c.Close()
		if _, err := c.Fetch(context.Background(), cacheRequest("http://svc/box"), nil); err != nil {
			t.Fatal(err)
		}
		if c.Len() != 1 || c.Bytes() == 0 {
			t.Fatalf("got %d entries of %d bytes, want 1", c.Len(), c.Bytes())
		}
		time.Sleep(time.Minute + time.Second)
		synctest.Wait()
		if c.Len() != 0 || c.Bytes() != 0 {
			t.Errorf("after the cleanup: got %d entries of %d bytes, want none", c.Len(), c.Bytes())
		}
	})
}

// A cache that is closed starts no more refreshes but still serves.
func TestCacheClosedStillServesWithoutRefreshing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		up := &stagetest.Upstream{Answer: func(_ context.Context, _ *fetch.Request, n int64) (*fetch.Response, error) {
			return stagetest.HTMLResponse(fmt.Sprintf("<p>v%d</p>", n), "Cache-Control", "max-age=1, stale-while-revalidate=30"), nil
		}}
		c := New(up, Config{CleanupInterval: -1})
		if _, err := c.Fetch(context.Background(), cacheRequest("http://svc/box"), nil); err != nil {
			t.Fatal(err)
		}
		c.Close()
		time.Sleep(2 * time.Second)
		resp, err := c.Fetch(context.Background(), cacheRequest("http://svc/box"), nil)
		if err != nil || string(resp.Body) != "<p>v1</p>" {
			t.Errorf("got %v, %v; want the stale <p>v1</p>", resp, err)
		}
		synctest.Wait()
		stagetest.WantStat(t, "Refreshes", &c.Stats().Refreshes, 0)
		if got := up.Calls.Load(); got != 1 {
			t.Errorf("upstream calls: got %d, want 1", got)
		}
	})
}

// fieldsOf turns a header map into request fields.

// A burst of requests for a missing fragment costs one fetch: a 404 or 410
// without caching headers is kept for NegativeTTL, and fetched again after.
func TestCacheKeepsMissingFragmentsBriefly(t *testing.T) {
	for _, status := range []int{http.StatusNotFound, http.StatusGone} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				gate := make(chan struct{})
				up := &stagetest.Upstream{Answer: func(ctx context.Context, req *fetch.Request, _ int64) (*fetch.Response, error) {
					if err := stagetest.WaitGate(ctx, req, gate); err != nil {
						return nil, err
					}
					return stagetest.StatusResponse(status, "<p>gone</p>"), nil
				}}
				c := newTestCache(t, up, Config{NegativeTTL: 3 * time.Second})
				wait := stagetest.FetchAll(context.Background(), c, 100, func(int) *fetch.Request { return cacheRequest("http://svc/missing") })
				synctest.Wait()
				close(gate)
				for _, r := range wait() {
					if r.Err != nil || r.Resp.Status != status {
						t.Fatalf("got %v, %v; want a %d", r.Resp, r.Err, status)
					}
				}
				if _, err := c.Fetch(context.Background(), cacheRequest("http://svc/missing"), nil); err != nil {
					t.Fatal(err)
				}
				if got := up.Calls.Load(); got != 1 {
					t.Errorf("upstream calls for a burst and a repeat: got %d, want 1", got)
				}
				time.Sleep(3 * time.Second)
				if _, err := c.Fetch(context.Background(), cacheRequest("http://svc/missing"), nil); err != nil {
					t.Fatal(err)
				}
				if got := up.Calls.Load(); got != 2 {
					t.Errorf("upstream calls after NegativeTTL: got %d, want 2", got)
				}
			})
		})
	}
}

// A response that varies on Accept-Language, fetched cold by two
// languages at once, is not handed to the other language: the follower
// fetches its own variant.
func TestCacheCoalescedFollowerGetsItsOwnVariant(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		up := &stagetest.Upstream{Answer: func(ctx context.Context, req *fetch.Request, _ int64) (*fetch.Response, error) {
			if err := stagetest.WaitGate(ctx, req, gate); err != nil {
				return nil, err
			}
			return stagetest.HTMLResponse("<p>"+req.Get("Accept-Language")+"</p>", "Cache-Control", "max-age=60", "Vary", "Accept-Language"), nil
		}}
		c := newTestCache(t, up, Config{})
		langs := []string{"de", "fr", "de", "fr"}
		wait := stagetest.FetchAll(context.Background(), c, len(langs), func(i int) *fetch.Request {
			return cacheRequest("http://svc/box", "Accept-Language", langs[i])
		})
		synctest.Wait()
		close(gate)
		for i, r := range wait() {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			if got, want := string(r.Resp.Body), "<p>"+langs[i]+"</p>"; got != want {
				t.Errorf("caller %d: got %q, want %q", i, got, want)
			}
		}
		if got := up.Calls.Load(); got != 2 {
			t.Errorf("upstream calls: got %d, want 2 (one per language)", got)
		}
	})
}

// A panic below the cache fails that fetch, for the leader and its
// followers, and the cache keeps serving.
func TestCachePanicFailsOnlyThatFetch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		up := &stagetest.Upstream{Answer: func(ctx context.Context, req *fetch.Request, n int64) (*fetch.Response, error) {
			if err := stagetest.WaitGate(ctx, req, gate); err != nil {
				return nil, err
			}
			if n == 1 {
				panic("transport bug")
			}
			return stagetest.HTMLResponse("<p>ok</p>", "Cache-Control", "max-age=60"), nil
		}}
		stats := &fetch.Stats{}
		c := newTestCache(t, up, Config{Stats: stats, Logger: stagetest.DiscardLogger()})
		wait := stagetest.FetchAll(context.Background(), c, 10, func(int) *fetch.Request { return cacheRequest("http://svc/box") })
		synctest.Wait()
		close(gate)
		for _, r := range wait() {
			if fetch.KindOf(r.Err) != fetch.KindPanic {
				t.Errorf("got %v, want kind %q", r.Err, fetch.KindPanic)
			}
		}
		stagetest.WantStat(t, "Panics", &stats.Panics, 1)
		resp, err := c.Fetch(context.Background(), cacheRequest("http://svc/box"), nil)
		if err != nil || string(resp.Body) != "<p>ok</p>" {
			t.Errorf("after the panic: got %v, %v; want the page", resp, err)
		}
	})
}

// BenchmarkCredentialInBody is the store-time tripwire's cost (C11) on a
// credentialed shareable response: a 64 KiB body without the credential
// (the whole body is searched) against a Cookie line of three cookies
// and an Authorization header. Requests without credentials search
// nothing.
func BenchmarkCredentialInBody(b *testing.B) {
	body := bytes.Repeat([]byte("<li class=\"item\"><a href=\"/product/sneaker-01\">Sneaker</a></li>\n"), 1024)[:64<<10]
	for _, tc := range []struct {
		name   string
		fields []fetch.Field
	}{
		{"credentialed", []fetch.Field{
			{Name: "Accept-Language", Values: []string{"en"}},
			{Name: "Cookie", Values: []string{"lang=en; session=3f9a1c0b7e2d4a6f8c1e; basket=b-20261207-0042"}},
			{Name: "Authorization", Values: []string{"Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"}},
		}},
		{"no credentials", []fetch.Field{{Name: "Accept-Language", Values: []string{"en"}}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := &fetch.Request{ID: "box", Service: "team", URL: "http://team/box", Fields: tc.fields}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if credentialInBody(req, body) != "" {
					b.Fatal("found a credential that is not there")
				}
			}
		})
	}
}

// C11: the tripwire finds a credential wherever it is in a body, whatever
// byte it looks for first, and never past the body's end.
func TestContainsCredential(t *testing.T) {
	for _, tc := range []struct {
		body, cred string
		want       bool
	}{
		{"<p>eyJhbGciOiJIUzI1NiJ9.e30.sig</p>", "eyJhbGciOiJIUzI1NiJ9.e30.sig", true},
		{"eyJhbGciOiJIUzI1NiJ9.e30.si", "eyJhbGciOiJIUzI1NiJ9.e30.sig", false},
		{"abcdefgh", "abcdefgh", true},
		{"xabcdefgX", "abcdefgh", false},
		{"Z0000000 Z0000001", "Z0000001", true},
		{"session-id-session-id-X", "session-id-X", true},
		{"short", "longer-than-the-body", false},
		{"", "abcdefgh", false},
	} {
		if got := containsCredential([]byte(tc.body), tc.cred); got != tc.want {
			t.Errorf("containsCredential(%q, %q) = %v, want %v", tc.body, tc.cred, got, tc.want)
		}
	}
}

// guardedBy is next behind guards made with config, as the engine puts
// them.
func guardedBy(next fetch.Fetcher, config func(string) guard.Config, stats *fetch.Stats, logger *slog.Logger) guarded {
	return guarded{Guards: guard.New(config, stats, logger), next: next}
}

type guarded struct {
	*guard.Guards
	next fetch.Fetcher
}

func (g guarded) Fetch(ctx context.Context, req *fetch.Request) (*fetch.Response, error) {
	resp, _, err := g.Guards.Fetch(ctx, req, g.next)
	return resp, err
}

// Eviction drops the oldest stored entries first, and an entry stored
// again counts from its last store: a hot key refreshed now is kept,
// while one stored once long ago goes.
func TestCacheEvictsTheOldestStoredFirst(t *testing.T) {
	up := &stagetest.Upstream{Answer: func(_ context.Context, req *fetch.Request, _ int64) (*fetch.Response, error) {
		return stagetest.HTMLResponse(strings.Repeat("x", 900), "Cache-Control", "max-age=60"), nil
	}}
	// Room for about ten entries of ~1.3 KB each.
	c := newTestCache(t, up, Config{MaxBytes: 13_000})
	get := func(path string) {
		t.Helper()
		resp, err := c.Fetch(context.Background(), cacheRequest("http://svc"+path), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Release()
	}
	for i := range 8 {
		get(fmt.Sprintf("/%d", i))
	}
	// /0 is stored again, after the others: it is now the newest.
	c.drop([]string{fetch.PrimaryKey(cacheRequest("http://svc/0"))})
	get("/0")
	for i := 8; i < 12; i++ {
		get(fmt.Sprintf("/%d", i))
	}
	if c.Stats().Evictions.Load() == 0 {
		t.Fatal("no eviction: the test stores too little")
	}
	has := func(path string) bool { return c.HasFresh(cacheRequest("http://svc" + path)) }
	if !has("/0") {
		t.Error("/0, stored last of the first ones, was evicted before older entries")
	}
	if has("/1") {
		t.Error("/1, the oldest stored, was kept while newer entries were evicted")
	}
	if got, want := c.Bytes(), storedBytes(c); got != want {
		t.Errorf("accounted bytes: got %d, want %d (the stored entries)", got, want)
	}
}
