package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestStartFloorDefaults runs the floor program as the one-service
// scenario runs its three programs, in front of the benchmark's stub: bare,
// its page has none of Inlay's headers; with -defaults (startFloor's
// extra arguments), it has Inlay's (a request id, Cache-Control: private,
// no-cache) and the page's access-log line reaches the floor's log; with
// -cached, the page is whole and no page fetches from the stub.
func TestStartFloorDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin, err := buildFloor(ctx, filepath.Join("..", ".."), dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := startStub(cacheNoStore, false, true, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	upstream := st.Addr(oneServiceName)
	for _, tc := range []struct {
		name     string
		args     []string
		defaults bool
		fetches  bool // each page fetches its fragments
	}{
		{"bare", nil, false, true},
		{"defaults", []string{"-defaults"}, true, true},
		{"cached", []string{"-cached"}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, err := freeLoopbackAddr()
			if err != nil {
				t.Fatal(err)
			}
			logPath := filepath.Join(dir, tc.name+".log")
			p, err := startFloor(ctx, bin, addr, upstream, logPath, nil, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer p.stop()
			f0 := st.Fetches()
			if _, err := checkPage(ctx, p.url(pagePath), fragmentMarkers()); err != nil {
				t.Fatal(err)
			}
			if fetched := st.Fetches() - f0; (fetched > 0) != tc.fetches {
				t.Fatalf("the page fetched %d fragments from the stub: want fetches %t", fetched, tc.fetches)
			}
			resp, err := http.Get(p.url(pagePath))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			id, cc := resp.Header.Get("X-Request-Id"), resp.Header.Get("Cache-Control")
			if tc.defaults != (len(id) == 24) || tc.defaults != (cc == "private, no-cache") {
				t.Fatalf("X-Request-Id %q, Cache-Control %q: want Inlay's page headers %t", id, cc, tc.defaults)
			}
			if !tc.defaults {
				return
			}
			// The access log is written every 200 ms.
			waitFor(ctx, t, "the access-log line of request "+id, func() bool {
				b, _ := os.ReadFile(logPath)
				return bytes.Contains(b, []byte(`"request_id":"`+id+`"`))
			})
		})
	}
}
