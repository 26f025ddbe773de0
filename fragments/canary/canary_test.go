package canary

import (
	"bytes"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// shoppers are n shopper ids shaped as composer/shopper makes them.
func shoppers(n int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%016x%06x", r.Uint64(), r.Uint32()>>8)
	}
	return ids
}

func mustNew(t testing.TB, cfg Config) *Canary {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A shopper gets the same answer every time and on every replica (two
// canaries made from the same config), and at weight w about w% of the
// shoppers get the canary.
func TestChoosesStableShare(t *testing.T) {
	ids := shoppers(100_000)
	for _, w := range []int{0, 1, 5, 10, 50, 90, 100} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			a := mustNew(t, Config{Service: "basket", Weight: w})
			b := mustNew(t, Config{Service: "basket", Weight: w})
			chosen := 0
			for _, id := range ids {
				got := a.Chooses(id)
				if got != a.Chooses(id) || got != b.Chooses(id) {
					t.Fatalf("shopper %s: the answer changed between calls or replicas", id)
				}
				if got {
					chosen++
				}
			}
			// 100,000 shoppers: the share is within half a point of w
			// (more than 7 standard deviations at 5%).
			share := float64(chosen) / float64(len(ids)) * 100
			if share < float64(w)-0.5 || share > float64(w)+0.5 {
				t.Errorf("weight %d: %.2f%% of shoppers got the canary", w, share)
			}
		})
	}
}

// Raising the weight only adds shoppers: nobody who had the canary at a
// weight loses it at a higher one.
func TestChoosesMonotone(t *testing.T) {
	ids := shoppers(20_000)
	c := mustNew(t, Config{Service: "basket"})
	had := make([]bool, len(ids))
	for w := 0; w <= 100; w++ {
		if err := c.SetWeight(w); err != nil {
			t.Fatal(err)
		}
		for i, id := range ids {
			got := c.Chooses(id)
			if had[i] && !got {
				t.Fatalf("shopper %s had the canary at weight %d and lost it at %d", id, w-1, w)
			}
			had[i] = got
		}
	}
}

// Each service's canary picks its shoppers on its own: at 10% each, about
// 1% of shoppers get both canaries, not the same 10%.
func TestChoosesIndependentPerService(t *testing.T) {
	ids := shoppers(100_000)
	basket := mustNew(t, Config{Service: "basket", Weight: 10})
	search := mustNew(t, Config{Service: "search", Weight: 10})
	both := 0
	for _, id := range ids {
		if basket.Chooses(id) && search.Chooses(id) {
			both++
		}
	}
	if share := float64(both) / float64(len(ids)) * 100; share < 0.7 || share > 1.3 {
		t.Errorf("%.2f%% of shoppers got both canaries, want about 1%%", share)
	}
}

// The buckets are even: ids that differ in their last characters only,
// such as counters, spread over all of them.
func TestBucketsEven(t *testing.T) {
	const n = 200_000
	var per [100]int
	for i := range n {
		per[bucket("basket", fmt.Sprintf("shopper-%d", i))/100]++
	}
	for i, got := range per {
		// n/100 = 2000 each, standard deviation about 44.
		if got < 1750 || got > 2250 {
			t.Errorf("buckets %d00 to %d99: %d shoppers, want about 2000", i, i, got)
		}
	}
}

// traffic is one version's behaviour in a simulation: a failure every
// failEvery requests (never when 0), and a latency, with every
// slowEvery-th request (never when 0) taking slow instead.
type traffic struct {
	failEvery int
	latency   time.Duration
	slowEvery int
	slow      time.Duration
}

func (tr traffic) answer(n int) (time.Duration, bool) {
	lat := tr.latency
	if tr.slowEvery > 0 && n%tr.slowEvery == tr.slowEvery-1 {
		lat = tr.slow
	}
	return lat, tr.failEvery > 0 && n%tr.failEvery == tr.failEvery-1
}

// result is what a simulation saw.
type result struct {
	rolledBackAt time.Duration // since the start; 0 when never
	canaryAfter  int           // canary requests after the rollback
	canaryBefore int
}

// simulate sends perSecond requests a second for d, each from the next of
// a few thousand shoppers, to the version c chooses, and tells c how
// each went; it stops at a rollback when untilRollback. It runs in a
// synctest bubble: the clock is fake.
func simulate(c *Canary, d time.Duration, perSecond int, stable, canary traffic, untilRollback bool) result {
	ids := shoppers(5000)
	var res result
	var n [2]int
	start := time.Now()
	every := time.Second / time.Duration(perSecond)
	for i := 0; time.Since(start) < d; i++ {
		v := c.Chooses(ids[i%len(ids)])
		tr := stable
		if v {
			tr = canary
			if res.rolledBackAt == 0 {
				res.canaryBefore++
			} else {
				res.canaryAfter++
			}
		}
		lat, failed := tr.answer(n[version(v)])
		n[version(v)]++
		c.Observe(v, lat, failed)
		if res.rolledBackAt == 0 && c.Weight() == 0 {
			res.rolledBackAt = time.Since(start)
			if untilRollback {
				break
			}
		}
		time.Sleep(every)
	}
	return res
}

// The automatic analysis rolls back a canary that fails or slows down
// beyond the margins, and leaves alone one that does as well as the
// stable version, or too little worse to tell, or that has too few
// requests to judge.
func TestAnalysis(t *testing.T) {
	healthy := traffic{failEvery: 100, latency: 20 * time.Millisecond, slowEvery: 200, slow: 60 * time.Millisecond}
	cases := []struct {
		name      string
		perSecond int
		stable    traffic
		canary    traffic
		want      string // the reason's start; "" for no rollback
	}{
		// Issue 24's case: weight 10, ~100 requests a second, the
		// canary failing half of them: rolled back within 10 s.
		{"canary failing half its requests", 100, healthy,
			traffic{failEvery: 2, latency: 20 * time.Millisecond}, "failure rate"},
		{"canary failing every request", 100, healthy,
			traffic{failEvery: 1, latency: 20 * time.Millisecond}, "failure rate"},
		{"canary ten times slower", 100, healthy,
			traffic{failEvery: 100, latency: 200 * time.Millisecond}, "p99"},
		{"canary as good as the stable version", 100, healthy, healthy, ""},
		{"canary 3 points worse, within the margin", 100, healthy,
			traffic{failEvery: 25, latency: 20 * time.Millisecond}, ""},
		{"canary 1.2 times slower, within the factor", 100,
			traffic{latency: 100 * time.Millisecond},
			traffic{latency: 120 * time.Millisecond}, ""},
		{"fast service: canary 20 times slower but under the floor", 100,
			traffic{latency: 2 * time.Millisecond},
			traffic{latency: 40 * time.Millisecond}, ""},
		{"too few canary requests to judge", 10, healthy,
			traffic{failEvery: 1, latency: 20 * time.Millisecond}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var logs bytes.Buffer
				c := mustNew(t, Config{Service: "basket", Weight: 10, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
				res := simulate(c, time.Minute, tc.perSecond, tc.stable, tc.canary, false)
				st := c.State()
				if tc.want == "" {
					if st.RolledBack || c.Rollbacks() != 0 || c.Weight() != 10 {
						t.Fatalf("rolled back after %s: %+v", res.rolledBackAt, st)
					}
					if res.canaryBefore == 0 {
						t.Fatal("the canary got no requests")
					}
					return
				}
				if res.rolledBackAt == 0 {
					t.Fatalf("not rolled back in a minute (%d canary requests): %+v", res.canaryBefore, st)
				}
				if res.rolledBackAt > 10*time.Second {
					t.Errorf("rolled back after %s, want within 10s", res.rolledBackAt)
				}
				if res.canaryAfter != 0 {
					t.Errorf("%d canary requests after the rollback, want 0", res.canaryAfter)
				}
				if !st.RolledBack || st.Weight != 0 || st.ConfiguredWeight != 10 || !strings.HasPrefix(st.Reason, tc.want) {
					t.Errorf("state: got %+v, want rolled back from 10 for %q", st, tc.want)
				}
				if c.Rollbacks() != 1 {
					t.Errorf("rollbacks: got %d, want 1", c.Rollbacks())
				}
				if got := strings.Count(logs.String(), "canary rolled back"); got != 1 {
					t.Errorf("logged %d times, want once:\n%s", got, logs.String())
				}
				if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "service=basket") {
					t.Errorf("log: got %q, want a warning naming the service", logs.String())
				}
				t.Logf("rolled back after %s and %d canary requests: %s", res.rolledBackAt, res.canaryBefore, st.Reason)
			})
		})
	}
}

// SetWeight brings a rolled-back canary back, with an empty window: the
// failures that rolled it back do not roll it back again, and only new
// ones can.
func TestSetWeightBringsBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := mustNew(t, Config{Service: "basket", Weight: 10})
		failing := traffic{failEvery: 2, latency: 20 * time.Millisecond}
		healthy := traffic{latency: 20 * time.Millisecond}
		if res := simulate(c, 10*time.Second, 100, healthy, failing, true); res.rolledBackAt == 0 {
			t.Fatal("not rolled back")
		}
		rolled := c.State().Since
		time.Sleep(100 * time.Millisecond)
		if err := c.SetWeight(20); err != nil {
			t.Fatal(err)
		}
		st := c.State()
		if st.Weight != 20 || st.ConfiguredWeight != 20 || st.RolledBack || st.Reason != "" || !st.Since.After(rolled) {
			t.Fatalf("after SetWeight(20): %+v", st)
		}
		// One good canary answer later, past the analysis interval: with
		// the old window it would be judged on the old failures.
		time.Sleep(judgeEvery)
		c.Observe(true, 20*time.Millisecond, false)
		if c.Weight() != 20 {
			t.Fatalf("rolled back again on the old window: %+v", c.State())
		}
		if res := simulate(c, 10*time.Second, 100, healthy, failing, true); res.rolledBackAt == 0 || c.Rollbacks() != 2 {
			t.Fatalf("failing again: rolled back after %s, %d rollbacks, want a second one", res.rolledBackAt, c.Rollbacks())
		}
	})
}

// A bad weight or config is refused with an error that says what is
// wrong, and changes nothing.
func TestRefused(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no service", Config{Weight: 5}, "not named"},
		{"weight over 100", Config{Service: "basket", Weight: 101}, "weight 101"},
		{"negative weight", Config{Service: "basket", Weight: -1}, "weight -1"},
		{"window too long", Config{Service: "basket", Window: time.Hour}, "window 1h0m0s"},
		{"negative window", Config{Service: "basket", Window: -time.Second}, "window -1s"},
		{"factor 1", Config{Service: "basket", LatencyFactor: 1}, "latency factor 1"},
		{"margin over 1", Config{Service: "basket", FailureMargin: 2}, "failure margin 2"},
		{"negative min requests", Config{Service: "basket", MinRequests: -3}, "min requests -3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: got %v, %v, want an error naming %q", c, err, tc.want)
			}
		})
	}
	c := mustNew(t, Config{Service: "basket", Weight: 5})
	for _, w := range []int{-1, 101} {
		if err := c.SetWeight(w); err == nil || !strings.Contains(err.Error(), "basket") {
			t.Errorf("SetWeight(%d): got %v, want an error naming the service", w, err)
		}
	}
	if st := c.State(); st.Weight != 5 || st.ConfiguredWeight != 5 {
		t.Errorf("after refused weights: %+v, want 5 as before", st)
	}
}

// Chooses, Observe, State and SetWeight may be called from any number of
// goroutines at once; the state they leave is one of those set.
func TestConcurrentUse(t *testing.T) {
	c := mustNew(t, Config{Service: "basket", Weight: 10})
	ids := shoppers(1000)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 5000 {
				v := c.Chooses(ids[(i+g)%len(ids)])
				c.Observe(v, time.Duration(i)*time.Microsecond, v && i%2 == 0)
			}
		})
	}
	wg.Go(func() {
		for i := range 200 {
			if err := c.SetWeight(i % 50); err != nil {
				t.Error(err)
			}
			_ = c.State()
		}
	})
	wg.Wait()
	if err := c.SetWeight(30); err != nil {
		t.Fatal(err)
	}
	if st := c.State(); st.Weight != 30 || st.ConfiguredWeight != 30 || st.RolledBack {
		t.Errorf("state: %+v, want weight 30", st)
	}
}

// A latency's bucket holds it, and is at most 12.5% wider than it.
func TestHistogramBuckets(t *testing.T) {
	prev := -1
	for d := time.Duration(0); d < 300*time.Second; d = d*17/16 + time.Microsecond {
		i := histIndex(d)
		if i < prev {
			t.Fatalf("%s: bucket %d after %d", d, i, prev)
		}
		prev = i
		up := histUpper(i)
		if d >= time.Duration(1<<28)*time.Microsecond {
			if i != histBuckets-1 {
				t.Fatalf("%s: bucket %d, want the last", d, i)
			}
			continue
		}
		if up <= d.Truncate(time.Microsecond) || (d >= 8*time.Microsecond && float64(up) > float64(d)*1.125+float64(time.Microsecond)) {
			t.Fatalf("%s: bucket %d's upper bound is %s", d, i, up)
		}
	}
}

// p99 is the latency 99% of answers took at most.
func TestP99(t *testing.T) {
	cases := []struct {
		name string
		lats map[time.Duration]int
		want time.Duration // within its bucket
	}{
		{"none", nil, 0},
		{"all alike", map[time.Duration]int{10 * time.Millisecond: 100}, 10 * time.Millisecond},
		{"1% slow", map[time.Duration]int{10 * time.Millisecond: 990, 500 * time.Millisecond: 10}, 10 * time.Millisecond},
		{"2% slow", map[time.Duration]int{10 * time.Millisecond: 980, 500 * time.Millisecond: 20}, 500 * time.Millisecond},
		{"one of twenty slow", map[time.Duration]int{10 * time.Millisecond: 19, 300 * time.Millisecond: 1}, 300 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s summary
			for d, n := range tc.lats {
				s.hist[histIndex(d)] += uint64(n)
			}
			got := s.p99()
			if got < tc.want || float64(got) > float64(tc.want)*1.125 {
				t.Errorf("p99: got %s, want %s", got, tc.want)
			}
		})
	}
}

func BenchmarkChooses(b *testing.B) {
	c := mustNew(b, Config{Service: "basket", Weight: 10})
	id := shoppers(1)[0]
	b.ReportAllocs()
	for b.Loop() {
		c.Chooses(id)
	}
}

func BenchmarkObserve(b *testing.B) {
	c := mustNew(b, Config{Service: "basket", Weight: 10})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			c.Observe(i%10 == 0, time.Duration(i%1000)*time.Microsecond, i%97 == 0)
		}
	})
}
