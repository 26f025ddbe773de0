//go:build unix

package main

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/inlayhq/inlay/composer"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// A request fits its connection's goroutine stack, so that a GC does not
// halve the stack for the next request to copy it again ("Stack budget" in
// package composer's doc). The real front door serves pages of four boxes,
// access log on, or a gateway route, over keep-alive connections; after a
// GC, each connection serves one more request, and the test checks, from
// a frame that stays on the stack under the whole request, that the stack
// was not moved: a stack that grows is copied to a new place. The boxes
// are cached, or no-store and read on the page's goroutine.
//
// Named TestLoad so that make test runs it without the race detector too,
// whose instrumentation makes every frame larger; under -race it skips.
func TestLoadPageKeepsItsStack(t *testing.T) {
	if raceDetector {
		t.Skip("the race detector's instrumentation makes frames larger than Inlay's own")
	}
	for _, tc := range []struct {
		name, cacheControl, path string
		teamHits                 int // after the first two rounds
	}{
		{"cached boxes", "max-age=600", "/", 4},
		{"no-store boxes", "no-store", "/", 2 * 4 * stackConns},
		{"no-store boxes, two async", "no-store", "/async", 2 * 4 * stackConns},
		{"gateway", "no-store", "/api/basket", 2 * stackConns},
	} {
		t.Run(tc.name, func(t *testing.T) { testKeepsItsStack(t, tc.cacheControl, tc.path, tc.teamHits) })
	}
}

// stackConns is how many connections TestLoadPageKeepsItsStack serves
// requests on.
const stackConns = 8

func testKeepsItsStack(t *testing.T, cacheControl, path string, wantHits int) {
	box := strings.Repeat("<p>A box of the page.</p>", 50) // about 1.3 KB
	moved := make(chan bool, stackConns)                   // for each request, whether its stack moved
	fd := startFrontDoor(t, frontDoorConfig{
		team: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", cacheControl)
			io.WriteString(w, box)
		},
		layouts: map[string]string{
			"p.html": fdHead +
				`<fragment id="header" src="team:/header"></fragment>` +
				`<fragment id="search" src="team:/search"></fragment>` +
				`<fragment id="basket" src="team:/basket" primary></fragment>` +
				`<fragment id="footer" src="team:/footer"></fragment>` + fdTail,
			"a.html": fdHead +
				`<fragment id="header" src="team:/header"></fragment>` +
				`<fragment id="search" src="team:/search" async></fragment>` +
				`<fragment id="basket" src="team:/basket" primary></fragment>` +
				`<fragment id="recos" src="team:/recos" async></fragment>` + fdTail,
		},
		pages:   "  - path: /\n    layout: p.html\n  - path: /async\n    layout: a.html",
		gateway: "  - prefix: /api/\n    service: team",
		opts:    composer.Options{AccessLog: true},
		logger:  slog.New(slog.NewJSONHandler(io.Discard, nil)),
		wrap: func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var mark byte
				at := uintptr(unsafe.Pointer(&mark))
				h.ServeHTTP(w, r)
				moved <- uintptr(unsafe.Pointer(&mark)) != at
			})
		},
	})
	// whole reports whether body is what path answers whole.
	whole := func(body string) bool {
		if strings.HasPrefix(path, "/api/") {
			return body == box
		}
		return strings.Count(body, box) == 4 && strings.Contains(body, "layout-end")
	}

	type conn struct {
		net.Conn
		r *bufio.Reader
	}
	cs := make([]conn, stackConns)
	for i := range cs {
		c, err := net.DialTimeout("tcp", fd.addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cs[i] = conn{c, bufio.NewReader(c)}
	}
	// round makes one request on each connection, one after the other,
	// and counts the requests whose stack moved.
	round := func() (n int) {
		t.Helper()
		for _, c := range cs {
			c.SetDeadline(time.Now().Add(10 * time.Second))
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: shop.test\r\nUser-Agent: stack-test\r\n\r\n", path)
			resp, err := http.ReadResponse(c.r, nil)
			if err != nil {
				t.Fatalf("reading %s: %v", path, err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK || !whole(string(body)) {
				t.Fatalf("%s: status %d, %d bytes, %v; want 200 and all of it", path, resp.StatusCode, len(body), err)
			}
			if <-moved { // the handler has returned
				n++
			}
		}
		return n
	}
	round() // the connections' stacks grow to what a request needs
	round() // the cached boxes are hits now
	if hits := fd.team.Hits(); hits != int64(wantHits) {
		t.Fatalf("the team got %d requests; want %d", hits, wantHits)
	}

	// No GC but ours from here on: a GC during a request could halve a
	// stack there too. Ours runs once every connection waits for its
	// next request: a goroutine the GC finds running has its stack
	// halved later, at its next safe point, which could be in a request.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	waitConnsIdle(t)
	runtime.GC()
	runtime.GC()
	if n := round(); n > 0 {
		t.Errorf("%d of %d requests for %s after a GC moved their goroutine's stack: the request outgrew the stack a GC leaves a waiting connection (see \"Stack budget\" in package composer's doc)", n, stackConns, path)
	}
}

// waitConnsIdle waits until no goroutine of Go's server is serving a
// request: each one that serves a connection is parked, reading the
// next request.
func waitConnsIdle(t *testing.T) {
	t.Helper()
	buf := make([]byte, 1<<20)
	teamtest.WaitUntil(t, "every server connection waits for a request", func() bool {
		for g := range strings.SplitSeq(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if strings.Contains(g, "net/http.(*conn).serve(") && !strings.Contains(g, "[IO wait") {
				return false
			}
		}
		return true
	})
}
