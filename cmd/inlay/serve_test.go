package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// I3: the context serve runs under is the one SIGTERM cancels (main uses
// signal.NotifyContext). Cancelling it turns /-/ready to 503 for the drain
// delay while the listener still accepts (and serves) new requests; then
// new connections are refused, and the pages in flight complete with 200
// before serve returns.
func TestServeDrainsInFlightPagesOnShutdown(t *testing.T) {
	const inFlight = 10
	gate := make(chan struct{})
	var openGate sync.Once
	defer openGate.Do(func() { close(gate) }) // a failing test leaves no handler waiting
	arrived := make(chan struct{}, inFlight)
	team := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/slow" {
			http.NotFound(w, r)
			return
		}
		arrived <- struct{}{}
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, "<p>slow %s</p>", r.URL.Query().Get("u"))
	})

	// One key per page, so that each page makes its own fetch and is in
	// flight on its own.
	layout := `<!DOCTYPE html><html><body><fragment src="team:/slow?u={u}" primary></fragment></body></html>`
	configPath, _ := teamtest.Shop{
		Extra:          "listen: 127.0.0.1:0\ndrain_delay: 1s\nlayouts: layouts\n",
		Services:       map[string]string{"team": team.URL},
		ServiceTimeout: "10s",
		Pages:          "  - path: /\n    layout: p.html\n    timeout: 10s",
		Layouts:        map[string]string{"layouts/p.html": layout},
	}.Write(t)
	cfg, err := config.Load(configPath)
	if err != nil {
		t.Fatal(err)
	}

	ctx, sigterm := context.WithCancel(context.Background())
	defer sigterm()
	addrc := make(chan string, 1)
	served := make(chan error, 1)
	go func() {
		served <- serve(ctx, cfg, nil, slog.New(slog.DiscardHandler), func(addr string) { addrc <- addr })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-served:
		t.Fatalf("serve: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start within 10s")
	}

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	type page struct {
		u      int
		status int
		body   string
		err    error
	}
	pages := make(chan page, inFlight)
	for u := range inFlight {
		go func() {
			resp, err := client.Get(fmt.Sprintf("http://%s/?u=%d", addr, u))
			if err != nil {
				pages <- page{u: u, err: err}
				return
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			pages <- page{u, resp.StatusCode, string(body), err}
		}()
	}
	for range inFlight {
		select {
		case <-arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("the pages' fragments were not all fetched")
		}
	}

	sigterm()
	// Draining: a probe sees 503 on a new connection, and a page that
	// needs nothing in flight is still served.
	probe := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	for {
		resp, err := probe.Get("http://" + addr + "/-/ready")
		if err != nil {
			t.Fatalf("/-/ready during the drain delay: %v; want 503 from a listener that still accepts", err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if resp, err := probe.Get("http://" + addr + "/-/health"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("a new request during the drain delay: %v, want it served", err)
	} else {
		resp.Body.Close()
	}
	refusedBy := time.Now().Add(5 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break // refused: the listener is closed
		}
		conn.Close()
		if time.Now().After(refusedBy) {
			t.Fatal("new connections are still accepted 5s after SIGTERM")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-served:
		t.Fatalf("serve returned (%v) with %d pages still in flight", err, inFlight)
	default:
	}

	openGate.Do(func() { close(gate) })
	for range inFlight {
		p := <-pages
		if p.err != nil || p.status != http.StatusOK || !strings.Contains(p.body, fmt.Sprintf("<p>slow %d</p>", p.u)) {
			t.Errorf("page %d in flight at SIGTERM: got %d %q, %v; want 200 with its fragment", p.u, p.status, p.body, p.err)
		}
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("serve: got %v, want nil after a graceful shutdown", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return after the last page was served")
	}
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Error("a connection was accepted after shutdown")
	}
}

// The front door's http.Server has every timeout set: Go's zero values
// mean none, which slow clients exploit (docs/fault-matrix.md, row S1).
func TestHTTPServerHasEveryTimeout(t *testing.T) {
	hs := newHTTPServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": hs.ReadHeaderTimeout,
		"ReadTimeout":       hs.ReadTimeout,
		"WriteTimeout":      hs.WriteTimeout,
		"IdleTimeout":       hs.IdleTimeout,
	} {
		if d <= 0 {
			t.Errorf("%s: got %v, want a limit", name, d)
		}
	}
	if hs.MaxHeaderBytes <= 0 || hs.MaxHeaderBytes > 64<<10 {
		t.Errorf("MaxHeaderBytes: got %d, want set, at most 64 KiB", hs.MaxHeaderBytes)
	}
}
