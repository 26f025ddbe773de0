package composer

import (
	"errors"
	"time"

	"github.com/inlayhq/inlay/fragments"
)

// Observer is told what every page and fragment did, for metrics. Its
// methods are called on the request path and must be quick and safe for
// concurrent use. Labels it receives are bounded: route patterns from the
// config and fragment ids from the layouts, never raw URLs.
type Observer interface {
	// PageStarted is called when a page request begins.
	PageStarted(route string)
	// PageDone is called when a page has been written (or abandoned):
	// its status, total duration, time to the first byte (zero when no
	// byte left), and how many boxes were degraded.
	PageDone(route string, status int, total, ttfb time.Duration, degraded int)
	// FragmentDone is called for every fragment fetch of a page with its
	// outcome: ok, stale, or the failure's reason (timeout, connect,
	// status, breaker_open, overflow, markup, panic, canceled, …); and
	// whether a fallback filled the box.
	FragmentDone(service, fragment, outcome string, fallback bool, d time.Duration)
	// GatewayDone is called when a gateway request has been answered (or
	// abandoned, as status 499): its route's prefix, status and duration.
	GatewayDone(route string, status int, d time.Duration)
}

// nopObserver observes nothing.
type nopObserver struct{}

func (nopObserver) PageStarted(string)                                       {}
func (nopObserver) PageDone(string, int, time.Duration, time.Duration, int)  {}
func (nopObserver) FragmentDone(string, string, string, bool, time.Duration) {}
func (nopObserver) GatewayDone(string, int, time.Duration)                   {}

// fragmentOutcome names what happened to a slot's fetch: ok, stale, or
// the reason it failed (see failureReason).
func fragmentOutcome(o *outcome) string {
	if o.err == nil {
		if o.report.Cache == fragments.CacheStale {
			return "stale"
		}
		return "ok"
	}
	return failureReason(o.err)
}

// failureReason names why a fetch failed, from a bounded set: the
// [fragments.Kind] names (timeout, connect, status, breaker_open,
// overflow, markup, panic, canceled, …), "status" for a status the box
// cannot show, or "error".
func failureReason(err error) string {
	if k := fragments.KindOf(err); k != 0 {
		return k.String()
	}
	var es errStatus
	if errors.As(err, &es) {
		return "status"
	}
	return "error"
}
