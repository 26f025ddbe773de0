package composer

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"time"
)

// errHeaderTimeout is a team service that did not send its response
// headers within the route's timeout.
var errHeaderTimeout = errors.New("gateway: no response headers within the route's timeout")

// errIdleTimeout is a response body that paused longer than the route's
// idle_timeout.
var errIdleTimeout = errors.New("gateway: the response body paused longer than the route's idle_timeout")

// upstream is the gateway's one call to a team service. It gives the call
// its deadlines: the response headers must come within headerTimeout of
// the request being sent (and sending may take uploadTimeout more), and
// the response body may pause at most idleTimeout between reads, with no
// cap on the whole. A per-service guard (breaker, concurrency limit)
// wraps next or this.
type upstream struct {
	next                                      http.RoundTripper
	headerTimeout, idleTimeout, uploadTimeout time.Duration
}

// RoundTrip sends req and returns the response with its body under the
// idle deadline.
func (u *upstream) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	timer := time.AfterFunc(u.headerTimeout+u.uploadTimeout, func() { cancel(errHeaderTimeout) })
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		// The wait for headers starts once the request is sent.
		WroteRequest: func(httptrace.WroteRequestInfo) { timer.Reset(u.headerTimeout) },
	})
	resp, err := u.next.RoundTrip(req.WithContext(ctx))
	if !timer.Stop() {
		if err == nil {
			resp.Body.Close()
		}
		cancel(nil)
		return nil, errHeaderTimeout
	}
	if err != nil {
		cancel(nil)
		return nil, err
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// An upgraded connection (a WebSocket): the proxy needs its body
		// as the writable connection itself, and it lives until one side
		// closes it, with the shopper's request.
		return resp, nil
	}
	if resp.Body == nil || resp.Body == http.NoBody {
		cancel(nil)
		return resp, nil
	}
	b := &idleBody{ReadCloser: resp.Body, ctx: ctx, cancel: cancel, idle: u.idleTimeout}
	b.timer = time.AfterFunc(u.idleTimeout, func() { cancel(errIdleTimeout) })
	b.timer.Stop()
	resp.Body = b
	return resp, nil
}

// idleBody cuts a response body that pauses longer than idle: the time
// between a read starting and data arriving. Time spent writing to the
// shopper does not count; the shopper's writes have their own deadline.
type idleBody struct {
	io.ReadCloser
	ctx    context.Context
	cancel context.CancelCauseFunc
	timer  *time.Timer
	idle   time.Duration
}

func (b *idleBody) Read(p []byte) (int, error) {
	b.timer.Reset(b.idle)
	n, err := b.ReadCloser.Read(p)
	b.timer.Stop()
	if err != nil && errors.Is(context.Cause(b.ctx), errIdleTimeout) {
		err = errIdleTimeout
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.ReadCloser.Close()
	b.cancel(nil)
	return err
}
