package composer

import (
	"time"
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
	// GatewayStale is called when a gateway request of service was
	// answered with a stale stored copy: the team failed, or the copy was
	// within its stale-while-revalidate window.
	GatewayStale(service string)
	// PrimaryFailed is called when a page is answered with an error page
	// because its primary fragment, from service, failed: its status.
	PrimaryFailed(service string, status int)
	// CookieDropped is called for a non-primary fragment's Set-Cookie kept
	// from the shopper (set_cookies is off for its service).
	CookieDropped(service string)
	// UnknownPath is called for a request no route serves (a 404).
	UnknownPath()
}

// nopObserver observes nothing.
type nopObserver struct{}

func (nopObserver) PageStarted(string)                                       {}
func (nopObserver) PageDone(string, int, time.Duration, time.Duration, int)  {}
func (nopObserver) FragmentDone(string, string, string, bool, time.Duration) {}
func (nopObserver) GatewayDone(string, int, time.Duration)                   {}
func (nopObserver) GatewayStale(string)                                      {}
func (nopObserver) PrimaryFailed(string, int)                                {}
func (nopObserver) CookieDropped(string)                                     {}
func (nopObserver) UnknownPath()                                             {}
