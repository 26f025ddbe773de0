package checkfragment

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/transport"
)

// observation is what one fetch of a fragment showed.
type observation struct {
	// Resp is what the transport.Client returned; nil when it failed.
	Resp *fetch.Response
	// Err is the client's error, if any.
	Err error
	// Status and Header are the response's as received, also when the
	// client rejected it (a 5xx, a wrong content type); zero and nil when
	// no response came at all.
	Status int
	Header http.Header
	// Raw holds the body bytes the client read, before it dropped a BOM
	// or repaired invalid UTF-8.
	Raw []byte
	// Duration is the fetch's time from the request to the last body byte.
	Duration time.Duration
}

// fetchFragment GETs the fragment with a transport.Client over
// transport.NewTransport, with the headers Inlay sends to every fragment
// of a shopper without cookies. A recording transport keeps the raw
// response beside what the client makes of it, so that one request shows
// both: no second GET that could answer differently.
//
// The server reads a plain-http service's answers with its own HTTP/1.1
// client, a little stricter than net/http's (transport.CheckHead): the
// bytes the transport reads are kept too, and an answer that client
// refuses is observed as the server would see it, a failed fetch.
func fetchFragment(ctx context.Context, opts Options, requestID string, extra http.Header) observation {
	rt := transport.NewTransport()
	defer rt.CloseIdleConnections()
	var wire *headTee // the bytes read, for a plain-http service only
	if strings.HasPrefix(opts.URL, "http://") {
		wire = new(headTee)
		dial := rt.DialContext
		rt.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &teeConn{Conn: c, tee: wire}, nil
		}
	}
	rec := &recorder{next: rt, limit: opts.MaxBytes + 1}
	client := &transport.Client{Transport: rec, MaxBodyBytes: opts.MaxBytes}
	fields := []fetch.Field{
		{Name: "Accept", Values: []string{"text/html"}},
		{Name: fetch.HeaderRequestID, Values: []string{requestID}},
		{Name: fetch.HeaderFragmentID, Values: []string{opts.ID}},
	}
	if !opts.NoContext {
		for _, f := range pageContext {
			if extra.Get(f.Name) == "" {
				fields = append(fields, f)
			}
		}
	}
	for name, values := range extra {
		fields = append(fields, fetch.Field{Name: contextName(name), Values: values})
	}
	start := time.Now()
	resp, err := client.Fetch(ctx, &fetch.Request{
		ID:      opts.ID,
		Service: "check",
		URL:     opts.URL,
		Fields:  fields,
		Timeout: opts.Timeout,
	})
	raw := rec.body.Bytes()
	if rec.coding != nil {
		// The body as the client decoded it, not as it travelled: the
		// markup and the size Inlay sees.
		raw, _ = transport.DecodeBody(rec.coding, raw, rec.limit)
	}
	obs := observation{Resp: resp, Err: err, Duration: time.Since(start), Raw: raw}
	if wire != nil {
		if herr := transport.CheckHead(wire.bytes()); herr != nil {
			return observation{Duration: obs.Duration,
				Err: &fetch.Error{Kind: fetch.KindBody, ID: opts.ID, Service: "check", Err: herr}}
		}
	}
	if rec.resp != nil {
		obs.Status, obs.Header = rec.resp.StatusCode, rec.resp.Header
	}
	return obs
}

// pageContext are the page context headers every fetch sends unless the
// service has context: false, as Inlay sends them for the page / of a shop
// at http://127.0.0.1:8080 (a route without parameters, so no
// X-Inlay-Route-Params). The Vary check replaces each in turn.
var pageContext = []fetch.Field{
	{Name: "X-Inlay-Page-Path", Values: []string{"/"}},
	{Name: "X-Inlay-Page-Route", Values: []string{"/"}},
	{Name: "X-Inlay-Base-URL", Values: []string{"http://127.0.0.1:8080"}},
}

// contextNames are the names of the page context headers, spelt as Inlay
// sends them.
var contextNames = []string{"X-Inlay-Page-Path", "X-Inlay-Page-Route", "X-Inlay-Route-Params", "X-Inlay-Base-URL"}

// contextName spells a header name as Inlay sends it: a page context
// header as in contextNames (X-Inlay-Base-URL, which canonical form would
// spell X-Inlay-Base-Url), any other in canonical form.
func contextName(name string) string {
	for _, n := range contextNames {
		if strings.EqualFold(n, name) {
			return n
		}
	}
	return http.CanonicalHeaderKey(name)
}

// headTee keeps the first bytes a fetch reads from its connections: enough
// for any answer head the client accepts.
type headTee struct {
	mu  sync.Mutex // protects buf
	buf bytes.Buffer
}

// maxTeeBytes bounds what headTee keeps: the client's 64 KiB of header
// fields, and a read buffer more.
const maxTeeBytes = 68 << 10

func (t *headTee) write(p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := maxTeeBytes - t.buf.Len(); room > 0 {
		t.buf.Write(p[:min(len(p), room)])
	}
}

func (t *headTee) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.Bytes()
}

// teeConn is a connection whose reads are kept by a headTee.
type teeConn struct {
	net.Conn
	tee *headTee
}

func (c *teeConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.tee.write(p[:n])
	return n, err
}

// recorder is a RoundTripper that keeps the one response it carries and
// the raw body bytes read from it, as the client reads them.
type recorder struct {
	next  http.RoundTripper
	limit int64 // body bytes kept at most

	resp   *http.Response
	coding http.Header // the response's Content-Encoding, before the client drops it
	body   bytes.Buffer
}

// RoundTrip passes req on and records the response.
func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	r.resp = resp
	if ce := resp.Header.Values("Content-Encoding"); len(ce) > 0 {
		r.coding = http.Header{"Content-Encoding": slices.Clone(ce)}
	}
	resp.Body = &recordingBody{ReadCloser: resp.Body, r: r}
	return resp, nil
}

// recordingBody copies what is read from a body into its recorder.
type recordingBody struct {
	io.ReadCloser
	r *recorder
}

// Close keeps the rest of a body the client did not read (it rejects a
// wrong content type without reading), up to the limit, so that the check
// can judge the markup too, then closes it.
func (b *recordingBody) Close() error {
	if keep := b.r.limit - int64(b.r.body.Len()); keep > 0 {
		_, _ = io.Copy(&b.r.body, io.LimitReader(b.ReadCloser, keep))
	}
	return b.ReadCloser.Close()
}

func (b *recordingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if keep := b.r.limit - int64(b.r.body.Len()); keep > 0 {
		b.r.body.Write(p[:min(int64(n), keep)])
	}
	return n, err
}

// newRequestID returns a random X-Request-Id, in the form Inlay makes them.
func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
