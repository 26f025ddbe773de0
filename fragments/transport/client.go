package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/inlayhq/inlay/fragments/contract"
	"github.com/inlayhq/inlay/fragments/fetch"
)

// DefaultMaxBodyBytes is the body cap used when [Client.MaxBodyBytes] is
// zero: the contract's [contract.DefaultMaxBodyBytes].
const DefaultMaxBodyBytes = contract.DefaultMaxBodyBytes

// errFragmentTimeout is the cancellation cause of a fetch whose own deadline
// passed, telling it apart from the caller's context ending.
var errFragmentTimeout = errors.New("fragment deadline exceeded")

// Client is the HTTP [Fetcher]: it GETs a fragment and reads it whole.
//
// Redirects are never followed: a 3xx is returned as a Response for the
// caller to judge. A 5xx is an error of kind [KindStatus] and its body is
// discarded. A 200 must be text/html.
type Client struct {
	// Transport performs the requests. If nil, a transport from
	// [NewTransport] is made on first use.
	Transport http.RoundTripper
	// MaxBodyBytes caps a fragment body, after decompression. Zero means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Conns, when not nil, carries the plain-http fetches instead of
	// Transport: the lean HTTP/1.1 client.
	Conns *H1Conns
	// Budget, when not nil, bounds the bodies in flight across every
	// client that shares it: see [Budget].
	Budget *fetch.Budget
}

var _ fetch.Fetcher = (*Client)(nil)

// NewTransport returns an http.Transport tuned for fragment fetches: no
// proxy from the environment, many idle connections per service, a bounded
// response header size, and a dial timeout. Deadlines for the whole fetch
// come from the request's context. It dials any address: see
// [DialPolicy.NewTransport] for one that refuses internal addresses. It
// speaks HTTP/1.1; [NewH2CTransport] speaks h2c.
func NewTransport() *http.Transport {
	return newTransport(nil)
}

// newDialer returns the dialer of fragment connections: a 5s connect
// timeout, TCP keep-alives, and policy's check of every address dialled.
func newDialer(policy *DialPolicy) *net.Dialer {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if policy != nil {
		dialer.Control = policy.Control
	}
	return dialer
}

func newTransport(policy *DialPolicy) *http.Transport {
	return &http.Transport{
		DialContext:            newDialer(policy).DialContext,
		MaxIdleConns:           1024,
		MaxIdleConnsPerHost:    256,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		// A fragment request is a few hundred bytes: a small write buffer
		// per connection keeps memory low with hundreds of connections.
		WriteBufferSize:       1 << 10,
		ExpectContinueTimeout: 0,
		// Never ask for gzip unasked, nor inflate behind the caller's
		// back: a gateway request carries the shopper's Accept-Encoding
		// and its answer goes back as the team sent it; a fragment fetch
		// asks for gzip itself and decodes it under the body cap.
		DisableCompression: true,
	}
}

// Fetch performs one GET within req.Timeout and returns the complete response.
func (c *Client) Fetch(ctx context.Context, req *fetch.Request) (*fetch.Response, error) {
	deadline, own := fetchDeadline(ctx, req, time.Now())
	if c.Conns != nil && strings.HasPrefix(req.URL, "http://") {
		return c.Conns.fetch(ctx, c, req, deadline)
	}
	if own {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadlineCause(ctx, deadline, errFragmentTimeout)
		defer cancel()
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, req.URL, nil)
	if err != nil {
		return nil, &fetch.Error{Kind: fetch.KindConnect, ID: req.ID, Service: req.Service, Err: err}
	}
	if req.HasFields() {
		hreq.Header = req.Header()
	}
	if _, ok := hreq.Header["Accept-Encoding"]; !ok {
		// The one coding Inlay decodes (gzipLayers), asked for here and
		// decoded below, under the body cap, whatever the transport.
		hreq.Header["Accept-Encoding"] = acceptGzip
	}
	// RoundTrip, not http.Client.Do: no redirects are followed and no cookie
	// jar is consulted.
	resp, err := c.transport().RoundTrip(hreq)
	if err != nil {
		return nil, c.fail(ctx, req, deadline, fetch.KindConnect, err)
	}
	defer resp.Body.Close()

	if contract.Failed(resp.StatusCode) {
		return nil, &fetch.Error{Kind: fetch.KindStatus, ID: req.ID, Service: req.Service, Status: resp.StatusCode}
	}
	if resp.StatusCode == http.StatusOK && !contract.IsHTML(resp.Header.Get("Content-Type")) {
		return nil, &fetch.Error{Kind: fetch.KindContentType, ID: req.ID, Service: req.Service,
			Err: fmt.Errorf("content type %q, want text/html", resp.Header.Get("Content-Type"))}
	}
	raw, length := io.Reader(resp.Body), resp.ContentLength
	if _, coded := resp.Header["Content-Encoding"]; coded && length != 0 {
		layers, err := gzipLayers(resp.Header)
		if err != nil {
			return nil, c.fail(ctx, req, deadline, fetch.KindBody, err)
		}
		if layers > 0 {
			if raw, _, err = inflate(raw, layers, c.maxBody(), nil); err != nil {
				return nil, c.bodyFailure(ctx, req, deadline, err)
			}
			length = -1
			resp.Header.Del("Content-Length") // the coded body's
		}
		resp.Header.Del("Content-Encoding")
	}
	body, reserved, err := c.Budget.Read(raw, length, c.maxBody())
	if err != nil {
		return nil, c.bodyFailure(ctx, req, deadline, err)
	}
	return c.finish(req, resp.StatusCode, resp.Header, body, reserved)
}

// fetchDeadline is when a fetch of req starting at now must end: its
// own timeout's end or ctx's deadline, whichever comes first; zero for
// none. own reports that the fragment's own timeout ends first.
func fetchDeadline(ctx context.Context, req *fetch.Request, now time.Time) (deadline time.Time, own bool) {
	deadline, _ = ctx.Deadline()
	if req.Timeout > 0 {
		if d := now.Add(req.Timeout); deadline.IsZero() || d.Before(deadline) {
			deadline, own = d, true
		}
	}
	return deadline, own
}

// bodyFailure classifies a failure to read a body.
func (c *Client) bodyFailure(ctx context.Context, req *fetch.Request, deadline time.Time, err error) *fetch.Error {
	switch {
	case errors.Is(err, fetch.ErrTooLarge):
		return &fetch.Error{Kind: fetch.KindTooLarge, ID: req.ID, Service: req.Service, Err: fmt.Errorf("body over %d bytes", c.maxBody())}
	case errors.Is(err, fetch.ErrBudget):
		return &fetch.Error{Kind: fetch.KindBudget, ID: req.ID, Service: req.Service, Err: err}
	}
	return c.fail(ctx, req, deadline, fetch.KindBody, err)
}

// finish checks and cleans a body read whole and makes the response,
// which holds the bytes the body reserved from the budget.
func (c *Client) finish(req *fetch.Request, status int, header http.Header, body []byte, reserved int64) (*fetch.Response, error) {
	body = contract.CleanBody(body)
	if err := contract.CheckMarkup(body); err != nil {
		c.Budget.Release(reserved)
		return nil, &fetch.Error{Kind: fetch.KindMarkup, ID: req.ID, Service: req.Service, Err: err}
	}
	resp := &fetch.Response{
		Status: status,
		Header: header,
		Body:   body,
		Assets: contract.ParseAssets(header),
	}
	resp.Hold(c.Budget, reserved)
	return resp, nil
}

// fail classifies err, preferring what the context and the deadline say:
// a passed deadline is a timeout and a caller that left is a
// cancellation, whatever error the transport reported for them.
func (c *Client) fail(ctx context.Context, req *fetch.Request, deadline time.Time, kind fetch.Kind, err error) *fetch.Error {
	// The context is read once: its timer may fire while this runs, and
	// the error and its kind must tell the same story.
	ctxErr := ctx.Err()
	var cause error
	if ctxErr != nil {
		cause = context.Cause(ctx)
		if !errors.Is(err, ctxErr) {
			err = errors.Join(ctxErr, err) // the lean client reports the cut connection
		}
	}
	switch {
	case errors.Is(cause, errFragmentTimeout), errors.Is(ctxErr, context.DeadlineExceeded):
		kind = fetch.KindTimeout
	case ctxErr != nil:
		kind = fetch.KindCanceled
	case !deadline.IsZero() && !time.Now().Before(deadline):
		kind = fetch.KindTimeout
		if d, ok := ctx.Deadline(); ok && !d.After(deadline) {
			// The caller's deadline, which its context is about to report.
			err = errors.Join(context.DeadlineExceeded, err)
		}
	}
	return &fetch.Error{Kind: kind, ID: req.ID, Service: req.Service, Err: err}
}

func (c *Client) maxBody() int64 {
	if c.MaxBodyBytes > 0 {
		return c.MaxBodyBytes
	}
	return DefaultMaxBodyBytes
}

var defaultTransport = NewTransport()

func (c *Client) transport() http.RoundTripper {
	if c.Transport != nil {
		return c.Transport
	}
	return defaultTransport
}

// acceptGzip is the Accept-Encoding of a fragment request.
var acceptGzip = []string{"gzip"}
