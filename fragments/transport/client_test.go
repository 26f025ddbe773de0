package transport

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/inlayhq/inlay/fragments/contract"
	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/internal/poison"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// fragmentTimeout is the Request.Timeout of the tests that wait for a
// deadline, and returnBound how long any fetch in these tests may take.
const (
	fragmentTimeout = 100 * time.Millisecond
	returnBound     = 2 * time.Second
	// safetyTimeout is the Request.Timeout of tests that are not about the
	// fragment's deadline: a fetch that hangs ends with it and fails the
	// test's kind and duration checks instead of hanging the run.
	safetyTimeout = 10 * time.Second
)

// newClient returns a Client on its own transport from NewTransport, whose
// idle connections are closed when the test ends.
// clientMaker makes the client a test runs against.
type clientMaker func(tb testing.TB, maxBody int64) *Client

// newClient is a Client over net/http's transport.
func newClient(tb testing.TB, maxBody int64) *Client {
	tb.Helper()
	tr := NewTransport()
	tb.Cleanup(tr.CloseIdleConnections)
	return &Client{Transport: tr, MaxBodyBytes: maxBody}
}

// newLeanClient is a Client over the lean HTTP/1.1 client, as the engine
// makes for plain-http services.
func newLeanClient(tb testing.TB, maxBody int64) *Client {
	tb.Helper()
	conns := NewH1Conns(nil, 0)
	tb.Cleanup(conns.CloseIdleConnections)
	return &Client{Conns: conns, MaxBodyBytes: maxBody}
}

// forEachClient runs a client test against both clients: every behaviour
// holds for each.
func forEachClient(t *testing.T, test func(t *testing.T, newClient clientMaker)) {
	t.Run("net/http", func(t *testing.T) { test(t, newClient) })
	t.Run("lean", func(t *testing.T) { test(t, newLeanClient) })
}

// release returns a channel that is closed when the test ends, before the
// servers it started are closed, so that blocked handlers can return.
func release(tb testing.TB) <-chan struct{} {
	ch := make(chan struct{})
	tb.Cleanup(func() { close(ch) })
	return ch
}

func fragmentRequest(url string, timeout time.Duration) *fetch.Request {
	return &fetch.Request{ID: "search", Service: "search-svc", URL: url, Timeout: timeout}
}

// fetchTimed fetches and reports how long the fetch took.
func fetchTimed(ctx context.Context, c *Client, req *fetch.Request) (*fetch.Response, error, time.Duration) {
	start := time.Now()
	resp, err := c.Fetch(ctx, req)
	return resp, err, time.Since(start)
}

// wantKind fails the test unless err is an *Error of kind want that names
// the request's fragment and service.
func wantKind(tb testing.TB, resp *fetch.Response, err error, req *fetch.Request, want fetch.Kind) *fetch.Error {
	tb.Helper()
	var fe *fetch.Error
	if !errors.As(err, &fe) {
		tb.Fatalf("got error %v (%T), want an *Error of kind %q", err, err, want)
	}
	if fe.Kind != want {
		tb.Fatalf("kind: got %q, want %q (error: %v)", fe.Kind, want, err)
	}
	if resp != nil {
		tb.Errorf("got a response with status %d alongside the error, want nil", resp.Status)
	}
	if fe.ID != req.ID || fe.Service != req.Service {
		tb.Errorf("error names fragment %q of %q, want %q of %q", fe.ID, fe.Service, req.ID, req.Service)
	}
	return fe
}

func wantFast(tb testing.TB, elapsed time.Duration) {
	tb.Helper()
	if elapsed > returnBound {
		tb.Errorf("fetch took %v, want at most %v", elapsed, returnBound)
	}
}

// rawServer is a TCP server that reads one HTTP request per connection and
// then lets handle do as it likes with the connection, below HTTP.
type rawServer struct {
	URL string

	ln     net.Listener
	wg     sync.WaitGroup
	mu     sync.Mutex // protects conns and closed
	conns  map[net.Conn]struct{}
	closed bool
}

func newRawServer(tb testing.TB, handle func(conn net.Conn, req *http.Request)) *rawServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &rawServer{URL: "http://" + ln.Addr().String() + "/", ln: ln, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			if s.closed {
				s.mu.Unlock()
				conn.Close()
				return
			}
			s.conns[conn] = struct{}{}
			s.wg.Add(1)
			s.mu.Unlock()
			go func() {
				defer s.wg.Done()
				defer conn.Close()
				req, err := http.ReadRequest(bufio.NewReader(conn))
				if err != nil {
					return
				}
				handle(conn, req)
			}()
		}
	}()
	tb.Cleanup(func() {
		s.mu.Lock()
		s.closed = true
		ln.Close()
		for conn := range s.conns {
			conn.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// hangAfterRequest is a raw handler that reads the request, reports it on
// arrived (if not nil) and never answers: it waits for the peer to hang up.
func hangAfterRequest(arrived chan<- struct{}) func(net.Conn, *http.Request) {
	return func(conn net.Conn, _ *http.Request) {
		if arrived != nil {
			arrived <- struct{}{}
		}
		io.Copy(io.Discard, conn) // returns when the client closes the connection
	}
}

func gzipped(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestFetchReturnsWholeHTMLBody(t *testing.T) { forEachClient(t, testFetchReturnsWholeHTMLBody) }

func testFetchReturnsWholeHTMLBody(t *testing.T, newClient clientMaker) {
	t.Parallel()
	// Large enough to take several reads, and not a repetition of one byte.
	var want bytes.Buffer
	for i := 0; want.Len() < 200<<10; i++ {
		fmt.Fprintf(&want, "<li data-i=\"%d\">item %d</li>\n", i, i)
	}
	srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.Write(want.Bytes())
	})
	c := newClient(t, 0)
	req := fragmentRequest(srv.URL, safetyTimeout)

	resp, err := c.Fetch(t.Context(), req)
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if resp.Status != http.StatusOK {
		t.Errorf("status: got %d, want %d", resp.Status, http.StatusOK)
	}
	if got := resp.Header.Get("Cache-Control"); got != "max-age=60" {
		t.Errorf("Cache-Control: got %q, want %q", got, "max-age=60")
	}
	if got, want := resp.Header.Values("Set-Cookie"), []string{"a=1", "b=2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Set-Cookie: got %q, want %q", got, want)
	}
	if !bytes.Equal(resp.Body, want.Bytes()) {
		t.Errorf("body: got %d bytes, want %d bytes (first difference at %d)", len(resp.Body), want.Len(), firstDiff(resp.Body, want.Bytes()))
	}
	if resp.Assets != nil {
		t.Errorf("assets: got %v, want none", resp.Assets)
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestFetchSendsRequestHeadersUnchangedWithGET(t *testing.T) {
	forEachClient(t, testFetchSendsRequestHeadersUnchangedWithGET)
}

func testFetchSendsRequestHeadersUnchangedWithGET(t *testing.T, newClient clientMaker) {
	t.Parallel()
	type seen struct {
		method           string
		header           http.Header
		body             []byte
		contentLength    int64
		transferEncoding []string
		path             string
	}
	got := make(chan seen, 1)
	srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, r.Header.Clone(), body, r.ContentLength, r.TransferEncoding, r.URL.RequestURI()}
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<p>ok</p>")
	})
	c := newClient(t, 0)
	header := http.Header{
		"Accept-Language":  {"de-CH, en;q=0.5"},
		"User-Agent":       {"inlay-test/1.0"},
		"Cookie":           {"session=abc; theme=dark"},
		"X-Request-Id":     {"req-123"},
		"X-Inlay-Fragment": {"search"},
		"Traceparent":      {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		"X-Multi":          {"one", "two"},
	}
	before := header.Clone()
	req := fragmentRequest(srv.URL+"/search?q=red%20shoes&page=2", safetyTimeout)
	// Some as the page's fields, shared by its requests, the rest as the
	// request's own: both go.
	fields := fieldsOf(header)
	req.PageFields, req.Fields = fields[:3], fields[3:]

	if _, err := c.Fetch(t.Context(), req); err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	s := <-got
	if s.method != http.MethodGet {
		t.Errorf("method: got %q, want %q", s.method, http.MethodGet)
	}
	if s.path != "/search?q=red%20shoes&page=2" {
		t.Errorf("request URI: got %q, want %q", s.path, "/search?q=red%20shoes&page=2")
	}
	if len(s.body) != 0 || s.contentLength != 0 || len(s.transferEncoding) != 0 {
		t.Errorf("request body: got %q (Content-Length %d, Transfer-Encoding %q), want none", s.body, s.contentLength, s.transferEncoding)
	}
	for name, want := range before {
		if got := s.header[name]; !reflect.DeepEqual(got, want) {
			t.Errorf("header %s at the server: got %q, want %q", name, got, want)
		}
	}
	if !reflect.DeepEqual(header, before) {
		t.Errorf("caller's header after Fetch: got %q, want %q", header, before)
	}
}

func TestFetchWithZeroClientCapsBodyAtDefault(t *testing.T) {
	forEachClient(t, testFetchWithZeroClientCapsBodyAtDefault)
}

func testFetchWithZeroClientCapsBodyAtDefault(t *testing.T, newClient clientMaker) {
	// The zero Client uses the package's shared transport and the default
	// cap; both are what the composer gets from &fragments.Client{}.
	t.Cleanup(defaultTransport.CloseIdleConnections)
	srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		n := DefaultMaxBodyBytes
		if r.URL.Path == "/over" {
			n++
		}
		w.Write(bytes.Repeat([]byte("a"), n))
	})
	c := &Client{}

	resp, err := c.Fetch(t.Context(), fragmentRequest(srv.URL+"/at", safetyTimeout))
	if err != nil {
		t.Fatalf("body of exactly DefaultMaxBodyBytes: got error %v, want none", err)
	}
	if len(resp.Body) != DefaultMaxBodyBytes {
		t.Errorf("body length: got %d, want %d", len(resp.Body), DefaultMaxBodyBytes)
	}

	req := fragmentRequest(srv.URL+"/over", safetyTimeout)
	resp, err = c.Fetch(t.Context(), req)
	wantKind(t, resp, err, req, fetch.KindTooLarge)
}

func TestFetchParsesLinkHeadersIntoAssets(t *testing.T) {
	forEachClient(t, testFetchParsesLinkHeadersIntoAssets)
}

func testFetchParsesLinkHeadersIntoAssets(t *testing.T, newClient clientMaker) {
	t.Parallel()
	srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Add("Link", `</search/a.css>; rel=stylesheet, </search/x.js>; rel=preload`)
		w.Header().Add("Link", `</search/m.js>; rel=modulepreload`)
		io.WriteString(w, "<p>ok</p>")
	})
	c := newClient(t, 0)

	resp, err := c.Fetch(t.Context(), fragmentRequest(srv.URL, safetyTimeout))
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	want := []contract.Asset{{Kind: contract.Stylesheet, URL: "/search/a.css"}, {Kind: contract.ModuleScript, URL: "/search/m.js"}}
	if !reflect.DeepEqual(resp.Assets, want) {
		t.Errorf("assets: got %v, want %v", resp.Assets, want)
	}
}

func TestFetchTimesOutWhenServerNeverSendsHeaders(t *testing.T) {
	forEachClient(t, testFetchTimesOutWhenServerNeverSendsHeaders)
}

func testFetchTimesOutWhenServerNeverSendsHeaders(t *testing.T, newClient clientMaker) {
	t.Parallel()
	arrived := make(chan struct{}, 1)
	srv := newRawServer(t, hangAfterRequest(arrived))
	c := newClient(t, 0)
	req := fragmentRequest(srv.URL, fragmentTimeout)

	resp, err, elapsed := fetchTimed(t.Context(), c, req)
	fe := wantKind(t, resp, err, req, fetch.KindTimeout)
	if !fe.Timeout() {
		t.Errorf("Timeout(): got false, want true")
	}
	select {
	case <-arrived:
	default:
		t.Errorf("the server never got the request: the timeout cut something else")
	}
	if elapsed < fragmentTimeout {
		t.Errorf("fetch took %v, want at least the %v timeout", elapsed, fragmentTimeout)
	}
	wantFast(t, elapsed)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestFetchTimesOutWhenBodyDrips(t *testing.T) { forEachClient(t, testFetchTimesOutWhenBodyDrips) }

func testFetchTimesOutWhenBodyDrips(t *testing.T, newClient clientMaker) {
	t.Parallel()
	done := release(t)
	srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		tick := time.NewTicker(20 * time.Millisecond) // the drip rate, not a wait
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				if _, err := io.WriteString(w, "x"); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			case <-r.Context().Done():
				return
			case <-done:
				return
			}
		}
	})
	tr := NewTransport()
	t.Cleanup(tr.CloseIdleConnections)
	var gotHeaders atomic.Bool
	c := &Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := tr.RoundTrip(r)
		gotHeaders.Store(err == nil)
		return resp, err
	})}
	req := fragmentRequest(srv.URL, fragmentTimeout)

	resp, err, elapsed := fetchTimed(t.Context(), c, req)
	wantKind(t, resp, err, req, fetch.KindTimeout)
	if !gotHeaders.Load() {
		t.Errorf("the response headers never arrived: the timeout did not cut the body")
	}
	if elapsed < fragmentTimeout {
		t.Errorf("fetch took %v, want at least the %v timeout", elapsed, fragmentTimeout)
	}
	wantFast(t, elapsed)
}

func TestFetchCallerDeadlineIsTimeout(t *testing.T) {
	forEachClient(t, testFetchCallerDeadlineIsTimeout)
}

func testFetchCallerDeadlineIsTimeout(t *testing.T, newClient clientMaker) {
	t.Parallel()
	tests := []struct {
		name    string
		timeout time.Duration // the fragment's own
	}{
		{"no fragment timeout", 0},
		{"longer fragment timeout", safetyTimeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newRawServer(t, hangAfterRequest(nil))
			c := newClient(t, 0)
			req := fragmentRequest(srv.URL, tc.timeout)
			ctx, cancel := context.WithTimeout(t.Context(), fragmentTimeout)
			defer cancel()

			resp, err, elapsed := fetchTimed(ctx, c, req)
			wantKind(t, resp, err, req, fetch.KindTimeout)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("errors.Is(err, context.DeadlineExceeded): got false, want true (error: %v)", err)
			}
			wantFast(t, elapsed)
		})
	}
}

// expiringCtx is a context whose deadline passes between two reads of
// its error: the first says it is live, every later one that it expired.
type expiringCtx struct {
	context.Context
	deadline time.Time
	reads    atomic.Int32
}

func (c *expiringCtx) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *expiringCtx) Err() error {
	if c.reads.Add(1) == 1 {
		return nil
	}
	return context.DeadlineExceeded
}

// TestFailReadsTheContextOnce: a fetch that fails just as the caller's
// deadline passes is a timeout whose error says so, even when the
// context's timer fires while the failure is classified. The context read
// once, and the deadline that passed, tell one story.
func TestFailReadsTheContextOnce(t *testing.T) {
	deadline := time.Now().Add(-time.Millisecond)
	ctx := &expiringCtx{Context: context.Background(), deadline: deadline}
	req := &fetch.Request{ID: "box", Service: "svc"}
	err := new(Client).fail(ctx, req, deadline, fetch.KindConnect, errors.New("read: i/o timeout"))
	if err.Kind != fetch.KindTimeout || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("kind %s, errors.Is(err, context.DeadlineExceeded) %t, want timeout and true: %v",
			err.Kind, errors.Is(err, context.DeadlineExceeded), err)
	}
}

func TestFetchCallerCancelIsCanceled(t *testing.T) { forEachClient(t, testFetchCallerCancelIsCanceled) }

func testFetchCallerCancelIsCanceled(t *testing.T, newClient clientMaker) {
	t.Parallel()
	arrived := make(chan struct{}, 1)
	srv := newRawServer(t, hangAfterRequest(arrived))
	c := newClient(t, 0)
	req := fragmentRequest(srv.URL, safetyTimeout)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		// The shopper hangs up while the fetch is in flight.
		select {
		case <-arrived:
			cancel()
		case <-ctx.Done():
		}
	}()

	resp, err, elapsed := fetchTimed(ctx, c, req)
	fe := wantKind(t, resp, err, req, fetch.KindCanceled)
	if fe.Timeout() {
		t.Errorf("Timeout(): got true, want false")
	}
	wantFast(t, elapsed)
}

func TestFetchConnectionRefusedIsConnect(t *testing.T) {
	forEachClient(t, testFetchConnectionRefusedIsConnect)
}

func testFetchConnectionRefusedIsConnect(t *testing.T, newClient clientMaker) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c := newClient(t, 0)
	req := fragmentRequest("http://"+addr+"/", safetyTimeout)

	resp, err, elapsed := fetchTimed(t.Context(), c, req)
	wantKind(t, resp, err, req, fetch.KindConnect)
	wantFast(t, elapsed)
}

func TestFetchInvalidURLIsConnect(t *testing.T) { forEachClient(t, testFetchInvalidURLIsConnect) }

func testFetchInvalidURLIsConnect(t *testing.T, newClient clientMaker) {
	t.Parallel()
	c := newClient(t, 0)
	req := fragmentRequest("http://[::1/broken", safetyTimeout)

	resp, err := c.Fetch(t.Context(), req)
	wantKind(t, resp, err, req, fetch.KindConnect)
}

func TestFetch5xxIsStatusError(t *testing.T) { forEachClient(t, testFetch5xxIsStatusError) }

func testFetch5xxIsStatusError(t *testing.T, newClient clientMaker) {
	t.Parallel()
	for _, status := range []int{500, 502, 503, 504} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(status)
				io.WriteString(w, "<p>broken</p>")
			})
			c := newClient(t, 0)
			req := fragmentRequest(srv.URL, safetyTimeout)

			resp, err := c.Fetch(t.Context(), req)
			fe := wantKind(t, resp, err, req, fetch.KindStatus)
			if fe.Status != status {
				t.Errorf("Status: got %d, want %d", fe.Status, status)
			}
			if want := fmt.Sprintf("status %d", status); !strings.Contains(err.Error(), want) {
				t.Errorf("message: got %q, want it to contain %q", err.Error(), want)
			}
		})
	}
}

func TestFetchReturns404AsResponse(t *testing.T) { forEachClient(t, testFetchReturns404AsResponse) }

func testFetchReturns404AsResponse(t *testing.T, newClient clientMaker) {
	t.Parallel()
	srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "<p>no such product</p>")
	})
	c := newClient(t, 0)

	resp, err := c.Fetch(t.Context(), fragmentRequest(srv.URL, safetyTimeout))
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if resp.Status != http.StatusNotFound {
		t.Errorf("status: got %d, want %d", resp.Status, http.StatusNotFound)
	}
	if got, want := string(resp.Body), "<p>no such product</p>"; got != want {
		t.Errorf("body: got %q, want %q", got, want)
	}
}

func TestFetchDoesNotFollowRedirects(t *testing.T) { forEachClient(t, testFetchDoesNotFollowRedirects) }

func testFetchDoesNotFollowRedirects(t *testing.T, newClient clientMaker) {
	t.Parallel()
	var targetHits atomic.Int64
	target := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		targetHits.Add(1)
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<p>target</p>")
	})
	location := target.URL + "/login"
	srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", location)
		w.Header()["Content-Type"] = nil
		w.WriteHeader(http.StatusFound)
	})
	c := newClient(t, 0)

	resp, err := c.Fetch(t.Context(), fragmentRequest(srv.URL, safetyTimeout))
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if resp.Status != http.StatusFound {
		t.Errorf("status: got %d, want %d", resp.Status, http.StatusFound)
	}
	if got := resp.Header.Get("Location"); got != location {
		t.Errorf("Location: got %q, want %q", got, location)
	}
	if n := targetHits.Load(); n != 0 {
		t.Errorf("redirect target hits: got %d, want 0", n)
	}
}

// writeInChunks writes n bytes of HTML in flushed chunks, so that the
// response has no Content-Length. With n < 0 it writes until the client goes
// away or the test ends.
func writeInChunks(w http.ResponseWriter, r *http.Request, done <-chan struct{}, n int) {
	w.Header().Set("Content-Type", "text/html")
	chunk := bytes.Repeat([]byte("<b>x</b>"), 64) // 512 bytes
	for written := 0; n < 0 || written < n; written += len(chunk) {
		select {
		case <-r.Context().Done():
			return
		case <-done:
			return
		default:
		}
		if n >= 0 {
			chunk = chunk[:min(len(chunk), n-written)]
		}
		if _, err := w.Write(chunk); err != nil {
			return
		}
		w.(http.Flusher).Flush()
	}
}

func TestFetchBodyOverCapIsTooLarge(t *testing.T) { forEachClient(t, testFetchBodyOverCapIsTooLarge) }

func testFetchBodyOverCapIsTooLarge(t *testing.T, newClient clientMaker) {
	t.Parallel()
	const maxBody = 4 << 10
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request, done <-chan struct{})
		wantErr fetch.Kind // zero means the body is returned
		wantLen int
	}{
		{
			name: "Content-Length at the cap",
			handler: func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("Content-Length", fmt.Sprint(maxBody))
				w.Write(bytes.Repeat([]byte("a"), maxBody))
			},
			wantLen: maxBody,
		},
		{
			name: "Content-Length over the cap",
			handler: func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("Content-Length", fmt.Sprint(maxBody+1))
				w.Write(bytes.Repeat([]byte("a"), maxBody+1))
			},
			wantErr: fetch.KindTooLarge,
		},
		{
			// The declared length alone is enough: the client must not wait
			// for a body it will refuse anyway.
			name: "Content-Length over the cap, body never sent",
			handler: func(w http.ResponseWriter, r *http.Request, done <-chan struct{}) {
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("Content-Length", fmt.Sprint(100*maxBody))
				w.WriteHeader(http.StatusOK)
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
				case <-done:
				}
			},
			wantErr: fetch.KindTooLarge,
		},
		{
			name: "chunked at the cap",
			handler: func(w http.ResponseWriter, r *http.Request, done <-chan struct{}) {
				writeInChunks(w, r, done, maxBody)
			},
			wantLen: maxBody,
		},
		{
			name: "chunked over the cap",
			handler: func(w http.ResponseWriter, r *http.Request, done <-chan struct{}) {
				writeInChunks(w, r, done, maxBody+1)
			},
			wantErr: fetch.KindTooLarge,
		},
		{
			name: "never-ending body",
			handler: func(w http.ResponseWriter, r *http.Request, done <-chan struct{}) {
				writeInChunks(w, r, done, -1)
			},
			wantErr: fetch.KindTooLarge,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			done := release(t)
			srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) { tc.handler(w, r, done) })
			c := newClient(t, maxBody)
			req := fragmentRequest(srv.URL, safetyTimeout)

			resp, err, elapsed := fetchTimed(t.Context(), c, req)
			wantFast(t, elapsed)
			if tc.wantErr != 0 {
				wantKind(t, resp, err, req, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if len(resp.Body) != tc.wantLen {
				t.Errorf("body length: got %d, want %d", len(resp.Body), tc.wantLen)
			}
		})
	}
}

// gzipBomb is about 10 KB of gzip that inflates to 10 MB of zeros.
var gzipBomb = sync.OnceValue(func() []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(make([]byte, 10<<20))
	zw.Close()
	return buf.Bytes()
})

func TestFetchGzipBombIsTooLarge(t *testing.T) { forEachClient(t, testFetchGzipBombIsTooLarge) }

func testFetchGzipBombIsTooLarge(t *testing.T, newClient clientMaker) {
	t.Parallel()
	bomb := gzipBomb()
	srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(bomb)
	})
	c := newClient(t, 1<<20)
	req := fragmentRequest(srv.URL, safetyTimeout)

	resp, err, elapsed := fetchTimed(t.Context(), c, req)
	wantKind(t, resp, err, req, fetch.KindTooLarge)
	if len(bomb) > 1<<20 {
		t.Fatalf("the bomb is %d bytes compressed: the test no longer shows the cap applies after decompression", len(bomb))
	}
	wantFast(t, elapsed)
}

func TestFetchDecompressesGzipBody(t *testing.T) { forEachClient(t, testFetchDecompressesGzipBody) }

func testFetchDecompressesGzipBody(t *testing.T, newClient clientMaker) {
	t.Parallel()
	want := strings.Repeat("<p>gzip</p>", 1000)
	body := gzipped(t, []byte(want))
	srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(body)
	})
	c := newClient(t, int64(len(want))) // the inflated size is exactly the cap

	resp, err := c.Fetch(t.Context(), fragmentRequest(srv.URL, safetyTimeout))
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if string(resp.Body) != want {
		t.Errorf("body: got %d bytes starting %q, want %d bytes starting %q", len(resp.Body), resp.Body[:min(len(resp.Body), 20)], len(want), want[:20])
	}
}

func TestFetchCorruptGzipIsBodyError(t *testing.T) { forEachClient(t, testFetchCorruptGzipIsBodyError) }

func testFetchCorruptGzipIsBodyError(t *testing.T, newClient clientMaker) {
	t.Parallel()
	good := gzipped(t, []byte(strings.Repeat("<p>fragment</p>", 100)))
	badChecksum := bytes.Clone(good)
	badChecksum[len(badChecksum)-8] ^= 0xff // the CRC-32 in the trailer
	tests := []struct {
		name string
		body []byte
	}{
		{"not gzip at all", []byte("<p>this is not gzip</p>")},
		{"wrong checksum", badChecksum},
		{"truncated stream", good[:len(good)/2]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("Content-Encoding", "gzip")
				w.Write(tc.body)
			})
			c := newClient(t, 0)
			req := fragmentRequest(srv.URL, safetyTimeout)

			resp, err := c.Fetch(t.Context(), req)
			wantKind(t, resp, err, req, fetch.KindBody)
		})
	}
}

func TestFetchTruncatedBodyIsBodyError(t *testing.T) {
	forEachClient(t, testFetchTruncatedBodyIsBodyError)
}

func testFetchTruncatedBodyIsBodyError(t *testing.T, newClient clientMaker) {
	t.Parallel()
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request) {
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100\r\n\r\n<p>10b</p>")
		// The handler returns and the connection closes, 90 bytes short.
	})
	c := newClient(t, 0)
	req := fragmentRequest(srv.URL, safetyTimeout)

	resp, err, elapsed := fetchTimed(t.Context(), c, req)
	wantKind(t, resp, err, req, fetch.KindBody)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("errors.Is(err, io.ErrUnexpectedEOF): got false, want true (error: %v)", err)
	}
	wantFast(t, elapsed)
}

func TestFetchConnectionResetMidBodyIsBodyError(t *testing.T) {
	forEachClient(t, testFetchConnectionResetMidBodyIsBodyError)
}

func testFetchConnectionResetMidBodyIsBodyError(t *testing.T, newClient clientMaker) {
	t.Parallel()
	srv := newRawServer(t, func(conn net.Conn, _ *http.Request) {
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n<p>half")
		conn.(*net.TCPConn).SetLinger(0) // Close sends a RST
	})
	c := newClient(t, 0)
	req := fragmentRequest(srv.URL, safetyTimeout)

	resp, err, elapsed := fetchTimed(t.Context(), c, req)
	wantKind(t, resp, err, req, fetch.KindBody)
	wantFast(t, elapsed)
}

func TestFetchRejectsNonHTMLContentType(t *testing.T) {
	forEachClient(t, testFetchRejectsNonHTMLContentType)
}

func testFetchRejectsNonHTMLContentType(t *testing.T, newClient clientMaker) {
	t.Parallel()
	tests := []struct {
		name        string
		contentType []string // nil sends no Content-Type at all
		body        string
	}{
		{"json", []string{"application/json"}, `{"html":"<p>x</p>"}`},
		{"png", []string{"image/png"}, "\x89PNG\r\n\x1a\n"},
		{"missing", nil, "<p>sniffable html</p>"},
		{"plain text", []string{"text/plain; charset=utf-8"}, "<p>x</p>"},
		{"xhtml", []string{"application/xhtml+xml"}, "<p>x</p>"},
		{"malformed", []string{"text/html/extra"}, "<p>x</p>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header()["Content-Type"] = tc.contentType // nil also stops net/http sniffing one
				io.WriteString(w, tc.body)
			})
			c := newClient(t, 0)
			req := fragmentRequest(srv.URL, safetyTimeout)

			resp, err := c.Fetch(t.Context(), req)
			wantKind(t, resp, err, req, fetch.KindContentType)
		})
	}
}

func TestFetchAcceptsHTMLContentTypes(t *testing.T) {
	forEachClient(t, testFetchAcceptsHTMLContentTypes)
}

func testFetchAcceptsHTMLContentTypes(t *testing.T, newClient clientMaker) {
	t.Parallel()
	for _, contentType := range []string{
		"text/html",
		"text/html; charset=utf-8",
		"TEXT/HTML",
		"Text/Html;Charset=UTF-8",
	} {
		t.Run(contentType, func(t *testing.T) {
			t.Parallel()
			srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", contentType)
				io.WriteString(w, "<p>ok</p>")
			})
			c := newClient(t, 0)

			resp, err := c.Fetch(t.Context(), fragmentRequest(srv.URL, safetyTimeout))
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if got, want := string(resp.Body), "<p>ok</p>"; got != want {
				t.Errorf("body: got %q, want %q", got, want)
			}
		})
	}
}

func TestFetch204WithoutContentTypeIsEmptyResponse(t *testing.T) {
	forEachClient(t, testFetch204WithoutContentTypeIsEmptyResponse)
}

func testFetch204WithoutContentTypeIsEmptyResponse(t *testing.T, newClient clientMaker) {
	t.Parallel()
	srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil
		w.WriteHeader(http.StatusNoContent)
	})
	c := newClient(t, 0)

	resp, err := c.Fetch(t.Context(), fragmentRequest(srv.URL, safetyTimeout))
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	if resp.Status != http.StatusNoContent {
		t.Errorf("status: got %d, want %d", resp.Status, http.StatusNoContent)
	}
	if len(resp.Body) != 0 {
		t.Errorf("body: got %q, want empty", resp.Body)
	}
	if got := resp.Header.Get("Content-Type"); got != "" {
		t.Errorf("Content-Type: got %q, want none", got)
	}
}

// fetchBody serves raw as a text/html body and returns what Fetch makes of it.
func fetchBody(t *testing.T, raw string) string {
	t.Helper()
	srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, raw)
	})
	c := newClient(t, 0)
	resp, err := c.Fetch(t.Context(), fragmentRequest(srv.URL, safetyTimeout))
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	return string(resp.Body)
}

func TestFetchStripsLeadingBOM(t *testing.T) { forEachClient(t, testFetchStripsLeadingBOM) }

func testFetchStripsLeadingBOM(t *testing.T, newClient clientMaker) {
	t.Parallel()
	tests := []struct {
		name, raw, want string
	}{
		{"leading BOM", "\uFEFF<p>hi</p>", "<p>hi</p>"},
		{"only a BOM", "\uFEFF", ""},
		{"BOM inside is kept", "<p>a\uFEFFb</p>", "<p>a\uFEFFb</p>"},
		{"no BOM", "<p>hi</p>", "<p>hi</p>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := fetchBody(t, tc.raw); got != tc.want {
				t.Errorf("body: got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFetchRepairsInvalidUTF8(t *testing.T) { forEachClient(t, testFetchRepairsInvalidUTF8) }

func testFetchRepairsInvalidUTF8(t *testing.T, newClient clientMaker) {
	t.Parallel()
	tests := []struct {
		name, raw, want string
	}{
		{"stray byte", "<p>\xff</p>", "<p>\uFFFD</p>"},
		{"latin-1", "<p>caf\xe9</p>", "<p>caf\uFFFD</p>"},
		{"truncated sequence", "<p>\xe2\x82</p>", "<p>\uFFFD</p>"},
		{"surrogate half", "<p>\xed\xa0\x80</p>", "<p>\uFFFD</p>"},
		{"at the end", "<p>x</p>\xc3", "<p>x</p>\uFFFD"},
		{"after a BOM", "\uFEFF<p>\xff</p>", "<p>\uFFFD</p>"},
		{"valid is untouched", "<p>Grüße, 日本 🛒</p>", "<p>Grüße, 日本 🛒</p>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := fetchBody(t, tc.raw)
			if !utf8.ValidString(got) {
				t.Errorf("body %q is not valid UTF-8", got)
			}
			if got != tc.want {
				t.Errorf("body: got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFetchHugeResponseHeaderFails(t *testing.T) {
	forEachClient(t, testFetchHugeResponseHeaderFails)
}

func testFetchHugeResponseHeaderFails(t *testing.T, newClient clientMaker) {
	t.Parallel()
	srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("X-Huge", strings.Repeat("h", 1<<20))
		io.WriteString(w, "<p>ok</p>") // blocks until the client hangs up
	})
	c := newClient(t, 0) // NewTransport caps response headers at 64 KiB
	req := fragmentRequest(srv.URL, safetyTimeout)

	resp, err, elapsed := fetchTimed(t.Context(), c, req)
	wantKind(t, resp, err, req, fetch.KindConnect)
	if !strings.Contains(err.Error(), "header") {
		t.Errorf("message: got %q, want it to mention the header", err.Error())
	}
	wantFast(t, elapsed)
}

func TestErrorMessageNamesFragmentServiceAndKind(t *testing.T) {
	tests := []struct {
		name string
		err  *fetch.Error
		want string
	}{
		{
			name: "timeout with cause",
			err:  &fetch.Error{Kind: fetch.KindTimeout, ID: "search", Service: "search", Err: context.DeadlineExceeded},
			want: `fragment "search" (service search): timeout: context deadline exceeded`,
		},
		{
			name: "status",
			err:  &fetch.Error{Kind: fetch.KindStatus, ID: "basket", Service: "checkout", Status: 503},
			want: `fragment "basket" (service checkout): status 503`,
		},
		{
			name: "body with cause",
			err:  &fetch.Error{Kind: fetch.KindBody, ID: "reco", Service: "inspire", Err: io.ErrUnexpectedEOF},
			want: `fragment "reco" (service inspire): body: unexpected EOF`,
		},
		{
			name: "id that needs quoting",
			err:  &fetch.Error{Kind: fetch.KindConnect, ID: `a "b"`, Service: "svc"},
			want: `fragment "a \"b\"" (service svc): connect`,
		},
		{
			name: "unknown kind",
			err:  &fetch.Error{Kind: 99, ID: "x", Service: "y"},
			want: `fragment "x" (service y): kind(99)`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	tests := []struct {
		kind fetch.Kind
		want string
	}{
		{fetch.KindConnect, "connect"},
		{fetch.KindTimeout, "timeout"},
		{fetch.KindCanceled, "canceled"},
		{fetch.KindStatus, "status"},
		{fetch.KindTooLarge, "too_large"},
		{fetch.KindContentType, "content_type"},
		{fetch.KindBody, "body"},
		{fetch.KindBreakerOpen, "breaker_open"},
		{fetch.KindOverflow, "overflow"},
		{fetch.KindMarkup, "markup"},
		{fetch.KindPanic, "panic"},
		{fetch.KindBudget, "budget"},
		{0, "kind(0)"},
		{fetch.KindBudget + 1, fmt.Sprintf("kind(%d)", fetch.KindBudget+1)},
	}
	for _, tc := range tests {
		if got := tc.kind.String(); got != tc.want {
			t.Errorf("Kind(%d).String(): got %q, want %q", uint8(tc.kind), got, tc.want)
		}
	}
}

func TestKindOfSeesThroughWrapping(t *testing.T) {
	base := &fetch.Error{Kind: fetch.KindTooLarge, ID: "x", Service: "y"}
	tests := []struct {
		name string
		err  error
		want fetch.Kind
	}{
		{"the error itself", base, fetch.KindTooLarge},
		{"wrapped once", fmt.Errorf("slot x: %w", base), fetch.KindTooLarge},
		{"wrapped twice", fmt.Errorf("page: %w", fmt.Errorf("slot x: %w", base)), fetch.KindTooLarge},
		{"joined", errors.Join(errors.New("other"), base), fetch.KindTooLarge},
		{"not wrapped", fmt.Errorf("slot x: %v", base), 0},
		{"plain error", errors.New("boom"), 0},
		{"nil", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fetch.KindOf(tc.err); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestErrorTimeoutOnlyForKindTimeout(t *testing.T) {
	for k := fetch.Kind(0); k <= fetch.KindBody+1; k++ {
		e := &fetch.Error{Kind: k}
		if got, want := e.Timeout(), k == fetch.KindTimeout; got != want {
			t.Errorf("(&Error{Kind: %s}).Timeout(): got %t, want %t", k, got, want)
		}
	}
	// A wrapped *Error still answers net.Error-style timeout checks.
	var te interface{ Timeout() bool }
	if err := fmt.Errorf("slot: %w", &fetch.Error{Kind: fetch.KindTimeout}); !errors.As(err, &te) || !te.Timeout() {
		t.Errorf("wrapped timeout error: errors.As to Timeout() bool did not report a timeout")
	}
}

func TestErrorUnwrapsToCause(t *testing.T) {
	cause := errors.New("cause")
	err := fmt.Errorf("page: %w", &fetch.Error{Kind: fetch.KindBody, Err: cause})
	if !errors.Is(err, cause) {
		t.Errorf("errors.Is(err, cause): got false, want true")
	}
	if got := (&fetch.Error{Kind: fetch.KindStatus}).Unwrap(); got != nil {
		t.Errorf("Unwrap without a cause: got %v, want nil", got)
	}
}

func BenchmarkClientFetch(b *testing.B) {
	body := append(bytes.Repeat([]byte("<li>x</li>"), 204), "<b></b> "...) // a 2 KB fragment
	srv := teamtest.New(b, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Link", `</search/a.css>; rel=stylesheet, </search/m.js>; rel=modulepreload`)
		w.Write(body)
	})
	for _, bc := range []struct {
		name      string
		newClient clientMaker
	}{{"net-http", newClient}, {"lean", newLeanClient}} {
		b.Run(bc.name, func(b *testing.B) {
			c := bc.newClient(b, 0)
			req := &fetch.Request{
				ID: "search", Service: "search", URL: srv.URL + "/fragment?q=shoes", Timeout: safetyTimeout,
				Fields: []fetch.Field{{Name: "X-Request-Id", Values: []string{"bench"}}, {Name: "Accept-Language", Values: []string{"en"}}},
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				resp, err := c.Fetch(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				if len(resp.Body) != len(body) {
					b.Fatalf("body length: got %d, want %d", len(resp.Body), len(body))
				}
			}
		})
	}
}

// The budget of bodies in flight holds across fetches: a body that would
// go over it fails with KindBudget, and a body released by its page makes
// room again.
func TestBudgetBoundsBodiesInFlight(t *testing.T) { forEachClient(t, testBudgetBoundsBodiesInFlight) }

func testBudgetBoundsBodiesInFlight(t *testing.T, newClient clientMaker) {
	body := bytes.Repeat([]byte("x"), 600<<10)
	srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write(body)
	})
	c := newClient(t, 0)
	c.Budget = fetch.NewBudget(1 << 20)
	first, err := c.Fetch(t.Context(), fragmentRequest(srv.URL, safetyTimeout))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Budget.Used(); got != int64(len(body)) {
		t.Errorf("budget used by one body: got %d, want %d", got, len(body))
	}
	_, err = c.Fetch(t.Context(), fragmentRequest(srv.URL, safetyTimeout))
	if fetch.KindOf(err) != fetch.KindBudget {
		t.Fatalf("second body over the budget: got %v, want kind %q", err, fetch.KindBudget)
	}
	if got := c.Budget.Used(); got != int64(len(body)) {
		t.Errorf("budget used after the refused body: got %d, want %d (its part given back)", got, len(body))
	}
	first.Release()
	first.Release() // twice is harmless
	if got := c.Budget.Used(); got != 0 {
		t.Errorf("budget used after release: got %d, want 0", got)
	}
	second, err := c.Fetch(t.Context(), fragmentRequest(srv.URL, safetyTimeout))
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	second.Release()
}

func TestReleasedBodyIsPoisoned(t *testing.T) {
	if !poison.Enabled() {
		t.Skip("poisoning is off while benchmarks run")
	}
	forEachClient(t, testReleasedBodyIsPoisoned)
}

func testReleasedBodyIsPoisoned(t *testing.T, newClient clientMaker) {
	const sent = "<p>hello</p>"
	srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, sent)
	})
	c := newClient(t, 0)
	c.Budget = fetch.NewBudget(1 << 20)
	resp, err := c.Fetch(t.Context(), fragmentRequest(srv.URL, safetyTimeout))
	if err != nil {
		t.Fatal(err)
	}
	body, header := resp.Body, resp.Header
	if string(body) != sent || header.Get("Cache-Control") != "no-store" {
		t.Fatalf("before release: body %q, Cache-Control %q, want %q and no-store", body, header.Get("Cache-Control"), sent)
	}
	resp.Release()
	if want := bytes.Repeat([]byte{poison.Byte}, len(sent)); !bytes.Equal(body, want) {
		t.Errorf("body after release: %q, want the poison %q", body, want)
	}
	// The header map goes back too: the response no longer has one, and
	// whoever kept the map finds only the poison field in it.
	if resp.Header != nil {
		t.Errorf("the response's header after release: %v, want none", resp.Header)
	}
	if want := (http.Header{fetch.PoisonField: {"released"}}); !maps.EqualFunc(header, want, slices.Equal) {
		t.Errorf("the header map after release: %v, want the poison %v", header, want)
	}
}

func fieldsOf(h http.Header) []fetch.Field {
	fields := make([]fetch.Field, 0, len(h))
	for name, values := range h {
		fields = append(fields, fetch.Field{Name: name, Values: values})
	}
	return fields
}
