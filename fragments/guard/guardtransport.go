package guard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/sony/gobreaker/v2"
)

// ErrBreakerOpen is the error of a gateway request refused because its
// service's circuit breaker is open.
var ErrBreakerOpen = errors.New("circuit breaker open")

// ErrQueueFull is the error of a gateway request refused because its
// service's concurrency limit was reached and its wait queue was full.
var ErrQueueFull = errQueueFull

// RoundTripper returns a transport for a service's gateway requests that
// puts them under the service's circuit breaker and concurrency limit, as
// fragment fetches are: an open breaker refuses at once with
// [ErrBreakerOpen], a request over the limit waits within its own
// context, and a connect error, a timeout or a 5xx counts against the
// service. To the breakers, a service's gateway requests are one
// endpoint of it (see [Guards]). The slot is held until the response headers arrive: that is
// the service's work, while a long download or an event stream after them
// must not keep the service's fragments waiting for the limit.
func (g *Guards) RoundTripper(service string, next http.RoundTripper) http.RoundTripper {
	return &guardedTransport{guards: g, service: service, next: next}
}

type guardedTransport struct {
	guards  *Guards
	service string
	next    http.RoundTripper
}

func (t *guardedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	gd := t.guards.guard(t.service)
	if gd.breaker.state() == gobreaker.StateOpen {
		t.guards.stats.BreakerOpen.Add(1)
		return nil, fmt.Errorf("service %s: %w", t.service, ErrBreakerOpen)
	}
	queued, err := gd.limiter.Acquire(r.Context(), time.Time{})
	if queued {
		t.guards.stats.Queued.Add(1)
	}
	if err != nil {
		if errors.Is(err, errQueueFull) {
			t.guards.stats.Overflows.Add(1)
		}
		return nil, fmt.Errorf("service %s: %w", t.service, err)
	}
	start := time.Now()
	// The breaker is typed for fragment responses: the gateway's answer
	// goes past it in resp.
	var resp *http.Response
	st, err := t.guards.allow(gd, gd.endpoint(gatewayEndpoint, t.guards))
	if err != nil {
		gd.limiter.Release(0, false, true)
		t.guards.stats.BreakerOpen.Add(1)
		return nil, fmt.Errorf("service %s: %w", t.service, ErrBreakerOpen)
	}
	_, err = run(st, func() (*fetch.Response, error) {
		var err error
		resp, err = t.next.RoundTrip(r)
		if err != nil {
			// Classified as fragment fetches are, so that a shopper who
			// left is not the service's failure; the context's error stays
			// in the chain for the proxy's error handler.
			// A context cancelled with a cause of its own (a route's header
			// timeout) is a timeout too; a plain cancellation is the
			// shopper leaving.
			kind := fetch.KindConnect
			switch ctxErr, cause := r.Context().Err(), context.Cause(r.Context()); {
			case errors.Is(ctxErr, context.DeadlineExceeded), ctxErr != nil && !errors.Is(cause, context.Canceled):
				kind = fetch.KindTimeout
			case ctxErr != nil:
				kind = fetch.KindCanceled
			}
			return nil, &fetch.Error{Kind: kind, ID: "gateway", Service: t.service, Err: errors.Join(err, r.Context().Err())}
		}
		if resp.StatusCode >= http.StatusInternalServerError {
			return nil, errGatewayStatus // counted as a failure, passed on as it is
		}
		return nil, nil
	})
	rtt := time.Since(start)
	if errors.Is(err, errGatewayStatus) {
		err = nil
	}
	if err != nil {
		kind := fetch.KindOf(err)
		gd.limiter.Release(rtt, kind == fetch.KindTimeout, kind != fetch.KindConnect && kind != fetch.KindTimeout)
		return nil, err
	}
	gd.limiter.Release(rtt, false, false)
	return resp, nil
}

// errGatewayStatus marks a 5xx gateway answer for the breaker.
var errGatewayStatus = errors.New("gateway answer with a 5xx status")
