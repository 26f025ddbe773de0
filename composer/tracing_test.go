package composer

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlayhq/inlay/teams/teamtest"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// With tracing, early hints and the cache on, pages whose primary is still
// in flight read their fragments' requests (early hints peek at the cache)
// while the fetches run: the requests are whole before any goroutine sees
// them, so this is race-free under -race. Each fragment request names its
// own fragment span as the parent, and the page and fragment spans are
// exported.
func TestTracingWithEarlyHintsAndPrimaryInFlight(t *testing.T) {
	gate, openGate := newGate()
	defer openGate()
	arrived := make(chan string, 64)
	var parents sync.Map // traceparent parent ids seen by the team
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/main": {Body: "<h1>main</h1>", Gate: gate, Arrived: arrived, Header: map[string]string{"Cache-Control": "no-store"}},
		"/side": {Handler: func(w http.ResponseWriter, r *http.Request) {
			if tp := r.Header.Get("Traceparent"); len(tp) == 55 {
				parents.Store(tp[36:52], true)
			}
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("Link", "</side.css>; rel=stylesheet")
			fmt.Fprint(w, "<p>side</p>")
		}},
	})
	exporter := tracetest.NewInMemoryExporter()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	t.Cleanup(func() { provider.Shutdown(context.Background()) })
	sc := shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts: map[string]string{"p.html": pageHead + `<fragment id="side" src="team:/side"></fragment>` +
			`<fragment id="main" src="team:/main" primary></fragment>` + pageTail},
		pages: "  - path: /\n    layout: p.html",
		extra: patientPage + "early_hints: true\n",
	}
	urls := map[string]string{"team": team.URL}
	cfg, fsys := sc.parse(t, urls)
	logs, logger := sc.logger()
	srv, err := New(cfg, Options{LayoutFS: fsys, Logger: logger, TracerProvider: provider})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	s := &shop{Server: hs, inlay: srv, logs: logs}

	// Warm the cache with the side box, so that early hints have a
	// stylesheet to announce while the primary is held.
	openGate()
	if resp, body := s.get(t, "/"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "<p>side</p>") {
		t.Fatalf("warm-up page: %d %q", resp.StatusCode, body)
	}
	<-arrived
	gate, openGate = newGate()
	route, _ := team.RouteOf("/main")
	route.Gate = gate
	team.Route("/main", route)

	const pages = 8
	var hints atomic.Int64
	hinted := make(chan struct{}, pages)
	var wg sync.WaitGroup
	for range pages {
		wg.Go(func() {
			trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, _ textproto.MIMEHeader) error {
				if code == http.StatusEarlyHints {
					hints.Add(1)
					hinted <- struct{}{}
				}
				return nil
			}}
			req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, s.URL+"/", nil)
			resp, body, err := readAll(http.DefaultClient, req)
			if err != nil || resp.StatusCode != http.StatusOK || body != pageHead+`<link rel="stylesheet" href="/side.css"><p>side</p><h1>main</h1>`+pageTail {
				t.Errorf("page: %v %v %q", resp, err, body)
			}
		})
	}
	for range pages {
		<-arrived // every primary is in flight
	}
	// Each page announces its stylesheet while its primary is held.
	for i := range pages {
		select {
		case <-hinted:
		case <-time.After(10 * time.Second):
			t.Fatalf("103 Early Hints: got %d, want one per page (%d) while the primaries are held", i, pages)
		}
	}
	openGate()
	wg.Wait()
	if n := hints.Load(); n != pages {
		t.Errorf("103 Early Hints: got %d, want one per page (%d)", n, pages)
	}
	spans := exporter.GetSpans()
	fragmentSpans := map[string]bool{}
	var pageSpans int
	for _, sp := range spans {
		switch {
		case strings.HasPrefix(sp.Name, "fragment "):
			fragmentSpans[sp.SpanContext.SpanID().String()] = true
		case strings.HasPrefix(sp.Name, "page "):
			pageSpans++
		}
	}
	if pageSpans != pages+1 {
		t.Errorf("page spans: got %d, want %d", pageSpans, pages+1)
	}
	parents.Range(func(k, _ any) bool {
		if !fragmentSpans[k.(string)] {
			t.Errorf("a fragment request named parent %s, which is no fragment span", k)
		}
		return true
	})
	if n := len(fragmentSpans); n < 2*(pages+1) {
		t.Errorf("fragment spans: got %d, want one per fragment and page (%d)", n, 2*(pages+1))
	}
}
