package canary

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// The latency histogram: buckets of 1 µs up to 8 µs, then 8 buckets per
// doubling (each at most 12.5% wide), up to 2^28 µs (4.5 minutes); longer
// latencies count in the last bucket. Narrow enough that a p99 1.2 times
// another is never read as 1.5 times it.
const (
	subBits     = 3
	sub         = 1 << subBits
	histBuckets = 25*sub + sub // shifts 0 to 24, after the first sub
)

// histIndex is the histogram bucket of a latency.
func histIndex(d time.Duration) int {
	v := uint64(max(d, 0) / time.Microsecond)
	if v < sub {
		return int(v)
	}
	shift := bits.Len64(v) - (subBits + 1)
	return min((shift+1)*sub+int(v>>shift)-sub, histBuckets-1)
}

// histUpper is the upper bound of histogram bucket i: what a percentile
// that falls in it is reported as.
func histUpper(i int) time.Duration {
	if i < sub {
		return time.Duration(i+1) * time.Microsecond
	}
	shift := i/sub - 1
	top := i%sub + sub
	return time.Duration((top+1)<<shift) * time.Microsecond
}

// tally counts one version's answers in one slot.
type tally struct {
	requests, failures atomic.Uint64
	hist               [histBuckets]atomic.Uint32
}

func (t *tally) zero() {
	t.requests.Store(0)
	t.failures.Store(0)
	for i := range t.hist {
		t.hist[i].Store(0)
	}
}

// slot is one second of the rolling window, for both versions. The
// counts are atomics, so that an answer is counted without a lock; the
// request that first reaches a slot in a new second zeroes it, and the
// few answers counted by others in the microseconds that takes may be
// lost, which the analysis, a matter of rates over seconds, tolerates.
type slot struct {
	sec atomic.Int64 // the second counted, since the canary's origin; -1 when cleared
	v   [2]tally     // stable, canary
}

// claim makes the slot count second sec, zeroing it if it counted an
// older one. An answer of an older second that arrives late (its
// goroutine descheduled) is counted in the newer one.
func (s *slot) claim(sec int64) {
	for {
		at := s.sec.Load()
		if at >= sec {
			return
		}
		if s.sec.CompareAndSwap(at, sec) {
			s.v[0].zero()
			s.v[1].zero()
			return
		}
	}
}

// clear empties the slot.
func (s *slot) clear() {
	s.sec.Store(-1)
	s.v[0].zero()
	s.v[1].zero()
}

// summary is one version's counts over the window.
type summary struct {
	requests, failures uint64
	hist               [histBuckets]uint64
}

func (s *summary) add(t *tally) {
	s.requests += t.requests.Load()
	s.failures += t.failures.Load()
	for i := range t.hist {
		s.hist[i] += uint64(t.hist[i].Load())
	}
}

func (s *summary) failureRate() float64 {
	if s.requests == 0 {
		return 0
	}
	return float64(min(s.failures, s.requests)) / float64(s.requests)
}

// p99 is the 99th percentile latency, as the upper bound of its bucket; 0
// without requests.
func (s *summary) p99() time.Duration {
	var n uint64
	for _, c := range s.hist {
		n += c
	}
	if n == 0 {
		return 0
	}
	rank := (n*99 + 99) / 100 // the ceiling of 0.99 n
	var seen uint64
	for i, c := range s.hist {
		if seen += c; seen >= rank {
			return histUpper(i)
		}
	}
	return histUpper(histBuckets - 1)
}
