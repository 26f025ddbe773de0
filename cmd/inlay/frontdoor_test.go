//go:build unix

// The slow-reader test sets SO_RCVBUF through syscall, whose socket calls
// take an int descriptor on unix only.

package main

// The front door (rows C8, C9, S2, S3 and I1 of the fault matrix,
// docs/fault-matrix.md): the real shopper-facing http.Server from
// newHTTPServer, on a real listener, in front of a composer whose one team
// service counts every request it gets. Whatever a hostile or broken request
// does, it must be answered before any fragment is fetched, and the server
// must go on serving.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/inlayhq/inlay/composer"
	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/composer/frontdoor"
	"github.com/inlayhq/inlay/fragments/transport"
	"github.com/inlayhq/inlay/teams/teamtest"
)

const (
	fdHead = `<!DOCTYPE html><html><head><title>t</title></head><body>`
	fdTail = `<footer id="layout-end">end</footer></body></html>`
)

// frontDoorConfig describes a front-door test shop.
type frontDoorConfig struct {
	// team answers every request to the team service, after it is counted.
	team http.HandlerFunc
	// layouts by file name; pages and gateway are YAML list items.
	layouts        map[string]string
	pages, gateway string
	// extra is more top-level YAML.
	extra string
	// opts are the composer's options; LayoutFS and Logger are filled in.
	opts composer.Options
	// wrap, when not nil, wraps the composer before the http.Server.
	wrap func(http.Handler) http.Handler
	// logger, when not nil, is what the composer logs to; else nothing is
	// logged.
	logger *slog.Logger
}

// frontDoor is Inlay behind its real http.Server on 127.0.0.1.
type frontDoor struct {
	addr string
	hs   *http.Server
	// team is the team service; its hits are the requests that reached it.
	team *teamtest.Team
}

func startFrontDoor(t *testing.T, fc frontDoorConfig) *frontDoor {
	t.Helper()
	team := teamtest.New(t, fc.team)
	cfg, fsys := teamtest.Parse(t, teamtest.Shop{
		Extra:          "page_timeout: 10s\n" + fc.extra,
		Services:       map[string]string{"team": team.URL},
		ServiceTimeout: "10s",
		Pages:          fc.pages,
		Gateway:        fc.gateway,
		Layouts:        fc.layouts,
	}, config.Parse)
	logger := fc.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts := fc.opts
	opts.LayoutFS, opts.Logger = fsys, logger
	srv, err := composer.New(cfg, opts)
	if err != nil {
		t.Fatalf("composer.New: %v", err)
	}
	var h http.Handler = srv
	if fc.wrap != nil {
		h = fc.wrap(srv)
	}
	t.Cleanup(srv.Close) // after the server below has shut down
	hs := newHTTPServer(h, logger)
	return &frontDoor{addr: teamtest.Serve(t, hs, frontdoor.Listener), hs: hs, team: team}
}

// onePage is a front door with one page, /, whose primary is the team's.
func onePage(team http.HandlerFunc) frontDoorConfig {
	return frontDoorConfig{
		team:    team,
		layouts: map[string]string{"p.html": fdHead + `<fragment id="main" src="team:/main" primary></fragment>` + fdTail},
		pages:   "  - path: /\n    layout: p.html",
	}
}

// raw sends raw bytes on a new connection and reads one response. The
// bytes are written while the response is read, as a server may answer
// (and close) before it has read them all.
func (fd *frontDoor) raw(t *testing.T, request []byte) (int, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", fd.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		conn.Write(request) // an error means the server answered early
	}()
	defer func() { <-wrote }() // after conn.Close, which ends a blocked write
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// get fetches path over a fresh connection (see teamtest.Get).
func (fd *frontDoor) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, body := teamtest.Get(t, "http://"+fd.addr+path)
	return resp.StatusCode, body
}

// wantServing fails the test unless / still answers 200 with the page.
func (fd *frontDoor) wantServing(t *testing.T, want string) {
	t.Helper()
	if status, body := fd.get(t, "/"); status != http.StatusOK || body != want {
		t.Errorf("follow-up page: got %d %q, want 200 %q", status, body, want)
	}
}

// C8, finding 9: the cap on a request head, from the request line to the
// blank line, is frontdoor.MaxRequestHead (32 KiB), as docs/operators.md says, to the byte:
// a head of exactly 32 KiB is a page, one byte more is answered 431 by the
// server before any handler runs, and no fragment is fetched.
func TestFrontDoorRefusesOversizedHeadersBeforeComposing(t *testing.T) {
	fd := startFrontDoor(t, onePage(teamtest.Fragment("<h1>main</h1>", "")))
	if frontdoor.MaxRequestHead != 32<<10 || fd.hs.MaxHeaderBytes+frontdoor.HeadSlack != frontdoor.MaxRequestHead {
		t.Fatalf("MaxHeaderBytes %d + %d, want the documented 32 KiB", fd.hs.MaxHeaderBytes, frontdoor.HeadSlack)
	}
	// request builds a GET / whose head (request line to the blank line)
	// is exactly size bytes, padded with a cookie.
	request := func(size int) []byte {
		head := "GET / HTTP/1.1\r\nHost: shop.example\r\nCookie: c="
		end := "\r\n\r\n"
		return []byte(head + strings.Repeat("x", size-len(head)-len(end)) + end)
	}
	cases := []struct {
		name       string
		size       int
		wantStatus int
		wantHits   int64
	}{
		{"64 KiB cookie", 64 << 10, http.StatusRequestHeaderFieldsTooLarge, 0},
		{"one byte over 32 KiB", frontdoor.MaxRequestHead + 1, http.StatusRequestHeaderFieldsTooLarge, 0},
		{"exactly 32 KiB", frontdoor.MaxRequestHead, http.StatusOK, 1},
		{"4 KiB under", frontdoor.MaxRequestHead - 4<<10, http.StatusOK, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := fd.team.Hits()
			status, body := fd.raw(t, request(tc.size))
			if status != tc.wantStatus {
				t.Errorf("%d-byte head: got status %d, want %d; body %q", tc.size, status, tc.wantStatus, body)
			}
			if n := fd.team.Hits() - before; n != tc.wantHits {
				t.Errorf("fragment fetches: got %d, want %d", n, tc.wantHits)
			}
		})
	}
	fd.wantServing(t, fdHead+"<h1>main</h1>"+fdTail)
}

// framingCase is a raw request whose framing two parsers could read
// differently (request smuggling).
type framingCase struct{ name, request string }

// wantRefusedBeforeComposing sends each request raw and fails the test
// unless the server answers it 400 or 501 without fetching a fragment.
func (fd *frontDoor) wantRefusedBeforeComposing(t *testing.T, cases []framingCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := fd.team.Hits()
			status, body := fd.raw(t, []byte(tc.request))
			if status != http.StatusBadRequest && status != http.StatusNotImplemented {
				t.Errorf("got status %d, want 400 or 501; body %q", status, body)
			}
			if n := fd.team.Hits() - before; n != 0 {
				t.Errorf("fragment fetches: got %d, want 0", n)
			}
		})
	}
}

// C9: requests with ambiguous framing are refused by the server with 400
// or 501; none reaches a page, so no fragment is fetched.
func TestFrontDoorRefusesAmbiguousFraming(t *testing.T) {
	fd := startFrontDoor(t, onePage(teamtest.Fragment("<h1>main</h1>", "")))
	fd.wantRefusedBeforeComposing(t, []framingCase{
		{"two differing Content-Length", "GET / HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\nhello"},
		{"a Content-Length list", "GET / HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 0, 5\r\n\r\nhello"},
		{"Transfer-Encoding gzip, chunked", "GET / HTTP/1.1\r\nHost: shop.example\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"},
		{"Transfer-Encoding chunked twice", "GET / HTTP/1.1\r\nHost: shop.example\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{"space before the colon", "GET / HTTP/1.1\r\nHost: shop.example\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n"},
	})
	fd.wantServing(t, fdHead+"<h1>main</h1>"+fdTail)
}

// C9: Transfer-Encoding and Content-Length together (the classic
// smuggling pair) are refused on a page route, like the other ambiguous
// framings; a gateway route answers and then closes the connection (see
// TestFrontDoorClosesAfterContentLengthWithTransferEncoding).
func TestFrontDoorRefusesTransferEncodingWithContentLength(t *testing.T) {
	fd := startFrontDoor(t, onePage(teamtest.Fragment("<h1>main</h1>", "")))
	fd.wantRefusedBeforeComposing(t, []framingCase{
		{"Transfer-Encoding then Content-Length", "GET / HTTP/1.1\r\nHost: shop.example\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"},
		{"Content-Length then Transfer-Encoding", "GET / HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
	})
}

// C9: a header folded over two lines (obs-fold, RFC 9112 §5.2) is refused
// like the other ambiguous framings: Go's server unfolds it, so the front
// door judges the raw head (checkFraming).
func TestFrontDoorRefusesObsFold(t *testing.T) {
	fd := startFrontDoor(t, onePage(teamtest.Fragment("<h1>main</h1>", "")))
	fd.wantRefusedBeforeComposing(t, []framingCase{
		{"obs-fold with a space", "GET / HTTP/1.1\r\nHost: shop.example\r\nX-Folded: a\r\n b\r\n\r\n"},
		{"obs-fold with a tab", "GET / HTTP/1.1\r\nHost: shop.example\r\nX-Folded: a\r\n\tb\r\n\r\n"},
	})
}

// gatewayShop is a front door whose team reads every request body whole,
// as an API would, with the gateway route /basket/ to it. dials counts
// the connections the gateway opens to the team: one is opened before any
// byte is forwarded, so unlike the team's own count it is settled when the
// shopper has the answer.
func gatewayShop(t *testing.T) (fd *frontDoor, dials *atomic.Int64) {
	fc := onePage(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		teamtest.Fragment("<h1>main</h1>", "")(w, r)
	})
	fc.gateway = "  - prefix: /basket/\n    service: team"
	dials = &atomic.Int64{}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dialer.DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	fc.opts.Transport = tr
	return startFrontDoor(t, fc), dials
}

// wantNothingForwarded fails the test unless the gateway never connected
// to the team and the team saw no request.
func wantNothingForwarded(t *testing.T, fd *frontDoor, dials *atomic.Int64) {
	t.Helper()
	if n := dials.Load(); n != 0 {
		t.Errorf("connections the gateway opened to the team: got %d, want 0", n)
	}
	if n := fd.team.Hits(); n != 0 {
		t.Errorf("requests that reached the team: got %d, want 0", n)
	}
}

// hugeBodySize is more than the gateway's body cap.
const hugeBodySize = 2 << 20

// S3: a 2 MiB body with a declared length to a gateway route is refused
// with 413 and the request never reaches the team.
func TestFrontDoorRefusesAHugeGatewayBody(t *testing.T) {
	fd, dials := gatewayShop(t)
	status, body := fd.raw(t, []byte(fmt.Sprintf("POST /basket/api/add HTTP/1.1\r\nHost: shop.example\r\n"+
		"Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", hugeBodySize, strings.Repeat("x", hugeBodySize))))
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("got status %d, want 413; body %q", status, body)
	}
	wantNothingForwarded(t, fd, dials)
	fd.wantServing(t, fdHead+"<h1>main</h1>"+fdTail)
}

// S3: the same body sent chunked, its length unknown until it ends, is
// refused with 413 too, and nothing of it reaches the team.
func TestFrontDoorRefusesAHugeChunkedGatewayBody(t *testing.T) {
	fd, dials := gatewayShop(t)
	var b bytes.Buffer
	b.WriteString("POST /basket/api/add HTTP/1.1\r\nHost: shop.example\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
	chunk := strings.Repeat("x", 64<<10)
	for range hugeBodySize / len(chunk) {
		fmt.Fprintf(&b, "%x\r\n%s\r\n", len(chunk), chunk)
	}
	b.WriteString("0\r\n\r\n")
	status, body := fd.raw(t, b.Bytes())
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("got status %d, want 413; body %q", status, body)
	}
	wantNothingForwarded(t, fd, dials)
	fd.wantServing(t, fdHead+"<h1>main</h1>"+fdTail)
}

// smallReceiveBuffer is a net.Dialer Control that shrinks the socket's
// receive buffer, so that a client that reads nothing stalls the server's
// writes after a few KiB.
func smallReceiveBuffer(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
	})
	if err != nil {
		return err
	}
	return serr
}

// S2: a shopper that reads nothing of a page of several MiB holds its
// connection only until one write has waited WriteIdleTimeout: the
// handler ends and the connection is closed, long before the server's own
// WriteTimeout. The server serves other shoppers all the while.
func TestFrontDoorCutsOffAShopperWhoStopsReading(t *testing.T) {
	const (
		writeIdle = 200 * time.Millisecond
		bigSize   = 8 << 20
	)
	gate := make(chan struct{})
	arrived := make(chan struct{}, 1)
	bigBody := "<pre>" + strings.Repeat("x", bigSize) + "</pre>"
	bigDone := make(chan struct{})
	fd := startFrontDoor(t, frontDoorConfig{
		team: func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/big" {
				arrived <- struct{}{}
				select {
				case <-gate:
				case <-r.Context().Done():
					return
				}
				teamtest.Fragment(bigBody, "")(w, r)
				return
			}
			teamtest.Fragment("<h1>small</h1>", "")(w, r)
		},
		layouts: map[string]string{
			"big.html":   fdHead + `<fragment id="big" src="team:/big" primary></fragment>` + fdTail,
			"small.html": fdHead + `<fragment id="small" src="team:/small" primary></fragment>` + fdTail,
		},
		pages: "  - path: /big\n    layout: big.html\n  - path: /\n    layout: small.html",
		extra: fmt.Sprintf("max_fragment_bytes: %d\ncache:\n  disabled: true\n", 2*bigSize),
		opts:  composer.Options{WriteIdleTimeout: writeIdle},
		wrap: func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h.ServeHTTP(w, r)
				if r.URL.Path == "/big" {
					close(bigDone)
				}
			})
		},
	})
	small := fdHead + "<h1>small</h1>" + fdTail

	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: smallReceiveBuffer}
	conn, err := dialer.Dial("tcp", fd.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /big HTTP/1.1\r\nHost: shop.example\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the big page's fragment was never fetched")
	}
	// The slow shopper's page is in flight (its fragment is held): others
	// are served meanwhile.
	fd.wantServing(t, small)
	close(gate) // the page goes out, to a shopper who reads nothing
	fd.wantServing(t, small)
	start := time.Now()
	select {
	case <-bigDone:
	case <-time.After(10 * time.Second):
		t.Fatalf("the slow reader's handler still runs 10s after its page went out, want it cut after %v of stalled writing", writeIdle)
	}
	t.Logf("the slow reader's handler ended %v after its page was released", time.Since(start))
	fd.wantServing(t, small)

	// The connection is closed: reading what the kernel buffered ends in
	// EOF or a reset, not in a wait.
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := io.Copy(io.Discard, conn)
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		t.Fatalf("reading the slow reader's connection: got a timeout after %d bytes, want EOF or a reset", n)
	}
	if n >= bigSize {
		t.Errorf("the slow reader got %d bytes, want the page cut short of its %d", n, bigSize)
	}
}

// A page waiting on a slow fragment writes nothing meanwhile, and that is
// not a slow shopper: the per-write deadline must not run out while the
// composer waits, or a shopper who reads everything gets a truncated page.
func TestWriteIdleTimeoutSparesAShopperWaitingForASlowFragment(t *testing.T) {
	const writeIdle = 200 * time.Millisecond
	gate := make(chan struct{})
	boxBody := "<p>" + strings.Repeat("b", 64<<10) + "</p>"
	fd := startFrontDoor(t, frontDoorConfig{
		team: func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/box" {
				select {
				case <-gate:
				case <-r.Context().Done():
					return
				}
				teamtest.Fragment(boxBody, "")(w, r)
				return
			}
			teamtest.Fragment("<h1>main</h1>", "")(w, r)
		},
		layouts: map[string]string{"p.html": fdHead + `<fragment id="main" src="team:/main" primary></fragment><fragment id="box" src="team:/box"></fragment>` + fdTail},
		pages:   "  - path: /\n    layout: p.html",
		opts:    composer.Options{WriteIdleTimeout: writeIdle},
	})
	resp, err := http.Get("http://" + fd.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	first := fdHead + "<h1>main</h1>"
	got := make([]byte, len(first))
	if _, err := io.ReadFull(br, got); err != nil || string(got) != first {
		t.Fatalf("first bytes: got %q (%v), want %q", got, err, first)
	}
	time.Sleep(2 * writeIdle) // the box's latency, longer than one write may take: the subject of the test
	close(gate)
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != boxBody+fdTail {
		t.Errorf("rest of the page: got %d bytes (%v), want the box and the tail (%d bytes)", len(rest), err, len(boxBody+fdTail))
	}
}

// I1: a panic in a fetch degrades only its slot (the primary's: a 502
// page); the server goes on, and the next page is whole.
func TestFrontDoorSurvivesAPanicInAFetch(t *testing.T) {
	cases := []struct {
		name, slot string
		wantStatus int
		want       string // the page, for a 200
	}{
		{"non-primary", "box", http.StatusOK, fdHead + "<h1>main</h1>[<em>fallback</em>]" + fdTail},
		{"primary", "main", http.StatusBadGateway, ""},
	}
	whole := fdHead + "<h1>main</h1>[<p>box</p>]" + fdTail
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := transport.NewTransport()
			t.Cleanup(tr.CloseIdleConnections)
			var panics atomic.Int64
			fd := startFrontDoor(t, frontDoorConfig{
				team: func(w http.ResponseWriter, r *http.Request) {
					teamtest.Fragment(map[string]string{"/main": "<h1>main</h1>", "/box": "<p>box</p>"}[r.URL.Path], "")(w, r)
				},
				layouts: map[string]string{"p.html": fdHead + `<fragment id="main" src="team:/main" primary></fragment>` +
					`[<fragment id="box" src="team:/box"><em>fallback</em></fragment>]` + fdTail},
				pages: "  - path: /\n    layout: p.html",
				// The panic comes from the bottom of the production fetch
				// engine: the transport under the cache and the guards.
				opts: composer.Options{FetchTransport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
					if r.URL.Path == "/"+tc.slot && panics.Add(1) == 1 {
						panic("fetch exploded")
					}
					return tr.RoundTrip(r)
				})},
			})
			status, body := fd.get(t, "/")
			if status != tc.wantStatus {
				t.Errorf("page with the panic: got status %d, want %d; body %q", status, tc.wantStatus, body)
			}
			if tc.want != "" && body != tc.want {
				t.Errorf("page with the panic:\ngot  %q\nwant %q", body, tc.want)
			}
			if n := panics.Load(); n != 1 {
				t.Errorf("panicking fetches: got %d, want 1", n)
			}
			fd.wantServing(t, whole)
		})
	}
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// framingTeam is a front door with the gateway route /basket/ to a team
// that records the path of every request it gets.
func framingTeam(t *testing.T) (*frontDoor, func() []string) {
	var mu sync.Mutex
	var paths []string
	fc := onePage(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		teamtest.Fragment("<h1>main</h1>", "")(w, r)
	})
	fc.gateway = "  - prefix: /basket/\n    service: team"
	fd := startFrontDoor(t, fc)
	return fd, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), paths...)
	}
}

// exchange writes request on a new connection and reads every response
// until the server closes it, which it must do within 10 seconds.
func (fd *frontDoor) exchange(t *testing.T, request string) []*http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", fd.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	var out []*http.Response
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("the connection was kept open after %d responses", len(out))
			}
			return out
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		out = append(out, resp)
	}
}

// A gateway request with both Content-Length and
// Transfer-Encoding is answered with Connection: close and the connection
// is closed (RFC 9112 §6.1): the bytes after its chunked body are never
// served as a second request.
func TestFrontDoorClosesAfterContentLengthWithTransferEncoding(t *testing.T) {
	fd, paths := framingTeam(t)
	smuggled := "GET /basket/smuggled HTTP/1.1\r\nHost: shop.example\r\n\r\n"
	for _, order := range []string{
		"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n",
		"Transfer-Encoding: chunked\r\nContent-Length: 6\r\n",
	} {
		resps := fd.exchange(t, "POST /basket/add HTTP/1.1\r\nHost: shop.example\r\n"+order+"\r\n0\r\n\r\n"+smuggled)
		if len(resps) != 1 {
			t.Fatalf("%d responses on one connection, want 1", len(resps))
		}
		if resps[0].StatusCode != http.StatusOK || !resps[0].Close {
			t.Errorf("status %d, Connection: close %t; want 200 and close", resps[0].StatusCode, resps[0].Close)
		}
	}
	if got := paths(); len(got) != 2 || got[0] != "/basket/add" || got[1] != "/basket/add" {
		t.Errorf("the team got %v, want two /basket/add and no smuggled request", got)
	}
	// A plain chunked upload keeps its connection.
	resps := fd.exchange(t, "POST /basket/add HTTP/1.1\r\nHost: shop.example\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"+
		"GET /basket/next HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n")
	if len(resps) != 2 {
		t.Errorf("%d responses to two requests on a chunked keep-alive connection, want 2", len(resps))
	}
}

// HTTP/1.0 with Transfer-Encoding, which HTTP/1.0 does not
// define, is refused with 400 and its connection closed; the team gets
// nothing.
func TestFrontDoorRefusesTransferEncodingOnHTTP10(t *testing.T) {
	fd, paths := framingTeam(t)
	resps := fd.exchange(t, "POST /basket/add HTTP/1.0\r\nHost: shop.example\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"+
		"0\r\n\r\nGET /basket/smuggled HTTP/1.0\r\nHost: shop.example\r\n\r\n")
	if len(resps) != 1 || resps[0].StatusCode != http.StatusBadRequest {
		t.Errorf("got %d responses, first %v; want one 400", len(resps), resps)
	}
	if got := paths(); len(got) != 0 {
		t.Errorf("the team got %v", got)
	}
	fd.wantServing(t, fdHead+"<h1>main</h1>"+fdTail)
}
