// Package stagetest is the kit of the fetch engine's stage tests: an
// in-memory origin, canned responses, and a way to run many fetches at
// once and read what each got. It opens no socket and starts no
// goroutine of its own beyond the fetches asked of it, so that it runs
// inside a testing/synctest bubble.
package stagetest

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
)

// Upstream is an in-memory origin: a [fetch.Fetcher] that counts its
// calls and how many are in flight, and answers as Answer says.
type Upstream struct {
	Calls       atomic.Int64
	InFlight    atomic.Int64
	MaxInFlight atomic.Int64
	// Answer is called with the 1-based number of the call.
	Answer func(ctx context.Context, req *fetch.Request, n int64) (*fetch.Response, error)
}

// Fetch counts the call and answers it.
func (u *Upstream) Fetch(ctx context.Context, req *fetch.Request) (*fetch.Response, error) {
	n := u.Calls.Add(1)
	cur := u.InFlight.Add(1)
	defer u.InFlight.Add(-1)
	for {
		m := u.MaxInFlight.Load()
		if cur <= m || u.MaxInFlight.CompareAndSwap(m, cur) {
			break
		}
	}
	return u.Answer(ctx, req, n)
}

// HTMLResponse is a 200 text/html response with header given as name,
// value pairs.
func HTMLResponse(body string, header ...string) *fetch.Response {
	return StatusResponse(http.StatusOK, body, header...)
}

// StatusResponse is a text/html response of the given status with header
// given as name, value pairs.
func StatusResponse(status int, body string, header ...string) *fetch.Response {
	h := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	for i := 0; i+1 < len(header); i += 2 {
		h.Add(header[i], header[i+1])
	}
	return &fetch.Response{Status: status, Header: h, Body: []byte(body)}
}

// CtxError is what a fetcher returns when ctx ends first: a timeout if
// its deadline passed, else a cancellation, as the transport classifies
// them.
func CtxError(ctx context.Context, req *fetch.Request) error {
	kind := fetch.KindCanceled
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		kind = fetch.KindTimeout
	}
	return &fetch.Error{Kind: kind, ID: req.ID, Service: req.Service, Err: ctx.Err()}
}

// WaitGate blocks until gate is closed or ctx ends.
func WaitGate(ctx context.Context, req *fetch.Request, gate <-chan struct{}) error {
	select {
	case <-gate:
		return nil
	case <-ctx.Done():
		return CtxError(ctx, req)
	}
}

// Result is what one concurrent caller got.
type Result struct {
	Resp   *fetch.Response
	Err    error
	Report fetch.Report
}

// Body returns the body the caller got, or "".
func (r Result) Body() string {
	if r.Resp == nil {
		return ""
	}
	return string(r.Resp.Body)
}

// Reporter is a stage that fills in a report of each fetch: the cache.
type Reporter interface {
	Fetch(ctx context.Context, req *fetch.Request, rep *fetch.Report) (*fetch.Response, error)
}

// FetchAll starts n fetches of the request mk(i) makes, each in its own
// goroutine, through f (a [fetch.Fetcher] or a [Reporter]), and returns a
// function that waits for them and returns what each got.
func FetchAll(ctx context.Context, f any, n int, mk func(i int) *fetch.Request) func() []Result {
	results := make([]Result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req := mk(i)
			switch f := f.(type) {
			case Reporter:
				results[i].Resp, results[i].Err = f.Fetch(ctx, req, &results[i].Report)
			case fetch.Fetcher:
				results[i].Resp, results[i].Err = f.Fetch(ctx, req)
			default:
				panic("stagetest.FetchAll: not a fetcher")
			}
		})
	}
	return func() []Result {
		wg.Wait()
		return results
	}
}

// WantStat fails t when a counter is not what it should be.
func WantStat(t *testing.T, name string, got *atomic.Int64, want int64) {
	t.Helper()
	if g := got.Load(); g != want {
		t.Errorf("Stats.%s: got %d, want %d", name, g, want)
	}
}

// DiscardLogger is a logger that drops every record.
func DiscardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// RoundTripFunc is an [http.RoundTripper] made of a function: an
// in-memory service.
type RoundTripFunc func(*http.Request) (*http.Response, error)

// RoundTrip calls f(r).
func (f RoundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// FieldsOf returns h as request fields.
func FieldsOf(h http.Header) []fetch.Field {
	fields := make([]fetch.Field, 0, len(h))
	for name, values := range h {
		fields = append(fields, fetch.Field{Name: name, Values: values})
	}
	return fields
}

// LogRecorder is a [slog.Handler] that keeps every record.
type LogRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

// Enabled reports true: every record is kept.
func (l *LogRecorder) Enabled(context.Context, slog.Level) bool { return true }

// WithAttrs returns l: the records are kept as they come.
func (l *LogRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }

// WithGroup returns l.
func (l *LogRecorder) WithGroup(string) slog.Handler { return l }

// Handle keeps r.
func (l *LogRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Clone())
	return nil
}

// Records returns the records kept so far.
func (l *LogRecorder) Records() []slog.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]slog.Record(nil), l.records...)
}

// Slow is a service that answers <p>ok</p> after latency, within
// the fetch's own timeout as the Client keeps it: a fetch whose timeout
// ends first is a timeout.
func Slow(latency time.Duration, header ...string) *Upstream {
	return &Upstream{Answer: func(ctx context.Context, req *fetch.Request, _ int64) (*fetch.Response, error) {
		if req.Timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, req.Timeout)
			defer cancel()
		}
		t := time.NewTimer(latency)
		defer t.Stop()
		select {
		case <-t.C:
			return HTMLResponse("<p>ok</p>", header...), nil
		case <-ctx.Done():
			return nil, CtxError(ctx, req)
		}
	}}
}

// ReporterFunc adapts a function to the [Reporter] interface.
type ReporterFunc func(ctx context.Context, req *fetch.Request, rep *fetch.Report) (*fetch.Response, error)

// Fetch calls f(ctx, req, rep).
func (f ReporterFunc) Fetch(ctx context.Context, req *fetch.Request, rep *fetch.Report) (*fetch.Response, error) {
	return f(ctx, req, rep)
}
