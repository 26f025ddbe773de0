package guard

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// step is n answers of a test service, each taking rtt or timing out.
type step struct {
	rtt      time.Duration
	timedOut bool
	n        int
}

// repeat returns the steps, n times over.
func repeat(n int, steps ...step) []step {
	var all []step
	for range n {
		all = append(all, steps...)
	}
	return all
}

// The limit follows latency: it grows while a busy service answers as
// fast as usual, even when single answers vary, shrinks when the answers
// slow down, and drops by a tenth for each timeout, always within its
// bounds.
func TestLimiterFollowsLatency(t *testing.T) {
	cases := []struct {
		name  string
		cfg   LimiterConfig
		steps []step
		check func(t *testing.T, limit int)
	}{
		{"steady latency under load grows", LimiterConfig{Initial: 20, Max: 200},
			[]step{{rtt: 10 * time.Millisecond, n: 200}},
			func(t *testing.T, limit int) {
				if limit <= 20 {
					t.Errorf("limit: got %d, want more than the initial 20", limit)
				}
			}},
		{"growth stops at the ceiling", LimiterConfig{Initial: 20, Max: 50},
			[]step{{rtt: 10 * time.Millisecond, n: 2000}},
			func(t *testing.T, limit int) {
				if limit != 50 {
					t.Errorf("limit: got %d, want the ceiling 50", limit)
				}
			}},
		{"latency climbing shrinks", LimiterConfig{Initial: 100, Max: 1000},
			[]step{{rtt: 10 * time.Millisecond, n: 50}, {rtt: 100 * time.Millisecond, n: 50}},
			func(t *testing.T, limit int) {
				if limit >= 100 {
					t.Errorf("limit: got %d, want less than 100 once latency rose tenfold", limit)
				}
			}},
		{"a steady mix of fast and slow answers grows", LimiterConfig{Initial: 100, Max: 1000},
			// One answer in four takes ten times the others, forever: the
			// service is as fast as it was, and its limit is not what
			// slows it.
			repeat(100, step{rtt: 10 * time.Millisecond, n: 3}, step{rtt: 100 * time.Millisecond, n: 1}),
			func(t *testing.T, limit int) {
				if limit <= 100 {
					t.Errorf("limit: got %d, want more than the initial 100", limit)
				}
			}},
		{"timeouts shrink to the floor", LimiterConfig{Initial: 100, Min: 8},
			[]step{{timedOut: true, n: 100}},
			func(t *testing.T, limit int) {
				if limit != 8 {
					t.Errorf("limit: got %d, want the floor 8", limit)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLimiter(tc.cfg)
			for _, s := range tc.steps {
				for range s.n {
					// Keep the limit in use, so that it may grow: take every
					// slot there is, then give one back with the sample.
					for l.InFlight() < l.Limit() {
						if _, err := l.Acquire(context.Background(), time.Time{}); err != nil {
							t.Fatal(err)
						}
					}
					l.Release(s.rtt, s.timedOut, false)
				}
			}
			tc.check(t, l.Limit())
		})
	}
}

// A service that is not kept busy keeps its limit: only a limit that
// holds traffic back grows.
func TestLimiterDoesNotGrowWhenIdle(t *testing.T) {
	l := NewLimiter(LimiterConfig{Initial: 50})
	for range 1000 {
		if _, err := l.Acquire(context.Background(), time.Time{}); err != nil {
			t.Fatal(err)
		}
		l.Release(5*time.Millisecond, false, false)
	}
	if got := l.Limit(); got != 50 {
		t.Errorf("limit: got %d, want 50", got)
	}
}

// Waiters get slots in arrival order, a cancelled waiter leaves the queue
// and a full queue refuses at once.
func TestLimiterQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(LimiterConfig{Initial: 1, Min: 1, Max: 1, MaxQueue: 2})
		if _, err := l.Acquire(context.Background(), time.Time{}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		gone := make(chan error, 1)
		go func() { _, err := l.Acquire(ctx, time.Time{}); gone <- err }()
		synctest.Wait()
		second := make(chan error, 1)
		go func() { _, err := l.Acquire(context.Background(), time.Time{}); second <- err }()
		synctest.Wait()
		if l.Waiting() != 2 {
			t.Fatalf("waiting: got %d, want 2", l.Waiting())
		}
		if _, err := l.Acquire(context.Background(), time.Time{}); err != errQueueFull {
			t.Errorf("third waiter: got %v, want the queue full", err)
		}
		cancel()
		if err := <-gone; err == nil {
			t.Error("cancelled waiter: got a slot")
		}
		if l.Waiting() != 1 {
			t.Errorf("waiting after the cancel: got %d, want 1", l.Waiting())
		}
		l.Release(time.Millisecond, false, true)
		if err := <-second; err != nil {
			t.Errorf("second waiter: %v", err)
		}
		if l.InFlight() != 1 {
			t.Errorf("in flight: got %d, want 1", l.InFlight())
		}
	})
}
