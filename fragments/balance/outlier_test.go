package balance

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// Connection failures in a row eject an endpoint at ConsecutiveConnFailures
// (5 by default), not before; a success or a 5xx between them starts the
// count again.
func TestConsecutiveConnFailuresEject(t *testing.T) {
	for _, tc := range []struct {
		name  string
		seq   []Outcome
		eject bool
	}{
		{"five in a row", []Outcome{ConnFailure, ConnFailure, ConnFailure, ConnFailure, ConnFailure}, true},
		{"four in a row", []Outcome{ConnFailure, ConnFailure, ConnFailure, ConnFailure}, false},
		{"a success between", []Outcome{ConnFailure, ConnFailure, ConnFailure, Success, ConnFailure, ConnFailure}, false},
		{"a 5xx between", []Outcome{ConnFailure, ConnFailure, Failure, ConnFailure, ConnFailure, ConnFailure}, false},
		{"a cancel between", []Outcome{ConnFailure, ConnFailure, Canceled, ConnFailure, ConnFailure, ConnFailure}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				as := addrs(4)
				s := newSet(t, as, Config{})
				for _, o := range tc.seq {
					e := pickAddr(t, s, as[0])
					e.Done(time.Millisecond, o)
				}
				st := stats(s, as[0])
				if st.Ejected != tc.eject {
					t.Fatalf("ejected = %v after %v, want %v", st.Ejected, tc.seq, tc.eject)
				}
				if tc.eject && !st.EjectedUntil.Equal(time.Now().Add(DefaultEjectionTime)) {
					t.Fatalf("ejected until %v, want %v from now", st.EjectedUntil, DefaultEjectionTime)
				}
			})
		})
	}
}

// pickAddr picks until it gets addr, a millisecond apart, ending the
// other picks as 10 ms successes. It runs in a synctest bubble.
func pickAddr(t *testing.T, s *Set, addr string) *Endpoint {
	t.Helper()
	for range 10000 {
		e, ok := s.Pick()
		if !ok {
			t.Fatal("no endpoint to pick")
		}
		if e.Addr() == addr {
			return e
		}
		e.Done(10*time.Millisecond, Success)
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%s never picked", addr)
	return nil
}

// An endpoint whose failure rate stands well above its siblings' is
// ejected within seconds of traffic; one that fails like its siblings,
// or a service that fails as a whole, is not (the service's breaker is
// for that).
func TestFailureRateEjects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fails  func(addr string, i int) bool // whether addr's i-th fetch fails
		within time.Duration                 // 0: never ejected in 30 s
	}{
		{"one answers only 500s", func(a string, i int) bool { return a == "127.0.0.1:8001" }, 5 * time.Second},
		{"one fails half its fetches", func(a string, i int) bool { return a == "127.0.0.1:8001" && i%2 == 0 }, 5 * time.Second},
		{"all answer 500s", func(string, int) bool { return true }, 0},
		{"all fail a tenth", func(a string, i int) bool { return i%10 == 0 }, 0},
		{"one fails a tenth, the others never", func(a string, i int) bool { return a == "127.0.0.1:8001" && i%10 == 0 }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				as := addrs(4)
				s := newSet(t, as, Config{})
				start := time.Now()
				ejectedAt := map[string]time.Duration{}
				nth := map[string]int{}
				ans := func(addr string, _ int) (time.Duration, Outcome) {
					i := nth[addr]
					nth[addr]++
					for _, st := range s.Snapshot(nil) {
						if _, ok := ejectedAt[st.Addr]; st.Ejected && !ok {
							ejectedAt[st.Addr] = time.Since(start)
						}
					}
					if tc.fails(addr, i) {
						return 2 * time.Millisecond, Failure
					}
					return 10 * time.Millisecond, Success
				}
				drive(t, s, 100, 30*time.Second, ans)
				if tc.within == 0 {
					if len(ejectedAt) > 0 {
						t.Fatalf("ejected %v, want none", ejectedAt)
					}
					return
				}
				at, ok := ejectedAt[as[0]]
				if !ok || at > tc.within {
					t.Fatalf("%s ejected after %v (ejected: %v), want within %v at 100 fetches a second", as[0], at, ok, tc.within)
				}
				t.Logf("ejected after %v", at)
				if len(ejectedAt) != 1 {
					t.Fatalf("ejected %v, want %s alone", ejectedAt, as[0])
				}
			})
		})
	}
}

// Each ejection of an endpoint lasts twice the one before, from 30 s to at
// most 5 min; an ejected endpoint is never picked, comes back when its
// time is up, faded in again; and one that stayed in for 5 min starts
// again from 30 s.
func TestEjectionBackoffDoubles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		as := addrs(4)
		s := newSet(t, as, Config{})
		eject := func() {
			t.Helper()
			for range DefaultConsecutiveConnFailures {
				pickAddr(t, s, as[0]).Done(time.Millisecond, ConnFailure)
			}
		}
		for i, want := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute} {
			eject()
			st := stats(s, as[0])
			if got := time.Until(st.EjectedUntil); !st.Ejected || got != want {
				t.Fatalf("ejection %d: ejected %v for %v, want %v", i+1, st.Ejected, got, want)
			}
			if st.Ejections != uint64(i+1) || st.Weight != 0 {
				t.Fatalf("ejection %d: %+v, want %d ejections and weight 0", i+1, st, i+1)
			}
			time.Sleep(want - time.Millisecond)
			for range 2000 {
				e, _ := s.Pick()
				if e.Addr() == as[0] {
					t.Fatalf("ejection %d: %s picked while ejected", i+1, as[0])
				}
				e.Done(10*time.Millisecond, Success)
			}
			time.Sleep(time.Millisecond)
			if st := stats(s, as[0]); st.Ejected || st.Weight != minWeight {
				t.Fatalf("ejection %d: when its time is up, %+v, want back at weight %v", i+1, st, minWeight)
			}
		}
		time.Sleep(DefaultMaxEjectionTime)
		eject()
		if got := time.Until(stats(s, as[0]).EjectedUntil); got != DefaultEjectionTime {
			t.Fatalf("after 5 min in, the next ejection lasts %v, want %v", got, DefaultEjectionTime)
		}
	})
}

// At most half the endpoints are ejected at once, however many fail.
func TestAtMostHalfEjected(t *testing.T) {
	for _, tc := range []struct{ endpoints, want int }{{1, 0}, {2, 1}, {3, 1}, {4, 2}, {9, 4}} {
		t.Run(fmt.Sprint(tc.endpoints), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := newSet(t, addrs(tc.endpoints), Config{})
				for range 100 * tc.endpoints {
					e, ok := s.Pick()
					if !ok {
						t.Fatal("no endpoint to pick while some are in")
					}
					e.Done(time.Millisecond, ConnFailure)
				}
				out := 0
				for _, st := range s.Snapshot(nil) {
					if st.Ejected {
						out++
					}
				}
				if out != tc.want {
					t.Fatalf("%d of %d ejected, want %d", out, tc.endpoints, tc.want)
				}
			})
		})
	}
}
