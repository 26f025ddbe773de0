package frontdoor_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlayhq/inlay/composer/frontdoor"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// serve starts next behind the front door on 127.0.0.1 and returns its
// address and how many requests reached next.
func serve(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	hits := &atomic.Int64{}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	})
	hs := &http.Server{
		Handler:           frontdoor.CheckFraming(next),
		ReadHeaderTimeout: 5 * time.Second,
		MaxHeaderBytes:    frontdoor.MaxRequestHead - frontdoor.HeadSlack,
		ConnContext:       frontdoor.ConnContext,
		ConnState:         frontdoor.ConnState,
	}
	return teamtest.Serve(t, hs, frontdoor.Listener), hits
}

// TestCheckFraming sends raw request heads and checks the verdict: the
// status, whether the connection is closed after it, and whether the
// handler behind the door ran.
func TestCheckFraming(t *testing.T) {
	tests := []struct {
		name      string
		request   string
		status    int
		close     bool
		reachNext bool
	}{
		{"plain GET", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusOK, false, true},
		{"CL and TE: served, then closed", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", http.StatusOK, true, true},
		{"TE on HTTP/1.0", "POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", http.StatusBadRequest, true, false},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\n\r\n", http.StatusBadRequest, true, false},
		{"head over the cap", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", frontdoor.MaxRequestHead) + "\r\n\r\n", http.StatusRequestHeaderFieldsTooLarge, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, hits := serve(t)
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(c, tt.request); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("reading the answer: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if resp.Close != tt.close {
				t.Errorf("connection closed after it: %v, want %v", resp.Close, tt.close)
			}
			if got := hits.Load() > 0; got != tt.reachNext {
				t.Errorf("reached the handler: %v, want %v", got, tt.reachNext)
			}
		})
	}
}
