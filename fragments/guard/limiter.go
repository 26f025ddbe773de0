package guard

import (
	"cmp"
	"container/list"
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of a service's adaptive concurrency limit.
const (
	// DefaultInitialLimit is the concurrency limit a service starts with.
	DefaultInitialLimit = 100
	// DefaultMinLimit is the lowest the limit goes, however slow the
	// service.
	DefaultMinLimit = 8
	// DefaultMaxConcurrent is the hard ceiling of the limit, and of the
	// service's open connections. A page's boxes that no cache holds are
	// sent at once and read in document order (see [Engine.Start]), so
	// each holds its slot and its connection until the page reads it:
	// the ceiling is sized for 512 pages in flight at once with four
	// such boxes from one service.
	DefaultMaxConcurrent = 2048
	// DefaultMaxQueue is how many fetches may wait for the limit; beyond
	// it a fetch is refused at once. A waiting fetch is a parked
	// goroutine, so the queue is sized for a burst of a thousand pages
	// of several fragments each.
	DefaultMaxQueue = 8192
)

// LimiterConfig configures a [Limiter]. Zero fields take the defaults.
type LimiterConfig struct {
	// Initial is the limit before any latency was measured.
	Initial int
	// Min and Max bound the limit. Max is the hard ceiling (the
	// service's max_concurrent).
	Min, Max int
	// MaxQueue bounds the fetches waiting for a slot.
	MaxQueue int
}

func (c LimiterConfig) withDefaults() LimiterConfig {
	c.Max = cmp.Or(c.Max, DefaultMaxConcurrent)
	c.Min = min(cmp.Or(c.Min, DefaultMinLimit), c.Max)
	c.Initial = max(min(cmp.Or(c.Initial, DefaultInitialLimit), c.Max), c.Min)
	c.MaxQueue = cmp.Or(c.MaxQueue, DefaultMaxQueue)
	return c
}

// Limiter is an adaptive concurrency limit for one service: it protects
// the service without refusing a healthy one. The limit follows the
// service's latency with the gradient method of Netflix's
// concurrency-limits (Gradient2) and Envoy's adaptive concurrency filter:
// while the recent round-trip time (the average of the last
// windowSamples answers) stays near the long-run one the limit grows, and
// when it climbs the limit shrinks in proportion. A fetch that
// timed out takes a tenth off the limit, as AIMD's backoff does, unless
// the wait in the queue spent the time it lacked (see [Guards]). A fetch
// over the limit waits in a FIFO queue within its own deadline; only a
// full queue refuses at once, and a fetch whose slot comes too late to be
// of use is refused then (see [Limiter.Latency]).
//
// It is a small algorithm written here rather than a dependency: the Go
// ports of concurrency-limits are unmaintained and bring metric
// frameworks with them, while the part Inlay needs is fifty lines.
//
// Taking and giving back a slot take no lock while nobody waits, as on a
// healthy service: every fetch of a page passes here, and a lock that
// every fetch of every page takes twice becomes a queue of its own under
// load. The queue and the limit's arithmetic are under mu.
type Limiter struct {
	cfg LimiterConfig

	inFlight atomic.Int64 // fetches holding a slot
	ceiling  atomic.Int64 // int(limit), for the paths without the lock
	waiting  atomic.Int64 // queue.Len(), for the paths without the lock
	usual    atomic.Int64 // longRTT in nanoseconds, for the paths without the lock

	mu      sync.Mutex // protects everything below
	limit   float64
	queue   list.List // of *waiter, oldest first
	longRTT float64   // exponential average of samples, in seconds
	samples int
	// The samples since the limit last moved: the limit moves once per
	// windowSamples, by their average.
	windowSum float64
	windowN   int
}

// waiter is one fetch waiting in the queue.
type waiter struct {
	ready   chan struct{} // closed when the fetch was given a slot
	granted bool          // set with ready; guarded by Limiter.mu
}

// Tuning of the gradient, as in Netflix's Gradient2.
const (
	rttTolerance   = 1.5  // how much slower than usual still counts as healthy
	smoothing      = 0.2  // how far one sample moves the limit
	longWindow     = 600  // samples the long-run average spans
	warmupSamples  = 10   // samples before the average is trusted
	timeoutBackoff = 0.9  // the limit's factor after a timed-out fetch
	minGradient    = 0.5  // the most one sample can shrink the limit
	recoverRatio   = 2.0  // long/short ratio past which the long average decays
	recoverDecay   = 0.95 // that decay
	sampleFloor    = 1e-4 // seconds: shorter samples count as this
	appLimitedFrac = 0.5  // below this share of the limit in use, it does not grow
	growthQueueMin = 4.0  // the least a healthy sample adds, before smoothing
	growthQueueExp = 0.5  // the growth is limit^exp (sqrt), as Gradient2's queue size
	// windowSamples is how many round-trip times are averaged into one
	// move of the limit, as concurrency-limits' WindowedLimit and Envoy's
	// sample window do. Single answers are noisy (on a busy Inlay the wait
	// for a CPU counts too), and a limit moved by each shrinks for a
	// healthy service: the slow ones cut it more than the fast ones grow
	// it.
	windowSamples = 16
)

// NewLimiter returns a Limiter for cfg.
func NewLimiter(cfg LimiterConfig) *Limiter {
	cfg = cfg.withDefaults()
	l := &Limiter{cfg: cfg}
	l.setLimit(float64(cfg.Initial))
	return l
}

// setLimit sets the limit. l.mu is held (or l is new).
func (l *Limiter) setLimit(limit float64) {
	l.limit = limit
	l.ceiling.Store(int64(limit))
}

// take takes a slot if one is free under the limit.
func (l *Limiter) take() bool {
	for {
		n := l.inFlight.Load()
		if n >= l.ceiling.Load() {
			return false
		}
		if l.inFlight.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// tryAcquire takes a slot if one is free and nobody waits for one: a
// fetch that would have to queue gets false and goes the way that can.
func (l *Limiter) tryAcquire() bool {
	return l.waiting.Load() == 0 && l.take()
}

// Limit returns the current limit.
func (l *Limiter) Limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int(l.limit)
}

// Latency returns the service's usual latency: the long-run average of
// the round-trip times measured (the same average the gradient compares
// the recent ones with), or zero before the first. It takes no lock.
func (l *Limiter) Latency() time.Duration {
	return time.Duration(l.usual.Load())
}

// InFlight returns the fetches holding a slot.
func (l *Limiter) InFlight() int {
	return int(l.inFlight.Load())
}

// Waiting returns the fetches waiting in the queue.
func (l *Limiter) Waiting() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.queue.Len()
}

// Acquire takes a slot, waiting in the queue while the service is at its
// limit, until ctx ends or deadline (if not zero) passes. queued reports
// that it had to wait. It fails with errQueueFull when the queue is full,
// with errQueueTimeout at the deadline, and with ctx's error when ctx ends
// first.
func (l *Limiter) Acquire(ctx context.Context, deadline time.Time) (queued bool, err error) {
	if l.tryAcquire() {
		return false, nil
	}
	l.mu.Lock()
	if l.queue.Len() == 0 && l.take() {
		l.mu.Unlock()
		return false, nil
	}
	if l.queue.Len() >= l.cfg.MaxQueue {
		l.mu.Unlock()
		return false, errQueueFull
	}
	w := &waiter{ready: make(chan struct{})}
	el := l.queue.PushBack(w)
	l.waiting.Add(1)
	// A slot given back since take failed went to nobody (Release saw no
	// one waiting): it is this waiter's.
	l.grant()
	l.mu.Unlock()
	var expired <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-w.ready:
		return true, nil
	case <-ctx.Done():
		err = context.Cause(ctx)
	case <-expired:
		err = errQueueTimeout
	}
	l.mu.Lock()
	if w.granted {
		// The slot came as the wait ended: hand it on.
		l.inFlight.Add(-1)
		l.grant()
	} else {
		l.queue.Remove(el)
		l.waiting.Add(-1)
	}
	l.mu.Unlock()
	return true, err
}

// errQueueTimeout is why a fetch that waited for a slot gave up: its own
// deadline passed in the queue.
var errQueueTimeout = errors.New("deadline passed waiting for the concurrency limit")

// Release gives a slot back with what the fetch measured: its round-trip
// time, and whether it timed out. A fetch that ended for another reason
// (the caller left, the breaker refused) passes ignore.
//
// A timeout always moves the limit. A round-trip time is one sample of
// many: when another fetch holds the lock at that moment, it is dropped
// rather than waited for, as the samples of the fetches around it tell
// the same.
func (l *Limiter) Release(rtt time.Duration, timedOut, ignore bool) {
	switch {
	case ignore:
	case timedOut:
		l.mu.Lock()
		l.sample(0, true)
		l.mu.Unlock()
	case l.mu.TryLock():
		l.sample(rtt.Seconds(), false)
		l.mu.Unlock()
	}
	l.inFlight.Add(-1)
	if l.waiting.Load() > 0 {
		l.mu.Lock()
		l.grant()
		l.mu.Unlock()
	}
}

// grant hands free slots to the oldest waiters. l.mu is held.
func (l *Limiter) grant() {
	for l.queue.Len() > 0 && l.take() {
		w := l.queue.Remove(l.queue.Front()).(*waiter)
		l.waiting.Add(-1)
		w.granted = true
		close(w.ready)
	}
}

// sample moves the limit by one measurement. l.mu is held.
func (l *Limiter) sample(rtt float64, timedOut bool) {
	if timedOut {
		l.setLimit(max(float64(l.cfg.Min), l.limit*timeoutBackoff))
		return
	}
	rtt = max(rtt, sampleFloor)
	l.samples++
	switch {
	case l.samples == 1:
		l.longRTT = rtt
	case l.samples <= warmupSamples:
		l.longRTT += (rtt - l.longRTT) / float64(l.samples)
	default:
		l.longRTT += (rtt - l.longRTT) * 2 / (longWindow + 1)
	}
	l.usual.Store(int64(l.longRTT * float64(time.Second)))
	l.windowSum += rtt
	if l.windowN++; l.windowN < windowSamples {
		return
	}
	n, short := l.windowN, l.windowSum/float64(l.windowN)
	l.windowSum, l.windowN = 0, 0
	if l.longRTT/short > recoverRatio {
		// Latency dropped for good (a deploy, a warmed cache): let the
		// long average follow, so the limit can grow again.
		l.longRTT *= math.Pow(recoverDecay, float64(n))
		l.usual.Store(int64(l.longRTT * float64(time.Second)))
	}
	if float64(l.inFlight.Load()) < l.limit*appLimitedFrac {
		return // the limit is not what holds traffic back: leave it
	}
	// The window's samples move the limit as many steps, all by the
	// window's gradient: as fast as one step a sample, without the noise.
	gradient := max(minGradient, min(1, rttTolerance*l.longRTT/short))
	limit := l.limit
	for range n {
		next := limit*gradient + max(growthQueueMin, math.Pow(limit, growthQueueExp))
		limit = max(float64(l.cfg.Min), min(float64(l.cfg.Max), limit*(1-smoothing)+next*smoothing))
	}
	l.setLimit(limit)
}
