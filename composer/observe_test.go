package composer

import (
	"sync/atomic"
	"time"
)

// countingObserver counts what the composer reports to its observer.
type countingObserver struct {
	nopObserver
	primaryFailures, droppedCookies, unknownPaths, degraded atomic.Int64
}

func (o *countingObserver) PrimaryFailed(string, int) { o.primaryFailures.Add(1) }
func (o *countingObserver) CookieDropped(string)      { o.droppedCookies.Add(1) }
func (o *countingObserver) UnknownPath()              { o.unknownPaths.Add(1) }
func (o *countingObserver) PageDone(_ string, _ int, _, _ time.Duration, degraded int) {
	o.degraded.Add(int64(degraded))
}
