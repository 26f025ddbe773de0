package guard

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/internal/stagetest"
	"github.com/inlayhq/inlay/fragments/transport"
)

// F6: a healthy service that answers in 250ms, with a 300ms timeout, and
// waves of 150 shoppers at once, more than the limit lets in: a fetch that
// waited in the queue and is left less than the service's usual latency
// is refused at once as overflow, never sent to time out; the breaker
// counts no failure and stays closed, the limit is never cut, and once the
// limit has grown to the burst, the burst is served whole.
func TestQueueWaitIsNotTheServicesFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const (
			latency = 250 * time.Millisecond
			timeout = 300 * time.Millisecond
			burst   = 150
			waves   = 10
		)
		up := stagetest.Slow(latency)
		stats := &fetch.Stats{}
		g := guardedBy(up, nil, stats, stagetest.DiscardLogger())
		var served, overflowed int
		var last []stagetest.Result
		for range waves {
			last = stagetest.FetchAll(context.Background(), g, burst, func(i int) *fetch.Request {
				req := guardRequest("search")
				req.Timeout = timeout
				return req
			})()
			for i, r := range last {
				switch fetch.KindOf(r.Err) {
				case 0:
					served++
				case fetch.KindOverflow:
					overflowed++
				default:
					t.Errorf("fetch %d: %v, want its fragment or a refusal at once (overflow)", i, r.Err)
				}
			}
			if limit := g.Limit("search"); limit < DefaultInitialLimit {
				t.Fatalf("limit: cut to %d, want at least %d", limit, DefaultInitialLimit)
			}
		}
		if got := g.State("search"); got != "closed" {
			t.Errorf("breaker: got %q, want closed", got)
		}
		if c := g.Counts("search"); c.TotalFailures != 0 {
			t.Errorf("breaker failures: got %d, want 0", c.TotalFailures)
		}
		// Nothing was sent that did not come back: the overflows were
		// refused before they were sent.
		if got := up.Calls.Load(); got != int64(served) {
			t.Errorf("requests sent: got %d, want %d (the fetches served)", got, served)
		}
		stagetest.WantStat(t, "Overflows", &stats.Overflows, int64(overflowed))
		for i, r := range last {
			if r.Err != nil {
				t.Errorf("last wave, fetch %d: %v; want the burst served whole once the limit grew", i, r.Err)
			}
		}
		t.Logf("%d waves of %d: %d served, %d refused at once; limit %d", waves, burst, served, overflowed, g.Limit("search"))
	})
}

// F6: which timeouts of a fetch that waited in the queue count against
// the service. One sent with less than one and a half times the service's
// usual latency left is the queue's doing; one sent with more is the
// service's, which was slower than usual.
func TestQueuedTimeoutCountsOnlyWithTimeEnough(t *testing.T) {
	for _, tc := range []struct {
		name   string
		left   time.Duration // of the 600ms timeout, once the slot came
		counts bool
	}{
		{"sent with 1.2 times the usual latency", 120 * time.Millisecond, false},
		{"sent with 2 times the usual latency", 200 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const usual, timeout = 100 * time.Millisecond, 600 * time.Millisecond
				var hang atomic.Bool
				up := &stagetest.Upstream{Answer: func(ctx context.Context, req *fetch.Request, _ int64) (*fetch.Response, error) {
					ctx, cancel := context.WithTimeout(ctx, req.Timeout)
					defer cancel()
					wait := usual
					if hang.Load() {
						wait = time.Hour
					}
					select {
					case <-time.After(wait):
						return stagetest.HTMLResponse("<p>ok</p>"), nil
					case <-ctx.Done():
						return nil, stagetest.CtxError(ctx, req)
					}
				}}
				// One breaker for the service, so that its counts are the
				// fetch's.
				g := guardedBy(up, func(string) Config { return Config{MaxConcurrent: 1, ServiceOnly: true} }, nil, stagetest.DiscardLogger())
				req := func() *fetch.Request { r := guardRequest("search"); r.Timeout = timeout; return r }
				if _, err := g.Fetch(context.Background(), req()); err != nil {
					t.Fatal(err) // the usual latency is measured: 100ms
				}
				// One fetch holds the only slot until its shopper leaves
				// (which measures nothing); the next waits for it, then
				// the service hangs.
				hang.Store(true)
				ctx, leave := context.WithCancel(context.Background())
				holder := stagetest.FetchAll(ctx, g, 1, func(int) *fetch.Request { return req() })
				synctest.Wait()
				queued := stagetest.FetchAll(context.Background(), g, 1, func(int) *fetch.Request { return req() })
				synctest.Wait()
				time.Sleep(timeout - tc.left)
				leave()
				if r := holder()[0]; fetch.KindOf(r.Err) != fetch.KindCanceled {
					t.Fatalf("holder: got %v, want canceled", r.Err)
				}
				if r := queued()[0]; fetch.KindOf(r.Err) != fetch.KindTimeout {
					t.Fatalf("queued fetch: got %v, want a timeout", r.Err)
				}
				failures := g.Counts("search").TotalFailures
				if counted := failures == 1; counted != tc.counts {
					t.Errorf("breaker failures: got %d; want the timeout counted: %v", failures, tc.counts)
				}
			})
		})
	}
}

// F7: an endpoint's failures never count at the service level. One
// failing URL, even of a quiet team, opens its endpoint's breaker and no
// other; a broken endpoint beside a healthy one leaves the healthy one
// served; only failures that span the service (two endpoints, and half of
// them) open the service's breaker.
func TestOneEndpointNeverOpensTheService(t *testing.T) {
	for _, tc := range []struct {
		name        string
		before      []string // fetched once first
		paths       []string // fetched in turn, round after round
		rounds      int
		wantService string // the service's breaker after
		wantOK      bool   // then /ok is served
	}{
		// A quiet team: its page was served once, then 40 requests to one
		// failing URL.
		{"one failing URL of a quiet team", []string{"/ok"}, []string{"/broken-a"}, 40, "closed", true},
		{"a broken endpoint beside a healthy one", nil, []string{"/broken-a", "/ok"}, 40, "closed", true},
		{"two broken endpoints of three", nil, []string{"/broken-a", "/broken-b", "/ok"}, 40, "open", false},
		// The one endpoint asked for is the service, as far as anyone
		// can tell; the next endpoint asked for counts as a second one.
		{"the only endpoint asked for", nil, []string{"/broken-a"}, 40, "open", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var broken atomic.Int64
				client := &transport.Client{Transport: stagetest.RoundTripFunc(func(r *http.Request) (*http.Response, error) {
					status := http.StatusOK
					if strings.HasPrefix(r.URL.Path, "/broken") {
						broken.Add(1)
						status = http.StatusInternalServerError
					}
					return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"text/html"}}, Body: http.NoBody}, nil
				})}
				g := guardedBy(client, nil, nil, stagetest.DiscardLogger())
				get := func(path string) error {
					_, err := g.Fetch(context.Background(), &fetch.Request{ID: "box", Service: "search", URL: "http://search" + path})
					return err
				}
				for _, path := range tc.before {
					if err := get(path); err != nil {
						t.Fatal(err)
					}
				}
				okServed := true
				for range tc.rounds {
					for _, path := range tc.paths {
						if err := get(path); path == "/ok" && err != nil {
							okServed = false
						}
					}
				}
				if got := g.State("search"); got != tc.wantService {
					t.Errorf("service breaker: got %q, want %q", got, tc.wantService)
				}
				if tc.wantService == "closed" {
					if c := g.Counts("search"); c.TotalFailures != 0 {
						t.Errorf("service breaker failures: got %d, want 0", c.TotalFailures)
					}
					if !okServed {
						t.Error("the healthy endpoint was refused while the broken one failed")
					}
					// The broken endpoint's own breaker opened at its 20th
					// failure and refused after.
					if got := broken.Load(); got != DefaultBreakerMinRequests {
						t.Errorf("requests to the broken endpoint: got %d, want %d", got, DefaultBreakerMinRequests)
					}
				}
				if err := get("/ok"); (err == nil) != tc.wantOK {
					t.Errorf("the healthy endpoint, after: got %v, want served: %v", err, tc.wantOK)
				}
			})
		})
	}
}
