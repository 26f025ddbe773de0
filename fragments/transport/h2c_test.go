package transport

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// newH2CServer starts a server that speaks only h2c (HTTP/2 without TLS,
// prior knowledge): an HTTP/1.1 request to it fails. Its handler answers
// with the protocol the request came over, and it counts the connections
// it accepted.
func newH2CServer(tb testing.TB) (*teamtest.Team, *atomic.Int64) {
	tb.Helper()
	var conns atomic.Int64
	srv := teamtest.NewUnstarted(tb, nil)
	srv.Set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<p>HTTP/%d</p>", r.ProtoMajor)
	})
	srv.SpeakOnlyH2C()
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	return srv, &conns
}

// The h2c transport fetches over HTTP/2 from a server that speaks only
// h2c, and concurrent fetches share its connection; the HTTP/1.1
// transport cannot fetch from it at all.
func TestH2CTransportFetchesOverHTTP2(t *testing.T) {
	t.Parallel()
	srv, conns := newH2CServer(t)
	h2c := NewH2CTransport()
	t.Cleanup(h2c.CloseIdleConnections)
	c := &Client{Transport: h2c}

	// One fetch first: requests racing for a service with no connection
	// yet each dial, and all connections but one are closed at once.
	if _, err := c.Fetch(context.Background(), fragmentRequest(srv.URL+"/f", safetyTimeout)); err != nil {
		t.Fatalf("first fetch: %v", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			resp, err := c.Fetch(context.Background(), fragmentRequest(srv.URL+"/f", safetyTimeout))
			switch {
			case err != nil:
				errs <- err
			case string(resp.Body) != "<p>HTTP/2</p>":
				errs <- fmt.Errorf("body %q, want <p>HTTP/2</p>", resp.Body)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("connections: got %d, want 1 for 20 concurrent fetches", n)
	}

	req := fragmentRequest(srv.URL+"/f", safetyTimeout)
	resp, err := newClient(t, 0).Fetch(context.Background(), req)
	wantKind(t, resp, err, req, fetch.KindConnect)
}

// The policy's h2c transport applies the policy as the HTTP/1.1 one does.
func TestDialPolicyH2CTransport(t *testing.T) {
	t.Parallel()
	srv, _ := newH2CServer(t)
	addr := srv.Listener.Addr().String()

	refused := NewDialPolicy(nil).NewH2CTransport()
	t.Cleanup(refused.CloseIdleConnections)
	req := fragmentRequest(srv.URL+"/f", safetyTimeout)
	resp, err := (&Client{Transport: refused}).Fetch(context.Background(), req)
	if fe := wantKind(t, resp, err, req, fetch.KindConnect); !strings.Contains(fe.Error(), "dial policy") {
		t.Errorf("error: got %q, want it to name the dial policy", fe)
	}

	allowed := NewDialPolicy([]string{addr}).NewH2CTransport()
	t.Cleanup(allowed.CloseIdleConnections)
	resp, err = (&Client{Transport: allowed}).Fetch(context.Background(), fragmentRequest(srv.URL+"/f", safetyTimeout))
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if string(resp.Body) != "<p>HTTP/2</p>" {
		t.Errorf("body: got %q, want <p>HTTP/2</p>", resp.Body)
	}
}
