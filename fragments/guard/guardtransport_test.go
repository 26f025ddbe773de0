package guard

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/inlayhq/inlay/fragments/internal/stagetest"
	"github.com/inlayhq/inlay/fragments/transport"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// Gateway requests go through the service's breaker and limit: 5xx
// answers open the breaker, which then refuses without a request; a slot
// is held until the response body is closed; a request the shopper
// cancelled is not the service's failure.
func TestGatewayTransportIsGuarded(t *testing.T) {
	var status atomic.Int64
	status.Store(500)
	var calls atomic.Int64
	hanging := make(chan struct{}, 1)
	srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.URL.Path == "/hang" {
			hanging <- struct{}{}
			<-r.Context().Done()
			return
		}
		w.WriteHeader(int(status.Load()))
		io.WriteString(w, "body")
	})
	tr := transport.NewTransport()
	defer tr.CloseIdleConnections()
	g := guardedBy(nil, func(string) Config { return Config{Failures: 3, MaxConcurrent: 1} }, nil, stagetest.DiscardLogger())
	rt := g.RoundTripper("basket", tr)
	do := func(ctx context.Context, path string) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		return rt.RoundTrip(req)
	}

	// A cancelled request does not count.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-hanging // the request is at the service
		cancel()
	}()
	if _, err := do(ctx, "/hang"); err == nil {
		t.Fatal("cancelled request: got no error")
	}
	if c := g.Counts("basket"); c.TotalFailures != 0 {
		t.Errorf("after a cancelled request: got %d failures, want 0", c.TotalFailures)
	}

	for i := range 3 {
		resp, err := do(context.Background(), "/x")
		if err != nil || resp.StatusCode != 500 {
			t.Fatalf("request %d: got %v, %v; want the 500 passed on", i, resp, err)
		}
		resp.Body.Close()
	}
	before := calls.Load()
	if _, err := do(context.Background(), "/x"); !errors.Is(err, ErrBreakerOpen) {
		t.Errorf("with the breaker open: got %v, want ErrBreakerOpen", err)
	}
	if calls.Load() != before {
		t.Error("a request reached the service while its breaker was open")
	}

	// The slot is the service's work until the headers: a response whose
	// body is still open does not hold it.
	g2 := guardedBy(nil, func(string) Config { return Config{MaxConcurrent: 1} }, nil, stagetest.DiscardLogger())
	rt2 := g2.RoundTripper("basket", tr)
	status.Store(200)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/x", nil)
	first, err := rt2.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Body.Close()
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/x", nil)
	second, err := rt2.RoundTrip(req)
	if err != nil {
		t.Fatalf("second request while the first body is open: %v", err)
	}
	second.Body.Close()
}
