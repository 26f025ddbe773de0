package transport

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A Config.Dial makes every connection, for the transport New picks
// without it (the lean client for a plain-http service on Unix) and for
// the gateway's pool alike, and the dial policy still applies: an IP
// address it refuses is never dialled, and a connection that reached
// one, whatever name was dialled (DNS rebinding), is closed before a byte
// is sent. A connection with no IP address reaches no address the policy
// guards.
func TestConfigDialIsUsedUnderTheDialPolicy(t *testing.T) {
	team := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<p>"+r.URL.Path+"</p>")
	}))
	defer team.Close()
	teamURL, _ := url.Parse(team.URL)
	// toTeam dials the team's loopback listener, whatever address it is
	// asked for: a name that resolves to loopback.
	toTeam := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, teamURL.Host)
	}
	// overPipe reaches the team through an in-memory pipe.
	overPipe := func(_ context.Context, _, _ string) (net.Conn, error) {
		client, server := net.Pipe()
		go func() {
			defer server.Close()
			conn, err := net.Dial("tcp", teamURL.Host)
			if err != nil {
				return
			}
			defer conn.Close()
			go func() {
				io.Copy(conn, server)
				conn.(*net.TCPConn).CloseWrite()
			}()
			io.Copy(server, conn)
		}()
		return client, nil
	}
	cases := []struct {
		name    string
		service string // the service's URL: the address the policy allows
		target  string // the fragment's URL
		dial    func(ctx context.Context, network, addr string) (net.Conn, error)
		// refused is the policy's error, or "" when the fetch is served.
		refused string
		dialled bool // whether dial is called
	}{
		{name: "the service's own loopback address", service: team.URL, target: team.URL + "/a", dial: toTeam, dialled: true},
		{name: "a name that reached loopback", service: "http://box.test", target: "http://box.test/a", dial: toTeam, refused: "loopback address", dialled: true},
		{name: "a refused address is never dialled", service: "http://box.test", target: "http://169.254.169.254/a", dial: toTeam, refused: "link-local address"},
		{name: "a pipe", service: "http://box.test", target: "http://box.test/a", dial: overPipe, dialled: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var dials atomic.Int64
			dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
				dials.Add(1)
				return tc.dial(ctx, network, addr)
			}
			u, _ := url.Parse(tc.service)
			cfg := Config{URL: u, Dial: dial}
			tr := New(cfg)
			defer tr.Retire()
			if _, lean := tr.(*lean); lean != rawReads {
				t.Errorf("New with a Dial: lean client %v, want %v (as without it)", lean, rawReads)
			}
			resp, err := tr.Fetch(context.Background(), fragmentRequest(tc.target, 10*time.Second))
			switch {
			case tc.refused == "" && err != nil:
				t.Errorf("fetch: %v, want it served", err)
			case tc.refused == "" && string(resp.Body) != "<p>/a</p>":
				t.Errorf("fetch: got %q, want %q", resp.Body, "<p>/a</p>")
			case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused)):
				t.Errorf("fetch: got %v, want refused as a %s", err, tc.refused)
			}
			if got := dials.Load() > 0; got != tc.dialled {
				t.Errorf("dialled: got %v, want %v", got, tc.dialled)
			}

			// The gateway's pool, net/http's transport, dials the same way.
			dials.Store(0)
			pool := NewPool(cfg)
			defer pool.Retire()
			req, _ := http.NewRequest(http.MethodGet, tc.target, nil)
			hresp, err := pool.RoundTrip(req)
			if err == nil {
				hresp.Body.Close()
			}
			switch {
			case tc.refused == "" && err != nil:
				t.Errorf("gateway request: %v, want it served", err)
			case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused)):
				t.Errorf("gateway request: got %v, want refused as a %s", err, tc.refused)
			}
			if got := dials.Load() > 0; got != tc.dialled {
				t.Errorf("gateway dialled: got %v, want %v", got, tc.dialled)
			}
		})
	}
}
