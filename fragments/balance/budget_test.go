package balance

import (
	"testing"
	"testing/synctest"
	"time"
)

// The budget allows extra fetches up to its ratio of the window's
// requests, or its floor when that is larger, and refuses the rest; the
// window slides, so the allowance comes back.
func TestRetryBudget(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cfg      RetryBudgetConfig
		requests int
		want     int // extra fetches allowed
	}{
		{"10% of 1000 requests", RetryBudgetConfig{}, 1000, 100},
		{"20% of 1000 requests", RetryBudgetConfig{Ratio: 0.2}, 1000, 200},
		{"a quiet service gets the floor", RetryBudgetConfig{}, 3, 10},
		{"a floor of 0.5 a second", RetryBudgetConfig{MinPerSecond: 0.5}, 0, 5},
		{"negative allows none", RetryBudgetConfig{Ratio: -1}, 1000, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := NewRetryBudget(tc.cfg)
				for range tc.requests {
					b.Deposit()
				}
				got := 0
				for range 10 * (tc.want + 1) {
					if b.Withdraw() {
						got++
					}
				}
				if got != tc.want {
					t.Fatalf("allowed %d extra fetches, want %d", got, tc.want)
				}
				st := b.Stats()
				if st.Requests != uint64(tc.requests) || st.Withdrawn != uint64(got) || st.Refused != uint64(10*(tc.want+1)-got) {
					t.Fatalf("stats %+v", st)
				}
			})
		})
	}
}

func TestRetryBudgetWindowSlides(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewRetryBudget(RetryBudgetConfig{})
		spend := func() (n int) {
			for b.Withdraw() {
				n++
			}
			return n
		}
		for range 1000 {
			b.Deposit()
		}
		if n := spend(); n != 100 {
			t.Fatalf("spent %d, want 100", n)
		}
		time.Sleep(DefaultRetryWindow / 2)
		if n := spend(); n != 0 {
			t.Fatalf("half a window on, with no new request, spent %d more, want 0", n)
		}
		time.Sleep(2 * DefaultRetryWindow)
		if n := spend(); n != 10 {
			t.Fatalf("two windows on, spent %d, want the floor of 10", n)
		}
	})
}
