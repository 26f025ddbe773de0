package composer

import (
	"context"
	"errors"
	"net/http"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/guard"
)

// This file is the composer's one vocabulary of outcomes: what a box
// showed, why a fetch failed, and what status a failure gives a page or
// a gateway request. The logs, the metrics, the debug view and
// Server-Timing all take their words from here.

// What a box shows.
const (
	shownSrc      = "src"          // its fragment, from the service or the cache
	shownFallback = "fallback-src" // its fallback-src
	shownInline   = "inline"       // the fallback written inside <fragment>, or nothing
)

// shown says what a slot's box shows.
func (o *outcome) shown() string {
	switch {
	case o.resp == nil:
		return shownInline
	case o.fromFallback:
		return shownFallback
	}
	return shownSrc
}

// fragmentOutcome names what happened to a slot's fetch: ok, stale, or
// the reason it failed (see failureReason).
func fragmentOutcome(o *outcome) string {
	if o.err == nil {
		if o.report.Cache == fetch.CacheStale {
			return "stale"
		}
		return "ok"
	}
	return failureReason(o.err)
}

// failureReason names why a fetch failed, from a bounded set: the
// [fetch.Kind] names (timeout, connect, status, breaker_open,
// overflow, markup, panic, budget, canceled, …), "status" for a status the
// box cannot show, or "error".
func failureReason(err error) string {
	if k := fetch.KindOf(err); k != 0 {
		return k.String()
	}
	var es errStatus
	if errors.As(err, &es) {
		return "status"
	}
	return "error"
}

// failureStatus is the one mapping from a failure to the status the
// shopper gets, for a page whose primary failed and for a gateway
// request alike:
//   - 504 when a deadline passed before the answer;
//   - 503 when the service's breaker is open or its concurrency limit's
//     queue full, or the wait in it too long: nothing was sent, and a
//     retry later may well succeed;
//   - 413 for a request body over the cap, 408 for one that stalled;
//   - statusClientClosed (499, logged, never sent) when the shopper left;
//   - 502 for anything else the service did.
func failureStatus(r *http.Request, err error) int {
	var tooLarge *http.MaxBytesError
	switch kind := fetch.KindOf(err); {
	case kind == fetch.KindCanceled:
		return statusClientClosed
	case kind == fetch.KindTimeout, errors.Is(err, errHeaderTimeout), errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case kind == fetch.KindBreakerOpen, kind == fetch.KindOverflow,
		errors.Is(err, guard.ErrBreakerOpen), errors.Is(err, guard.ErrQueueFull):
		return http.StatusServiceUnavailable
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge
	case r.Context().Err() != nil:
		return statusClientClosed
	case isTimeout(err):
		return http.StatusRequestTimeout // a request body that stopped coming
	}
	return http.StatusBadGateway
}

// statusClientClosed is logged for a request whose shopper left before the
// answer (nginx's 499). It never reaches anyone.
const statusClientClosed = 499

// isTimeout reports an error that says it is a timeout.
func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}
