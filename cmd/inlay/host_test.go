package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/fragments/shared/redistest"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// syncBuffer is a bytes.Buffer that a server's goroutines and the test
// may use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serveLogs starts serve on cfg until it accepts requests, stops it, and
// returns its JSON log records.
func serveLogs(t *testing.T, cfg *config.Config) []map[string]any {
	t.Helper()
	var logs syncBuffer
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	up := make(chan string, 1)
	go func() {
		served <- serve(ctx, cfg, nil, slog.New(slog.NewJSONHandler(&logs, nil)), func(addr string) { up <- addr })
	}()
	select {
	case <-up:
	case err := <-served:
		t.Fatalf("serve: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start within 10s")
	}
	stop()
	if err := <-served; err != nil {
		t.Fatalf("serve: %v", err)
	}
	var records []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		records = append(records, rec)
	}
	return records
}

// S5: serve logs a WARN when neither public_url nor hosts is set, except
// in dev mode, where the shop runs on the developer's laptop.
func TestServeWarnsWithoutPublicURLOrHosts(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/main": {Body: "<p>main</p>"}})
	cases := []struct {
		name, extra string
		dev, warn   bool
	}{
		{"neither", "", false, true},
		{"public_url", "public_url: https://shop.example\n", false, false},
		{"hosts", "hosts: [shop.example]\n", false, false},
		{"neither, in dev mode", "", true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path, _ := teamtest.Shop{
				Extra:    "listen: 127.0.0.1:0\ndrain_delay: 1ms\nlayouts: layouts\n" + tc.extra,
				Services: map[string]string{"team": team.URL},
				Pages:    "  - path: /\n    layout: p.html",
				Layouts:  map[string]string{"layouts/p.html": `<fragment src="team:/main" primary></fragment>`},
			}.Write(t)
			cfg, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Dev = tc.dev
			warned := false
			for _, rec := range serveLogs(t, cfg) {
				if rec["level"] == "WARN" && rec["msg"] == "config warning" {
					problem, _ := rec["problem"].(string)
					if !strings.Contains(problem, "neither public_url nor hosts is set") || !strings.HasPrefix(problem, path+":1:1: ") {
						t.Errorf("config warning %q, want the public_url warning at %s:1:1", problem, path)
					}
					warned = true
				}
			}
			if warned != tc.warn {
				t.Errorf("config warning logged: %t, want %t", warned, tc.warn)
			}
		})
	}
}

// S7: inlay serve refuses a debug token anyone could guess, naming
// $.debug_token's line and how to make a good one; it never starts.
func TestServeRefusesAWeakDebugToken(t *testing.T) {
	for _, token := range []string{"1", "true", "changeme", "changemechangeme"} {
		t.Run(token, func(t *testing.T) {
			path, _ := teamtest.Shop{
				Extra:    "listen: 127.0.0.1:0\npublic_url: https://shop.example\ndebug_token: " + token + "\n",
				Services: map[string]string{"team": "http://127.0.0.1:9"},
				Pages:    "  - path: /\n    layout: p.html",
				Layouts:  map[string]string{"p.html": `<fragment src="team:/main" primary></fragment>`},
			}.Write(t)
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			code := run(ctx, []string{"serve", "--config", path}, &stdout, &stderr)
			if code != 1 {
				t.Fatalf("inlay serve with debug_token %q: exit %d, want 1", token, code)
			}
			msg := stderr.String()
			if !strings.Contains(msg, "debug_token is too easy to guess") || !strings.Contains(msg, "openssl rand -hex 16") || !strings.Contains(msg, path+":") {
				t.Errorf("inlay serve with debug_token %q: stderr %q, want the debug_token problem at its line", token, msg)
			}
		})
	}
}

// The demo shop's config answers on the loopback names, in dev mode and
// out of it, with its allowlist; the probes answer on any host.
func TestDemoConfigAnswersOnLoopback(t *testing.T) {
	cfg, err := config.Load("../../layouts/inlay.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if ws := cfg.Warnings(); len(ws) > 0 {
		t.Errorf("the demo config has warnings: %v", ws)
	}
	for _, dev := range []bool{false, true} {
		cfg.Dev = dev
		a := cfg.AllowedHosts()
		for _, host := range []string{"localhost:8080", "127.0.0.1:8080"} {
			if !a.Allows(host) {
				t.Errorf("dev %t: Host %s refused", dev, host)
			}
		}
		if a.Allows("evil.example") {
			t.Errorf("dev %t: Host evil.example allowed", dev)
		}
	}
}

// S5: without public_url or hosts, an attack's Host keys its own entry in
// the shared tier too: a page through replica A naming evil.example never
// reaches a shopper of replica B, which starts after it and reads the
// tier first.
func TestSharedTierCarriesNoShoppersHost(t *testing.T) {
	rs := redistest.Start(t)
	var hits atomic.Int64
	team := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		teamtest.Fragment(`<script src="`+r.Header.Get("X-Inlay-Base-URL")+`/app.js"></script>`, "public, max-age=60")(w, r)
	})
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(addr, host string) pageLoad {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/p/1", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return pageLoad{status: resp.StatusCode, body: string(body), timing: resp.Header.Get("Server-Timing")}
	}
	a := startReplicaWith(t, team.URL, rs.URL(""), exactSharedTimeout, "")
	if p := get(a.addr, "evil.example"); p.status != http.StatusOK || !strings.Contains(p.body, "http://evil.example/app.js") {
		t.Fatalf("the attack through A: %d %q", p.status, p.body)
	}
	b := startReplicaWith(t, team.URL, rs.URL(""), exactSharedTimeout, "")
	for i := range 2 {
		p := get(b.addr, "shop.example")
		if p.status != http.StatusOK || strings.Contains(p.body, "evil") || !strings.Contains(p.body, `<script src="http://shop.example/app.js">`) {
			t.Fatalf("shopper %d through B: %d %q, want the page with shop.example's link", i+1, p.status, p.body)
		}
	}
	// The shopper's copy is shared as before: A serves it from the tier.
	if p := get(a.addr, "shop.example"); !strings.Contains(p.body, `<script src="http://shop.example/app.js">`) {
		t.Errorf("shopper through A: %q", p.body)
	}
	if n := hits.Load(); n != 2 {
		t.Errorf("team fetches: got %d, want 2 (the attack's host and the shop's)", n)
	}
}
