package fragments

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/inlayhq/inlay/fragments/contract"
	"github.com/inlayhq/inlay/fragments/fetch"
)

// DefaultAssetGrace is how long after it stops being fresh a stored asset
// (a gateway response, see [Request.Asset]) still answers when its team
// fails, when the team gave no stale-if-error of its own and did not
// forbid stale copies (must-revalidate, proxy-revalidate, s-maxage).
// RFC 9111 §4.2.4 lets a cache serve a stale response when it cannot
// reach the origin; a day keeps a shop styled through a team's outage,
// and the cache's byte budget still bounds what is kept.
const DefaultAssetGrace = 24 * time.Hour

// fetchAsset makes one asset fetch over rt, with the request's fields as
// they are. ctx bounds the wait for the response headers only: after
// them, the body is read under req.IdleTimeout per pause. An answer a
// shared cache may store, of at most limit bytes, is read whole, as sent;
// a 5xx is an [*Error] of kind [KindStatus] carrying the answer; any other
// answer is returned live (Response.Live), its body unread, for the one
// caller that gets it to pass on.
func fetchAsset(ctx context.Context, rt http.RoundTripper, req *fetch.Request, limit int64) (*fetch.Response, error) {
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
	v := contract.Storability(resp.StatusCode, graceHeader(resp.StatusCode, resp.Header), credentialed(req), time.Now(), DefaultNegativeTTL)
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

// graceHeader returns the header a stored asset's windows are read from:
// h itself, or, for a 200 without a stale-if-error of its own that does
// not forbid stale copies (must-revalidate, proxy-revalidate, s-maxage),
// a copy that adds the default grace: see [DefaultAssetGrace].
func graceHeader(status int, h http.Header) http.Header {
	if status != http.StatusOK {
		return h
	}
	cc := contract.ParseCacheControl(h)
	if cc.MustRevalidate || cc.SMaxAge >= 0 || cc.StaleIfError > 0 {
		return h
	}
	g := h.Clone()
	g.Add("Cache-Control", "stale-if-error="+strconv.Itoa(int(DefaultAssetGrace/time.Second)))
	return g
}

// MaxAssetBytes is the largest asset body the engine stores: the cache's
// entry cap, a tenth of its byte budget. A larger asset is not read into
// memory: it is handed on live, and its key marked to stream past the
// cache ([Engine.Passes]).
func (e *Engine) MaxAssetBytes() int64 { return e.cache.maxEntry }

// Passes reports whether req's key is known not to be stored (a
// hit-for-miss marker: an answer that may not be shared, or an asset over
// the entry cap), so that a gateway streams it past the cache.
func (e *Engine) Passes(req *fetch.Request) bool {
	if e.bypass(req) {
		return true
	}
	_, en := e.cache.lookup(req)
	return en != nil && en.pass
}

// HasFresh reports whether the cache holds a fresh response for req,
// counting nothing.
func (e *Engine) HasFresh(req *fetch.Request) bool {
	if e.bypass(req) {
		return false
	}
	_, en := e.cache.lookup(req)
	return en != nil && !en.pass && time.Now().Before(en.FreshUntil)
}

// CachesAssets reports whether the engine caches the gateway answers of
// service: not when the cache is off or the service is never cached.
func (e *Engine) CachesAssets(service string) bool {
	return !e.bypass(&fetch.Request{Service: service})
}

// OnStored sets fn to be called, on the fetch's goroutine, with each
// fragment response the cache stores after fetching it from its service
// (never an asset's): the gateway preloads the assets it declares. fn
// must return quickly. nil removes it.
func (e *Engine) OnStored(fn func(req *fetch.Request, resp *fetch.Response)) {
	if fn == nil {
		e.cache.onStored.Store(nil)
		return
	}
	e.cache.onStored.Store(&fn)
}
