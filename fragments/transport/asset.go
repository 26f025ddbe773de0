package transport

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/inlayhq/inlay/fragments/contract"
	"github.com/inlayhq/inlay/fragments/fetch"
)

// FetchAsset makes one asset fetch over rt, with the request's fields as
// they are. ctx bounds the wait for the response headers only: after
// them, the body is read under req.IdleTimeout per pause. An answer a
// shared cache may store, of at most limit bytes, is read whole, as sent;
// a 5xx is an [*Error] of kind [KindStatus] carrying the answer; any other
// answer is returned live (Response.Live), its body unread, for the one
// caller that gets it to pass on.
func FetchAsset(ctx context.Context, rt http.RoundTripper, req *fetch.Request, limit int64, negativeTTL time.Duration) (*fetch.Response, error) {
	deadline, own := fetchDeadline(ctx, req, time.Now())
	if own {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadlineCause(ctx, deadline, errFragmentTimeout)
		defer cancel()
	}
	// The request lives past ctx: a live body is read by the caller, a
	// stored one under its idle deadline, after ctx has ended.
	rctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
	hreq, err := http.NewRequestWithContext(rctx, http.MethodGet, req.URL, nil)
	if err != nil {
		cancel(nil)
		return nil, &fetch.Error{Kind: fetch.KindConnect, ID: req.ID, Service: req.Service, Err: err}
	}
	hreq.Header = req.Header()
	c := &Client{}
	resp, err := rt.RoundTrip(hreq)
	if !stop() {
		err = cmp.Or(err, context.Cause(ctx)) // headers came too late
		if resp != nil {
			resp.Body.Close()
		}
	}
	if err != nil {
		cancel(nil)
		return nil, c.fail(ctx, req, deadline, fetch.KindConnect, err)
	}
	body := &liveBody{rc: resp.Body, cancel: cancel}
	resp.Body = body
	failed := contract.Failed(resp.StatusCode)
	v := contract.Storability(resp.StatusCode, fetch.GraceHeader(resp.StatusCode, resp.Header), req.Credentialed(), time.Now(), negativeTTL)
	if !failed && (!v.Store || resp.ContentLength > limit) {
		return &fetch.Response{Status: resp.StatusCode, Header: resp.Header, Live: resp}, nil
	}
	read, err := readIdle(body, req.IdleTimeout, cancel, limit)
	switch {
	case err != nil:
		body.Close()
		return nil, c.fail(ctx, req, deadline, fetch.KindBody, err)
	case int64(len(read)) > limit && failed:
		body.Close()
		return nil, &fetch.Error{Kind: fetch.KindStatus, ID: req.ID, Service: req.Service, Status: resp.StatusCode}
	case int64(len(read)) > limit:
		// Longer than it said, or it said nothing: passed on live, what
		// was read first.
		body.rc = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(read), body.rc), body.rc}
		return &fetch.Response{Status: resp.StatusCode, Header: resp.Header, Live: resp}, nil
	}
	body.Close()
	answer := &fetch.Response{Status: resp.StatusCode, Header: resp.Header, Body: read}
	if failed {
		return nil, &fetch.Error{Kind: fetch.KindStatus, ID: req.ID, Service: req.Service, Status: resp.StatusCode, Answer: answer}
	}
	return answer, nil
}

// errAssetIdle is the cancellation cause of an asset body that paused
// longer than its idle timeout.
var errAssetIdle = errors.New("asset body paused longer than its idle timeout")

// readIdle reads r whole up to limit+1 bytes, each read within idle
// (none when zero): cancel cuts the request of one that takes longer.
func readIdle(r io.Reader, idle time.Duration, cancel context.CancelCauseFunc, limit int64) ([]byte, error) {
	if idle <= 0 {
		return io.ReadAll(io.LimitReader(r, limit+1))
	}
	t := time.AfterFunc(idle, func() { cancel(errAssetIdle) })
	defer t.Stop()
	return io.ReadAll(io.LimitReader(readerFunc(func(p []byte) (int, error) {
		t.Reset(idle)
		n, err := r.Read(p)
		if err != nil && err != io.EOF && !t.Stop() {
			err = errAssetIdle
		}
		return n, err
	}), limit+1))
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// liveBody is an asset answer's body: closing it, or its Close from
// another goroutine while a read waits, ends the request, so that a read
// blocked on a silent team returns.
type liveBody struct {
	mu     sync.Mutex
	rc     io.ReadCloser
	cancel context.CancelCauseFunc
	closed bool
}

func (b *liveBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rc.Read(p)
}

// Close ends the request first, which makes a waiting read return, then
// closes the body once it has.
func (b *liveBody) Close() error {
	b.cancel(nil)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	return b.rc.Close()
}
