package main

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inlayhq/inlay/teams/teamtest"
)

// TestNginxConfigUpstreams checks the upstream block: a server line per
// instance, in order, nginx's default round robin (no balancing method),
// and the keep-alive pool.
func TestNginxConfigUpstreams(t *testing.T) {
	for _, tc := range []struct {
		name      string
		upstreams []string
		want      string
	}{
		{"one instance", []string{"127.0.0.1:2"}, "    upstream team {\n        server 127.0.0.1:2;\n        keepalive 1024;\n    }\n"},
		{"four instances", []string{"127.0.0.2:9", "127.0.0.3:9", "127.0.0.4:9", "127.0.0.5:9"},
			"    upstream team {\n        server 127.0.0.2:9;\n        server 127.0.0.3:9;\n        server 127.0.0.4:9;\n        server 127.0.0.5:9;\n" +
				"        keepalive 1024;\n    }\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := nginxConfig(nginxSettings{Prefix: "/tmp/x", Listen: "127.0.0.1:1", Upstreams: tc.upstreams})
			if !strings.Contains(conf, tc.want) {
				t.Errorf("config lacks the upstream block\n%s\nin:\n%s", tc.want, conf)
			}
			if n := strings.Count(conf, "upstream "); n != 1 {
				t.Errorf("%d upstream blocks, want 1", n)
			}
		})
	}
}

func TestNginxConfig(t *testing.T) {
	s := nginxSettings{Prefix: "/tmp/x", Listen: "127.0.0.1:1", Upstreams: []string{"127.0.0.1:2"}, Backlog: 4096}
	plain := nginxConfig(s)
	s.Cached = true
	cached := nginxConfig(s)
	for _, want := range []string{
		"daemon off;", "master_process on;", "worker_processes auto;", "error_log /tmp/x/error.log",
		"ssi on;", "keepalive 1024;", "server 127.0.0.1:2;", "listen 127.0.0.1:1 backlog=4096;",
		"proxy_http_version 1.1;", `proxy_set_header Connection "";`, "internal;",
		"proxy_temp_path /tmp/x/temp-proxy;", "alias /tmp/x/page.html;",
	} {
		for name, conf := range map[string]string{"plain": plain, "cached": cached} {
			if !strings.Contains(conf, want) {
				t.Errorf("%s config lacks %q", name, want)
			}
		}
	}
	if strings.Contains(plain, "proxy_cache") {
		t.Error("the no-store config caches")
	}
	for _, want := range []string{"proxy_cache fragments;", "proxy_cache_key $scheme$proxy_host$uri$is_args$args;", "keys_zone=fragments:"} {
		if !strings.Contains(cached, want) {
			t.Errorf("cached config lacks %q", want)
		}
	}
	if strings.Contains(plain, "user ") {
		t.Error("a user directive without a user set")
	}
	page := nginxPageHTML()
	for _, f := range fragmentSpecs {
		if want := `<!--# include virtual="/frag/` + f.Name + `" -->`; !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// TestNginxPeer runs the real nginx (when installed) in front of the real
// stub service: the page has every fragment in order, no-store fragments
// are fetched for every page, and cacheable ones are served from
// proxy_cache once it holds them.
func TestNginxPeer(t *testing.T) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx not installed (Debian package nginx)")
	}
	for _, tc := range []struct {
		name         string
		cacheControl string
		cached       bool
	}{
		{"no-store", cacheNoStore, false},
		{"proxy_cache", cacheCacheable, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			st, err := startStub(tc.cacheControl, false, true, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			addr, err := freeLoopbackAddr()
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			upstream := st.Addr(oneServiceName)
			p, err := startNginx(ctx, bin, dir, nginxSettings{Listen: addr, Upstreams: []string{upstream}, Cached: tc.cached})
			if err != nil {
				t.Fatal(err)
			}
			defer p.stop()
			getPage := func() {
				t.Helper()
				resp, body := teamtest.Get(t, p.url(pagePath))
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d", resp.StatusCode)
				}
				if !pageComplete([]byte(body), fragmentMarkers()) {
					t.Fatalf("incomplete page:\n%s", body)
				}
			}
			getPage()
			if tc.cached {
				// nginx stores an entry when its upstream request is
				// finalized, which may be just after the page left.
				waitFor(ctx, t, "4 entries in nginx's cache", func() bool { return countFiles(t, filepath.Join(dir, "cache")) == 4 })
			}
			f0 := st.Fetches()
			for range 3 {
				getPage()
			}
			want := int64(12)
			if tc.cached {
				want = 0
			}
			if got := st.Fetches() - f0; got != want {
				t.Errorf("%d fetches for 3 pages, want %d", got, want)
			}
		})
	}
}

// waitFor polls cond until it holds, or fails the test when ctx ends.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-tick.C:
		}
	}
}

// countFiles counts the regular files under dir.
func countFiles(t *testing.T, dir string) int {
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			n++
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return n
}
