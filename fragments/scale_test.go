package fragments

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/internal/memnet"
)

// The tests of a service's instances run in synctest bubbles over the
// in-memory network: each instance is a real http.Server at its own
// address, latencies are the handlers' own sleeps on the bubble's clock,
// and every count and duration they assert is deterministic.

// instanceAddrs are the addresses of n instances: 127.0.0.2:80 on.
func instanceAddrs(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("127.0.0.%d:80", i+2))
	}
	return out
}

// counted is an instance's handler: it answers a no-store fragment after
// the delay latency gives for its n-th request (from 1), with the status
// status gives, and counts its requests.
type counted struct {
	hits    atomic.Int64
	latency func(n int64) time.Duration
	status  func(n int64) int
}

func (c *counted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := c.hits.Add(1)
	if c.latency != nil {
		if d := c.latency(n); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
	}
	status := http.StatusOK
	if c.status != nil {
		status = c.status(n)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	io.WriteString(w, "<p>ok</p>")
}

// fixed is a latency that is always d.
func fixed(d time.Duration) func(int64) time.Duration {
	return func(int64) time.Duration { return d }
}

// scaleEngine returns an engine over net whose one service is sc, with
// lookup (nil for none) answering for its names.
func scaleEngine(t *testing.T, n *memnet.Net, sc ServiceConfig, lookup *fakeLookup) *Engine {
	t.Helper()
	opts := EngineOptions{Logger: slog.New(slog.DiscardHandler), Dial: n.Dial, CleanupInterval: -1}
	if lookup != nil {
		opts.Lookup = lookup
	}
	e := NewEngine(opts, Settings{Services: []ServiceConfig{sc}})
	t.Cleanup(e.Close)
	synctest.Wait() // the first lookups answer
	return e
}

// urls parses addrs as http base URLs.
func urls(t *testing.T, addrs ...string) []*url.URL {
	t.Helper()
	var out []*url.URL
	for _, a := range addrs {
		u, err := url.Parse("http://" + a)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	return out
}

// boxFetch fetches the service's box for shopper, and returns the report.
func boxFetch(e *Engine, path, shopper string) (*fetch.Response, fetch.Report, error) {
	req := &fetch.Request{ID: "box", Service: "s", URL: "http://s.test" + path, Timeout: 2 * time.Second, Shopper: shopper}
	resp, rep, err := e.Start(context.Background(), req, nil).Wait()
	if err == nil {
		resp.Release()
	}
	return resp, rep, err
}

// load runs fetches on workers goroutines, each fetching in a loop until
// stop says so, and returns how many failed.
func load(e *Engine, workers int, stop func() bool) (failed int64) {
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range workers {
		wg.Go(func() {
			for !stop() {
				if _, _, err := boxFetch(e, "/box", ""); err != nil {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return bad.Load()
}

// fakeLookup answers lookups from a list the test changes.
type fakeLookup struct {
	mu    sync.Mutex
	addrs []netip.Addr
}

func (f *fakeLookup) set(ips ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addrs = nil
	for _, ip := range ips {
		f.addrs = append(f.addrs, netip.MustParseAddr(ip))
	}
}

func (f *fakeLookup) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.addrs), nil
}

// N1: An instance ten times slower than its three siblings gets at most 5%
// of the fetches (each fetch goes to the less loaded and faster of two
// instances drawn at random), and the fetches' p99 stays within 1.1 times
// what it is with four healthy instances. Durations are the bubble's
// clock: deterministic.
func TestSlowInstanceGetsFewFetches(t *testing.T) {
	run := func(t *testing.T, slowFactor time.Duration) (slowShare float64, p99 time.Duration) {
		var took []time.Duration
		synctest.Test(t, func(t *testing.T) {
			addrs := instanceAddrs(4)
			handlers := map[string]http.Handler{}
			insts := map[string]*counted{}
			for i, a := range addrs {
				c := &counted{latency: fixed(10 * time.Millisecond)}
				if i == 3 {
					c.latency = fixed(slowFactor * 10 * time.Millisecond)
				}
				insts[a], handlers[a] = c, c
			}
			n := memnet.New(t, handlers)
			e := scaleEngine(t, n, ServiceConfig{Name: "s", URL: urls(t, addrs[0])[0], Endpoints: urls(t, addrs...)}, nil)
			var mu sync.Mutex
			var wg sync.WaitGroup
			var fetches atomic.Int64
			for range 8 {
				wg.Go(func() {
					for fetches.Add(1) <= 2000 {
						start := time.Now()
						if _, _, err := boxFetch(e, "/box", ""); err != nil {
							t.Errorf("fetch: %v", err)
						}
						mu.Lock()
						took = append(took, time.Since(start))
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			var total int64
			for _, c := range insts {
				total += c.hits.Load()
			}
			slowShare = float64(insts[addrs[3]].hits.Load()) / float64(total)
		})
		slices.Sort(took)
		return slowShare, took[len(took)*99/100]
	}
	_, healthy := run(t, 1)
	share, slow := run(t, 10)
	t.Logf("the slow instance answered %.2f%% of the fetches; p99 %v, against %v with four healthy instances", 100*share, slow, healthy)
	if share > 0.05 {
		t.Errorf("the slow instance got %.1f%% of the fetches, want at most 5%%", 100*share)
	}
	if limit := healthy * 11 / 10; slow > limit {
		t.Errorf("p99 with a slow instance: %v, want at most %v (1.1 × %v with four healthy)", slow, limit, healthy)
	}
}

// N2: When the service's name answers 4 addresses instead of 2, each new
// instance gets at least 20% of the fetches within resolve_every plus
// fade_in, and its share ramps up rather than jumping at once.
func TestNewInstancesAreEasedIn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const every, fadeIn = time.Second, 10 * time.Second
		addrs := instanceAddrs(4)
		handlers := map[string]http.Handler{}
		type hit struct {
			addr string
			at   time.Duration
		}
		var mu sync.Mutex
		var hits []hit
		start := time.Now()
		for _, a := range addrs {
			handlers[a] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				hits = append(hits, hit{a, time.Since(start)})
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("Cache-Control", "no-store")
				io.WriteString(w, "<p>ok</p>")
			})
		}
		n := memnet.New(t, handlers)
		lookup := &fakeLookup{}
		lookup.set("127.0.0.2", "127.0.0.3")
		u, _ := url.Parse("http://s.test:80")
		e := scaleEngine(t, n, ServiceConfig{Name: "s", URL: u, ResolveEvery: every, FadeIn: fadeIn}, lookup)
		const grow = 3 * time.Second
		time.AfterFunc(grow, func() { lookup.set("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5") })
		if bad := load(e, 4, func() bool { return time.Since(start) > grow+every+fadeIn+2*time.Second }); bad != 0 {
			t.Fatalf("%d fetches failed", bad)
		}
		// The share of each new instance, second by second.
		share := func(addr string, from time.Duration) float64 {
			var n, all int
			for _, h := range hits {
				if h.at >= from && h.at < from+time.Second {
					all++
					if h.addr == addr {
						n++
					}
				}
			}
			if all == 0 {
				return 0
			}
			return float64(n) / float64(all)
		}
		for _, a := range addrs[2:] {
			var ramp []string
			first := -1.0
			for s := grow; s < grow+every+fadeIn+time.Second; s += time.Second {
				f := share(a, s)
				ramp = append(ramp, fmt.Sprintf("%.0f%%", 100*f))
				if first < 0 && f > 0 {
					first = f
				}
			}
			t.Logf("%s, second by second from the change: %v", a, ramp)
			if at := share(a, grow+every+fadeIn); at < 0.20 {
				t.Errorf("%s: %.0f%% of the fetches %v after the change, want at least 20%%", a, 100*at, every+fadeIn)
			}
			if first < 0 || first >= 0.15 {
				t.Errorf("%s: first share %.0f%%, want it eased in below 15%%", a, 100*first)
			}
		}
	})
}

// N3: One instance killed in the middle of 1,000 pages of four boxes costs no
// box: a fetch that fails before any answer is sent once more to another
// instance, and the dead one is soon left out.
func TestKilledInstanceCostsNoBox(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		addrs := instanceAddrs(4)
		handlers := map[string]http.Handler{}
		for _, a := range addrs {
			handlers[a] = &counted{latency: fixed(5 * time.Millisecond)}
		}
		n := memnet.New(t, handlers)
		e := scaleEngine(t, n, ServiceConfig{Name: "s", URL: urls(t, addrs[0])[0], Endpoints: urls(t, addrs...)}, nil)
		var pages atomic.Int64
		var killed sync.Once
		var failed atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for {
					p := pages.Add(1)
					if p > 1000 {
						return
					}
					if p == 300 {
						killed.Do(func() { n.Kill(addrs[1]) })
					}
					var boxes sync.WaitGroup
					for i := range 4 {
						boxes.Go(func() {
							if _, _, err := boxFetch(e, fmt.Sprintf("/box%d", i), ""); err != nil {
								failed.Add(1)
								t.Logf("page %d, box %d: %v", p, i, err)
							}
						})
					}
					boxes.Wait()
				}
			})
		}
		wg.Wait()
		if f := failed.Load(); f != 0 {
			t.Errorf("degraded boxes: %d, want 0", f)
		}
		if r := e.Stats().Retries.Load(); r == 0 {
			t.Error("no fetch was retried: the kill came at no time the instance was asked")
		}
	})
}

// N4: An instance that answers only 500s is ejected within 5 s; after that
// no fetch of the service fails, and its breaker stays closed.
func TestFailingInstanceIsEjected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		addrs := instanceAddrs(4)
		handlers := map[string]http.Handler{}
		for i, a := range addrs {
			c := &counted{latency: fixed(2 * time.Millisecond)}
			if i == 1 {
				c.status = func(int64) int { return http.StatusInternalServerError }
			}
			handlers[a] = c
		}
		n := memnet.New(t, handlers)
		e := scaleEngine(t, n, ServiceConfig{Name: "s", URL: urls(t, addrs[0])[0], Endpoints: urls(t, addrs...)}, nil)
		start := time.Now()
		ejectedAt := time.Duration(-1)
		failedAfter := 0
		for time.Since(start) < 10*time.Second {
			_, _, err := boxFetch(e, "/box", "")
			if ejectedAt < 0 {
				for _, st := range e.Instances()["s"] {
					if st.Addr == addrs[1] && st.Ejected {
						ejectedAt = time.Since(start)
					}
				}
			} else if err != nil {
				failedAfter++
			}
			time.Sleep(10 * time.Millisecond) // about 100 fetches a second
		}
		if ejectedAt < 0 || ejectedAt > 5*time.Second {
			t.Fatalf("the failing instance ejected after %v, want within 5s", ejectedAt)
		}
		t.Logf("ejected after %v", ejectedAt)
		if failedAfter != 0 {
			t.Errorf("fetches that failed after the ejection: %d, want 0", failedAfter)
		}
		if st := e.Guards().State("s"); st != "closed" {
			t.Errorf("the service's breaker: %s, want closed", st)
		}
	})
}

// N5: With one address only (a virtual IP balancing connections between two
// backends, as kube-proxy does), kept-alive connections older than
// max_connection_age are retired, so the second backend gets traffic; with
// no age limit, the one kept connection goes to the first backend only.
func TestConnectionAgeRebalancesAVirtualIP(t *testing.T) {
	for _, tc := range []struct {
		name    string
		maxAge  time.Duration
		wantTwo bool
	}{
		{"max_connection_age 2s", 2 * time.Second, true},
		{"no age limit", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := &counted{latency: fixed(time.Millisecond)}, &counted{latency: fixed(time.Millisecond)}
				n := memnet.New(t, map[string]http.Handler{"backend-a:80": a, "backend-b:80": b})
				var conns atomic.Int64
				const vip = "127.0.0.9:80"
				// The virtual IP sends each new connection to the next
				// backend in turn.
				dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
					if addr == vip {
						addr = "backend-a:80"
						if conns.Add(1)%2 == 0 {
							addr = "backend-b:80"
						}
					}
					return n.Dial(ctx, network, addr)
				}
				e := NewEngine(EngineOptions{Logger: slog.New(slog.DiscardHandler), Dial: dial, CleanupInterval: -1},
					Settings{Services: []ServiceConfig{{Name: "s", URL: urls(t, vip)[0], MaxConnAge: tc.maxAge}}})
				t.Cleanup(e.Close)
				start := time.Now()
				for time.Since(start) < 6*time.Second {
					if _, _, err := boxFetch(e, "/box", ""); err != nil {
						t.Fatal(err)
					}
					time.Sleep(100 * time.Millisecond)
				}
				t.Logf("backend a: %d, backend b: %d, connections: %d", a.hits.Load(), b.hits.Load(), conns.Load())
				if got := b.hits.Load() > 0; got != tc.wantTwo {
					t.Errorf("second backend got traffic: %v, want %v", got, tc.wantTwo)
				}
			})
		})
	}
}

// N6: A canary at weight 10 that fails half its fetches is rolled back within
// 10 s. Until then every page of a shopper takes one version for all its
// boxes; after it, no fetch goes to the canary.
func TestCanaryRollsBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stable := &counted{latency: fixed(2 * time.Millisecond)}
		can := &counted{latency: fixed(2 * time.Millisecond), status: func(n int64) int {
			if n%2 == 0 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		}}
		n := memnet.New(t, map[string]http.Handler{"127.0.0.2:80": stable, "127.0.0.20:80": can})
		e := scaleEngine(t, n, ServiceConfig{Name: "s", URL: urls(t, "127.0.0.2:80")[0],
			Canary: &CanaryConfig{URL: urls(t, "127.0.0.20:80")[0], Weight: 10}}, nil)
		start := time.Now()
		rolledBack := time.Duration(-1)
		var canaryAfter int64
		for p := 0; time.Since(start) < 15*time.Second; p++ {
			shopper := fmt.Sprintf("shopper-%d", p%300)
			before := e.Canaries()["s"].RolledBack
			var versions []bool
			for i := range 3 {
				_, rep, _ := boxFetch(e, fmt.Sprintf("/box%d", i), shopper)
				versions = append(versions, rep.Canary)
			}
			during := before != e.Canaries()["s"].RolledBack // the page the rollback came in
			if !during && slices.Contains(versions, true) && slices.Contains(versions, false) {
				t.Fatalf("page %d of %s mixed versions: %v", p, shopper, versions)
			}
			if rolledBack < 0 && e.Canaries()["s"].RolledBack {
				rolledBack = time.Since(start)
				canaryAfter = can.hits.Load()
			}
			time.Sleep(30 * time.Millisecond) // about 100 fetches a second
		}
		if rolledBack < 0 || rolledBack > 10*time.Second {
			t.Fatalf("canary rolled back after %v, want within 10s", rolledBack)
		}
		t.Logf("rolled back after %v, %d canary fetches", rolledBack, canaryAfter)
		if got := can.hits.Load() - canaryAfter; got != 0 {
			t.Errorf("canary fetches after the rollback: %d, want 0", got)
		}
		if got := e.CanaryRollbacks()["s"]; got != 1 {
			t.Errorf("rollbacks counted: %d, want 1", got)
		}
	})
}

// N7: With hedging on, an instance that stalls one request in twenty for
// 500 ms costs the service's p99 nothing past 100 ms: a fetch still
// unanswered at the service's p95 is sent to another instance as well,
// within the retry budget.
func TestHedgeCutsTheTail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		addrs := instanceAddrs(3)
		handlers := map[string]http.Handler{}
		for i, a := range addrs {
			c := &counted{latency: fixed(5 * time.Millisecond)}
			if i == 0 {
				c.latency = func(n int64) time.Duration {
					if n%20 == 0 {
						return 500 * time.Millisecond
					}
					return 5 * time.Millisecond
				}
			}
			handlers[a] = c
		}
		n := memnet.New(t, handlers)
		e := scaleEngine(t, n, ServiceConfig{Name: "s", URL: urls(t, addrs[0])[0], Endpoints: urls(t, addrs...), Hedge: true}, nil)
		var took []time.Duration
		for range 1000 {
			start := time.Now()
			if _, _, err := boxFetch(e, "/box", ""); err != nil {
				t.Fatal(err)
			}
			took = append(took, time.Since(start))
			time.Sleep(10 * time.Millisecond)
		}
		sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
		p99 := took[len(took)*99/100]
		budget := e.RetryBudgets()["s"]
		t.Logf("p99 %v, hedges %d, budget %+v", p99, e.Stats().Hedges.Load(), budget)
		if p99 >= 100*time.Millisecond {
			t.Errorf("p99: %v, want under 100ms", p99)
		}
		if e.Stats().Hedges.Load() == 0 {
			t.Error("no hedge was sent")
		}
		if limit := budget.Requests/10 + 10; budget.Withdrawn > limit {
			t.Errorf("extra fetches: %d, want at most %d (10%% of %d, and the floor)", budget.Withdrawn, limit, budget.Requests)
		}
	})
}

// A fetch sent at Start and read in Wait is quiet once read, unless it
// was sent once more to another instance: the retry goes through the
// service's transport, which may keep the request past its answer. One
// of four instances is killed after the first fetches; the fetches that
// then find it dead are retried, and only they are not quiet.
func TestRetriedFetchIsNotQuiet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		addrs := instanceAddrs(4)
		handlers := map[string]http.Handler{}
		for _, a := range addrs {
			handlers[a] = &counted{latency: fixed(time.Millisecond)}
		}
		n := memnet.New(t, handlers)
		e := scaleEngine(t, n, ServiceConfig{Name: "s", URL: urls(t, addrs[0])[0], Endpoints: urls(t, addrs...)}, nil)
		if _, _, err := boxFetch(e, "/box", ""); err != nil { // a flight: the cache learns the box is no-store
			t.Fatal(err)
		}
		var quiet, retried int
		for i := range 200 {
			if i == 20 {
				n.Kill(addrs[1])
			}
			before := e.Stats().Retries.Load()
			p := e.Start(context.Background(), &fetch.Request{ID: "box", Service: "s", URL: "http://s.test/box", Timeout: 2 * time.Second}, nil)
			resp, _, err := p.Wait()
			if err != nil {
				t.Fatalf("fetch %d: %v", i, err)
			}
			resp.Release()
			switch again := e.Stats().Retries.Load() > before; {
			case again && p.Quiet():
				t.Errorf("fetch %d was retried, yet quiet", i)
			case again:
				retried++
			case !p.Quiet():
				t.Errorf("fetch %d: not retried, yet not quiet", i)
			default:
				quiet++
			}
		}
		if retried == 0 || quiet == 0 {
			t.Errorf("%d fetches retried and %d quiet: want some of each", retried, quiet)
		}
	})
}
