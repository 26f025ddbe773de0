package balance

import (
	"testing"
	"testing/synctest"
	"time"
)

// Quantiles come within a bucket's width (12.5 %) of the truth.
func TestTrackerQuantiles(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := NewTracker(0)
		if got := tr.Quantile(0.95); got != 0 {
			t.Fatalf("p95 of nothing = %v, want 0", got)
		}
		for i := 1; i <= 1000; i++ {
			tr.Observe(time.Duration(i) * time.Millisecond)
		}
		for _, tc := range []struct {
			q    float64
			want time.Duration
		}{
			{0.5, 500 * time.Millisecond},
			{0.95, 950 * time.Millisecond},
			{0.99, 990 * time.Millisecond},
			{1, 1000 * time.Millisecond},
		} {
			got := tr.Quantile(tc.q)
			if d := float64(got-tc.want) / float64(tc.want); d < -0.125 || d > 0.125 {
				t.Errorf("q%v = %v, want %v within 12.5%%", tc.q, got, tc.want)
			}
		}
		if got := tr.Count(); got != 1000 {
			t.Errorf("count = %v, want 1000", got)
		}
	})
}

// The tracker forgets: the previous window counts less as it slides out,
// and nothing is left two windows later.
func TestTrackerWindowSlides(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := NewTracker(10 * time.Second)
		for range 100 {
			tr.Observe(100 * time.Millisecond)
		}
		time.Sleep(10 * time.Second) // the next window begins
		for range 100 {
			tr.Observe(10 * time.Millisecond)
		}
		time.Sleep(5 * time.Second) // half of the old window left
		if got := tr.Count(); got != 150 {
			t.Fatalf("count half a window on = %v, want 150", got)
		}
		if got := tr.Quantile(0.5); got > 11*time.Millisecond {
			t.Fatalf("median = %v, want the recent 10 ms", got)
		}
		if got := tr.Quantile(0.95); got < 90*time.Millisecond {
			t.Fatalf("p95 = %v, want the older 100 ms still in", got)
		}
		time.Sleep(15 * time.Second)
		if got := tr.Quantile(0.95); got != 0 || tr.Count() != 0 {
			t.Fatalf("two windows on: p95 %v, count %v, want nothing", got, tr.Count())
		}
		tr.Observe(time.Hour)
		if got := tr.Quantile(1); got != time.Duration(1<<topShift)*time.Microsecond {
			t.Fatalf("an hour tracked as %v, want the top bucket", got)
		}
	})
}

// Every latency falls in the bucket whose bounds hold it.
func TestBucketBounds(t *testing.T) {
	for _, us := range []uint64{0, 1, 15, 16, 17, 18, 31, 32, 100, 999, 1000, 12345, 1<<27 - 1, 1 << 27, 1 << 40} {
		i := bucketOf(time.Duration(us) * time.Microsecond)
		lo, hi := bucketBounds(i)
		if i < 0 || i >= nBuckets || us < lo || (us >= hi && i != nBuckets-1) {
			t.Errorf("%d µs in bucket %d of [%d, %d)", us, i, lo, hi)
		}
		if i < nBuckets-1 && float64(hi-lo) > 0.125*float64(lo)+1 {
			t.Errorf("bucket %d [%d, %d) wider than 12.5%%", i, lo, hi)
		}
	}
}
