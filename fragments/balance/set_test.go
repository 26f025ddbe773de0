package balance

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// addrs returns n loopback addresses, 127.0.0.1:8001 and on.
func addrs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("127.0.0.1:%d", 8001+i)
	}
	return out
}

// testConfig is cfg with a seeded source and a silent logger.
func testConfig(cfg Config) Config {
	if cfg.Source == nil {
		cfg.Source = rand.NewPCG(1, 2)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return cfg
}

func newSet(t *testing.T, as []string, cfg Config) *Set {
	t.Helper()
	s, err := NewSet(as, testConfig(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// answer is how an endpoint answers the i-th fetch of a run.
type answer func(addr string, i int) (time.Duration, Outcome)

// drive sends rate fetches a second for d, each to the endpoint Pick
// chooses, ended after the latency answer gives with its outcome, and
// returns the picks per address. It runs in a synctest bubble, where
// sleeping costs nothing.
func drive(t *testing.T, s *Set, rate int, d time.Duration, ans answer) map[string]int {
	t.Helper()
	picks := map[string]int{}
	var wg sync.WaitGroup
	tick := time.Second / time.Duration(rate)
	end := time.Now().Add(d)
	for i := 0; time.Now().Before(end); i++ {
		e, ok := s.Pick()
		if !ok {
			t.Fatalf("fetch %d: no endpoint to pick", i)
		}
		picks[e.Addr()]++
		lat, o := ans(e.Addr(), i)
		wg.Go(func() {
			time.Sleep(lat)
			e.Done(lat, o)
		})
		time.Sleep(tick)
	}
	wg.Wait()
	return picks
}

func share(picks map[string]int, addr string) float64 {
	total := 0
	for _, n := range picks {
		total += n
	}
	return float64(picks[addr]) / float64(total)
}

func stats(s *Set, addr string) EndpointStats {
	for _, st := range s.Snapshot(nil) {
		if st.Addr == addr {
			return st
		}
	}
	return EndpointStats{}
}

// An endpoint ten times slower than its siblings gets well under 5 % of
// the picks (a fifth of its fair share) once latencies are known.
func TestSlowEndpointGetsFewPicks(t *testing.T) {
	for _, tc := range []struct {
		name      string
		endpoints int
		slow      int
		rate      int
	}{
		{"one slow of 4 at 100/s", 4, 1, 100},
		{"one slow of 4 at 400/s", 4, 1, 400},
		{"two slow of 8 at 200/s", 8, 2, 200},
		{"one slow of 32 at 800/s", 32, 1, 800},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				as := addrs(tc.endpoints)
				slow := map[string]bool{}
				for _, a := range as[:tc.slow] {
					slow[a] = true
				}
				s := newSet(t, as, Config{})
				ans := func(addr string, i int) (time.Duration, Outcome) {
					if slow[addr] {
						return 100 * time.Millisecond, Success
					}
					return 10 * time.Millisecond, Success
				}
				drive(t, s, tc.rate, 5*time.Second, ans) // latencies become known
				picks := drive(t, s, tc.rate, 60*time.Second, ans)
				fair := 1 / float64(tc.endpoints)
				for a := range slow {
					if got := share(picks, a); got > fair/5 || got > 0.05 {
						t.Errorf("slow %s got %.2f%% of the picks, want under %.2f%%", a, 100*got, 100*min(fair/5, 0.05))
					} else {
						t.Logf("slow %s got %.2f%% of the picks (fair share %.2f%%)", a, 100*got, 100*fair)
					}
				}
			})
		})
	}
}

// An endpoint that answers 500 at once is not made cheaper by it: it gets
// no more than its fair share while outlier detection has not yet had its
// say (held off here by a minimum of requests it never reaches).
func TestFastFailuresDrawNoTraffic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		as := addrs(4)
		s := newSet(t, as, Config{MinRequests: 1 << 30})
		picks := drive(t, s, 200, 30*time.Second, func(addr string, i int) (time.Duration, Outcome) {
			if addr == as[0] {
				return time.Millisecond, Failure
			}
			return 10 * time.Millisecond, Success
		})
		if got := share(picks, as[0]); got > 0.25 {
			t.Errorf("the endpoint answering 500 in 1 ms got %.1f%% of the picks, want at most its fair 25%%", 100*got)
		}
	})
}

// The first set is at full weight at once; an endpoint added by Update
// starts at a tenth and grows to full over FadeIn; one back from an
// ejection fades in again.
func TestFadeInWeight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		as := addrs(3)
		s := newSet(t, as[:2], Config{})
		if w := stats(s, as[0]).Weight; w != 1 {
			t.Fatalf("first set's weight = %v, want 1 at once", w)
		}
		if err := s.Update(as); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for _, tc := range []struct {
			at   time.Duration
			want float64
		}{
			{0, 0.1},
			{time.Second, 0.1},
			{15 * time.Second, 0.5},
			{27 * time.Second, 0.9},
			{30 * time.Second, 1},
			{time.Hour, 1},
		} {
			time.Sleep(time.Until(start.Add(tc.at)))
			if w := stats(s, as[2]).Weight; w < tc.want-1e-9 || w > tc.want+1e-9 {
				t.Errorf("%v after it was added, the weight is %v, want %v", tc.at, w, tc.want)
			}
			if w := stats(s, as[0]).Weight; w != 1 {
				t.Errorf("%v after another was added, an old endpoint's weight is %v, want 1", tc.at, w)
			}
		}
	})
}

// After an Update that adds two endpoints to two, the new ones' share of
// the picks ramps: small at first, growing through FadeIn, and near their
// fair quarter after it.
func TestFadeInRampsShare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		as := addrs(4)
		s := newSet(t, as[:2], Config{})
		ans := func(string, int) (time.Duration, Outcome) { return 10 * time.Millisecond, Success }
		drive(t, s, 200, 5*time.Second, ans)
		if err := s.Update(as); err != nil {
			t.Fatal(err)
		}
		var shares []float64
		for q := range 5 { // four quarters of FadeIn, then as long after it
			picks := drive(t, s, 200, DefaultFadeIn/4, ans)
			sh := (share(picks, as[2]) + share(picks, as[3])) / 2
			t.Logf("quarter %d: each new endpoint got %.1f%% of the picks", q+1, 100*sh)
			shares = append(shares, sh)
		}
		if shares[0] > 0.15 {
			t.Errorf("in the first quarter of the fade-in a new endpoint got %.1f%%, want a small share (under 15%%)", 100*shares[0])
		}
		for q := 1; q < 4; q++ {
			if shares[q] < shares[q-1] {
				t.Errorf("quarter %d's share %.1f%% is below quarter %d's %.1f%%: not a ramp", q+1, 100*shares[q], q, 100*shares[q-1])
			}
		}
		if shares[4] < 0.20 {
			t.Errorf("after the fade-in a new endpoint got %.1f%%, want at least 20%%", 100*shares[4])
		}
	})
}

// An endpoint that leaves the set is never picked again; its fetches in
// flight end as usual, and it is reported drained once, after the last.
// One with nothing in flight is reported at once; one that comes back
// before it is idle is taken back and never reported.
func TestUpdateDrains(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		as := addrs(3)
		var mu sync.Mutex
		var drained []string
		s := newSet(t, as, Config{OnDrained: func(e *Endpoint) {
			mu.Lock()
			drained = append(drained, e.Addr())
			mu.Unlock()
		}})
		report := func() []string {
			mu.Lock()
			defer mu.Unlock()
			return append([]string(nil), drained...)
		}
		var held []*Endpoint
		for len(held) < 3 || !pickedAll(held, as) {
			e, _ := s.Pick()
			held = append(held, e)
		}
		// as[0] and as[2] leave; as[0] has fetches in flight.
		var rest []*Endpoint
		for _, e := range held {
			if e.Addr() == as[2] {
				e.Done(time.Millisecond, Success)
			} else {
				rest = append(rest, e)
			}
		}
		if err := s.Update(as[1:2]); err != nil {
			t.Fatal(err)
		}
		if got := report(); len(got) != 1 || got[0] != as[2] {
			t.Fatalf("drained at once = %v, want [%s] (no fetch in flight)", got, as[2])
		}
		if st := stats(s, as[0]); !st.Draining || st.InFlight == 0 {
			t.Fatalf("%s: %+v, want draining with fetches in flight", as[0], st)
		}
		for range 1000 {
			e, _ := s.Pick()
			if e.Addr() != as[1] {
				t.Fatalf("picked %s after it left the set", e.Addr())
			}
			e.Done(time.Millisecond, Success)
		}
		var last *Endpoint
		for _, e := range rest {
			if e.Addr() == as[0] {
				if last != nil {
					last.Done(time.Millisecond, Success)
					if got := report(); len(got) != 1 {
						t.Fatalf("drained %v while %s still has a fetch in flight", got, as[0])
					}
				}
				last = e
			} else {
				e.Done(time.Millisecond, Success)
			}
		}
		last.Done(time.Millisecond, Success)
		if got := report(); len(got) != 2 || got[1] != as[0] {
			t.Fatalf("drained = %v, want %s reported after its last fetch", got, as[0])
		}
		if got := s.Snapshot(nil); len(got) != 1 {
			t.Fatalf("snapshot after the drains = %+v, want %s alone", got, as[1])
		}

		// A draining endpoint whose address comes back is taken back.
		e, _ := s.Pick()
		if err := s.Update(as[2:3]); err != nil {
			t.Fatal(err)
		}
		if err := s.Update(as[1:3]); err != nil {
			t.Fatal(err)
		}
		e.Done(time.Millisecond, Success)
		if got := report(); len(got) != 2 {
			t.Fatalf("drained = %v: %s was reported though it came back", got, as[1])
		}
		if st := stats(s, as[1]); st.Draining || st.Requests == 0 {
			t.Fatalf("%s after it came back: %+v, want live with its counters", as[1], st)
		}
	})
}

func pickedAll(held []*Endpoint, as []string) bool {
	seen := map[string]int{}
	for _, e := range held {
		seen[e.Addr()]++
	}
	return seen[as[0]] >= 2 && seen[as[1]] >= 1 && seen[as[2]] >= 1
}

// Bad addresses are refused with an error naming them, and the set keeps
// what it had.
func TestUpdateRefusesBadAddresses(t *testing.T) {
	s := newSet(t, addrs(2), Config{})
	for _, tc := range []struct {
		name  string
		addrs []string
		want  string
	}{
		{"none", nil, "no endpoint addresses"},
		{"no port", []string{"127.0.0.1:8001", "127.0.0.1"}, `"127.0.0.1"`},
		{"port zero", []string{"127.0.0.1:0"}, `port "0"`},
		{"port too big", []string{"127.0.0.1:70000"}, `port "70000"`},
		{"no host", []string{":8080"}, "no host"},
		{"a URL", []string{"http://10.0.0.5:8080"}, `"http://10.0.0.5:8080"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Update(tc.addrs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Update(%q) = %v, want an error with %s", tc.addrs, err, tc.want)
			}
			if _, err := NewSet(tc.addrs, Config{}); err == nil {
				t.Fatalf("NewSet(%q) made a set", tc.addrs)
			}
			if got := s.Snapshot(nil); len(got) != 2 || got[0].Draining || got[1].Draining {
				t.Fatalf("after a refused update the set is %+v, want the two it had", got)
			}
		})
	}
	if err := s.Update([]string{"[::ffff:127.0.0.1]:8001", "127.0.0.1:8001", "Basket.Local:80"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range s.Snapshot(nil) {
		if !st.Draining {
			got = append(got, st.Addr)
		}
	}
	if want := []string{"127.0.0.1:8001", "basket.local:80"}; !slices.Equal(got, want) {
		t.Fatalf("live after an update with a mapped and a repeated address = %v, want %v", got, want)
	}
}

// PickOther never picks the endpoint it is given, and reports false when
// there is no other.
func TestPickOther(t *testing.T) {
	for _, n := range []int{1, 2, 4, 32} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := newSet(t, addrs(n), Config{})
			for range 1000 {
				first, ok := s.Pick()
				if !ok {
					t.Fatal("no first pick")
				}
				other, ok := s.PickOther(first)
				if n == 1 {
					if ok {
						t.Fatalf("PickOther with one endpoint picked %s", other.Addr())
					}
				} else if !ok || other == first {
					t.Fatalf("PickOther(%s) = %v, %v", first.Addr(), other, ok)
				} else {
					other.Done(time.Millisecond, Canceled)
				}
				first.Done(time.Millisecond, Success)
			}
			for _, st := range s.Snapshot(nil) {
				if st.InFlight != 0 {
					t.Fatalf("%s has %d in flight after every fetch ended", st.Addr, st.InFlight)
				}
			}
		})
	}
}

// Picking and ending a fetch allocate nothing.
func TestPickDoneAllocatesNothing(t *testing.T) {
	for _, n := range []int{4, 32} {
		s, err := NewSet(addrs(n), Config{})
		if err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(1000, func() {
			e, _ := s.Pick()
			e.Done(5*time.Millisecond, Success)
			e, _ = s.PickOther(e)
			e.Done(5*time.Millisecond, Failure)
		})
		if allocs != 0 {
			t.Errorf("%d endpoints: Pick and Done allocate %v times, want 0", n, allocs)
		}
	}
}

// Fetches picked and ended on many goroutines while the set changes end
// with nothing in flight and every endpoint that left reported once.
func TestConcurrentPicksAndUpdates(t *testing.T) {
	var mu sync.Mutex
	reported := map[*Endpoint]int{}
	s, err := NewSet(addrs(4), Config{OnDrained: func(e *Endpoint) {
		mu.Lock()
		reported[e]++
		mu.Unlock()
	}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	all := addrs(8)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				e, ok := s.Pick()
				if !ok {
					continue
				}
				o := Outcome(i % 4)
				if g == 0 && i%3 == 0 {
					o = ConnFailure
				}
				e.Done(time.Duration(i%7)*time.Millisecond, o)
			}
		})
	}
	for i := range 200 {
		lo := i % 5
		if err := s.Update(all[lo : lo+3]); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	// 127.0.0.1:8001 to :8004 left with the last updates, at least.
	if len(reported) < 4 {
		t.Errorf("%d endpoints reported drained, want at least the 4 that are out at the end", len(reported))
	}
	for e, n := range reported {
		if n != 1 {
			t.Errorf("%s reported drained %d times", e.Addr(), n)
		}
	}
	for _, st := range s.Snapshot(nil) {
		if st.InFlight != 0 || st.Draining {
			t.Errorf("%+v: want nothing in flight and nothing draining at the end", st)
		}
	}
}
