package frontdoor_test

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/inlayhq/inlay/composer/frontdoor"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// writeCounter counts the writes made to the connections it accepts.
type writeCounter struct {
	net.Listener
	writes *atomic.Int64
}

func (l writeCounter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countedConn{c, l.writes}, nil
}

type countedConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countedConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// A response held with Hold leaves in one write, headers and a body of
// more than Go's 4 KiB connection buffer together; without Hold the same
// response takes two.
func TestHoldSendsAWholeResponseInOneWrite(t *testing.T) {
	body := strings.Repeat("<p>box</p>", 1000) // 10 KB
	for _, tc := range []struct {
		name       string
		hold       bool
		wantWrites int64
	}{
		{"held", true, 1},
		{"not held", false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var writes atomic.Int64
			hs := &http.Server{
				Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if tc.hold {
						held := frontdoor.Hold(r)
						defer held.Release()
						if !held.Active() {
							t.Error("Hold on an HTTP/1 request through the front door is not active")
						}
					}
					w.Header().Set("Content-Length", strconv.Itoa(len(body)))
					w.WriteHeader(http.StatusOK)
					_, _ = w.Write([]byte(body))
					_ = http.NewResponseController(w).Flush()
				}),
				ConnContext: frontdoor.ConnContext,
			}
			addr := teamtest.Serve(t, hs, func(ln net.Listener) net.Listener {
				return frontdoor.Listener(writeCounter{ln, &writes})
			})
			resp, got := teamtest.Get(t, "http://"+addr+"/")
			if resp.StatusCode != http.StatusOK || got != body {
				t.Fatalf("status %d, %d bytes; want 200 and the %d-byte body", resp.StatusCode, len(got), len(body))
			}
			if n := writes.Load(); n != tc.wantWrites {
				t.Errorf("writes to the connection: %d, want %d", n, tc.wantWrites)
			}
		})
	}
}

// Hold does nothing for a request that did not come through the front
// door's listener.
func TestHoldElsewhereIsInactive(t *testing.T) {
	r, _ := http.NewRequest(http.MethodGet, "http://shop.test/", nil)
	held := frontdoor.Hold(r)
	if held.Active() {
		t.Error("Hold is active without the front door's connection")
	}
	if err := held.Release(); err != nil {
		t.Errorf("Release: %v", err)
	}
}
