package composer

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// countingObserver counts what the composer reports to its observer, and
// keeps every page's total duration.
type countingObserver struct {
	nopObserver
	primaryFailures, droppedCookies, unknownPaths, degraded atomic.Int64

	mu    sync.Mutex // protects times
	times []time.Duration
}

func (o *countingObserver) PrimaryFailed(string, int) { o.primaryFailures.Add(1) }
func (o *countingObserver) CookieDropped(string)      { o.droppedCookies.Add(1) }
func (o *countingObserver) UnknownPath()              { o.unknownPaths.Add(1) }
func (o *countingObserver) PageDone(_ string, _ int, total, _ time.Duration, degraded int) {
	o.degraded.Add(int64(degraded))
	o.mu.Lock()
	defer o.mu.Unlock()
	o.times = append(o.times, total)
}

// pageTimes returns the pages' total durations, sorted.
func (o *countingObserver) pageTimes() []time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Sorted(slices.Values(o.times))
}
