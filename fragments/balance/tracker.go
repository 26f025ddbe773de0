package balance

import (
	"math/bits"
	"time"
)

// DefaultTrackerWindow is how far back a [Tracker] looks when none is
// given.
const DefaultTrackerWindow = 10 * time.Second

// Latency buckets: exact microseconds below 16, then 8 buckets per power
// of two (each at most 12.5 % wide) up to 2^27 µs (about 134 s), and one
// more for anything longer.
const (
	exactBuckets = 16
	subBuckets   = 8
	topShift     = 27
	nBuckets     = exactBuckets + (topShift-4)*subBuckets + 1
)

// Tracker gives the recent latency quantiles of a service: a histogram of
// fixed, logarithmic buckets (at most 12.5 % wide) over a sliding window.
// Observing is one atomic increment; a quantile reads every bucket, so a
// caller on a hot path reads it now and then, not per fetch ([Set.P95]
// does). It is safe for concurrent use. The zero value is not usable:
// make one with [NewTracker].
type Tracker struct {
	w    *window
	base time.Time // times are nanoseconds since base, on the monotonic clock
}

// NewTracker returns a tracker of the latencies observed over the last
// window (zero means [DefaultTrackerWindow]).
func NewTracker(window time.Duration) *Tracker {
	if window <= 0 {
		window = DefaultTrackerWindow
	}
	return &Tracker{w: newWindow(window, nBuckets), base: time.Now()}
}

// Observe records one latency.
func (t *Tracker) Observe(d time.Duration) {
	t.w.add(int64(time.Since(t.base)), bucketOf(d), 1)
}

// Count returns how many latencies the window holds (the previous
// window's weighed by how much of it the sliding window still covers).
func (t *Tracker) Count() float64 {
	var counts [nBuckets]float64
	return t.w.sums(int64(time.Since(t.base)), counts[:])
}

// Quantile returns the latency under which the fraction q (0 to 1) of the
// window's latencies fall, interpolated within its bucket; 0 when the
// window holds none.
func (t *Tracker) Quantile(q float64) time.Duration {
	var counts [nBuckets]float64
	total := t.w.sums(int64(time.Since(t.base)), counts[:])
	if total == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	target := q * total
	var seen float64
	for i, c := range counts {
		if c == 0 {
			continue
		}
		if seen+c >= target {
			lo, hi := bucketBounds(i)
			frac := (target - seen) / c
			return time.Duration(float64(lo)+frac*float64(hi-lo)) * time.Microsecond
		}
		seen += c
	}
	lo, _ := bucketBounds(nBuckets - 1)
	return time.Duration(lo) * time.Microsecond
}

// bucketOf returns the bucket of a latency.
func bucketOf(d time.Duration) int {
	v := uint64(max(d, 0) / time.Microsecond)
	if v < exactBuckets {
		return int(v)
	}
	e := bits.Len64(v) // 5 or more
	if e > topShift {
		return nBuckets - 1
	}
	sub := (v >> (e - 4)) & (subBuckets - 1)
	return exactBuckets + (e-5)*subBuckets + int(sub)
}

// bucketBounds returns the latencies, in microseconds, a bucket holds:
// from lo up to but not including hi.
func bucketBounds(i int) (lo, hi uint64) {
	if i < exactBuckets {
		return uint64(i), uint64(i) + 1
	}
	if i == nBuckets-1 {
		return 1 << topShift, 1 << topShift
	}
	e := (i-exactBuckets)/subBuckets + 5
	sub := uint64((i - exactBuckets) % subBuckets)
	return (subBuckets + sub) << (e - 4), (subBuckets + sub + 1) << (e - 4)
}
