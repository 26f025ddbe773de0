package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inlayhq/inlay/teams/teamtest"
)

// varnishdPath finds Varnish's daemon. In CI a missing varnishd is a
// failure, elsewhere the test is skipped and says so.
func varnishdPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("varnishd"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/varnishd"); err == nil {
		return "/usr/sbin/varnishd" // Debian's, outside a user's PATH
	}
	if os.Getenv("CI") != "" {
		t.Fatal("varnishd is not installed: .ci/run must install it")
	}
	t.Skip("varnishd is not installed: skipping the cache-in-front test (apt-get install varnish to run it)")
	return ""
}

// startVarnish runs varnishd, with its built-in VCL and one backend,
// backendURL, on a free loopback port until the test ends, and returns
// its URL once it answers.
func startVarnish(t *testing.T, backendURL string) string {
	t.Helper()
	bin := varnishdPath(t)
	u, err := url.Parse(backendURL)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	vcl := filepath.Join(dir, "front.vcl")
	// Only the backend: everything else is the built-in VCL's.
	src := fmt.Sprintf("vcl 4.1;\nbackend inlay { .host = \"127.0.0.1\"; .port = %q; }\n", u.Port())
	if err := os.WriteFile(vcl, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	// In the foreground (-F), as the test's user (-j none), with no
	// management port (-T none).
	cmd := exec.CommandContext(ctx, bin, "-F", "-j", "none", "-T", "none",
		"-a", addr, "-f", vcl, "-n", filepath.Join(dir, "work"), "-s", "malloc,32m")
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) } // the manager stops its child
	cmd.WaitDelay = 10 * time.Second
	var out teamtest.Logs
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting varnishd: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	front := "http://" + addr
	deadline := time.Now().Add(60 * time.Second) // it compiles the VCL with cc first
	for {
		resp, err := http.Get(front + "/-/health")
		if err == nil {
			resp.Body.Close()
			return front
		}
		select {
		case err := <-exited:
			t.Fatalf("varnishd ended: %v\n%s", err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("varnishd does not answer on %s: %v\n%s", addr, err, out.String())
		}
	}
}

// varnishHit reports whether Varnish answered resp from its cache: its
// X-Varnish header then holds two ids, this request's and the stored
// answer's.
func varnishHit(resp *http.Response) bool {
	return len(strings.Fields(resp.Header.Get("X-Varnish"))) == 2
}

// TestCacheInFront puts a real Varnish, with its built-in VCL, in front of
// the demo shop, as many shops run a cache in front of their entry point
// (fault matrix row C13). Every page comes through it whole, each time,
// and composed afresh: Varnish stores no page. The basket page is the
// case that once failed: its primary is fetched for every shopper while
// the header's stylesheet is cached, the moment Inlay sent a 103 Early
// Hints, which Varnish 7 takes for the final answer and turns into a 503.
// The teams' versioned assets, which a shared cache may store, are served
// from Varnish the second time.
func TestCacheInFront(t *testing.T) {
	front := startVarnish(t, startDemo(t))
	pages := []struct {
		path string
		want []string // data-testid values of boxes from each team the page shows
	}{
		{"/", []string{"shell-nav", "featured", "mini-basket", "shell-footer"}},
		{"/basket", []string{"shell-nav", "basket-page", "shell-footer"}},
		{"/search?q=sneaker", []string{"shell-nav", "search-results", "shell-footer"}},
		{"/product/sneaker-01", []string{"shell-nav", "product-detail", "add-to-basket", "shell-footer"}},
	}
	var home string
	for _, p := range pages {
		seen := map[string]bool{}
		for visit := 1; visit <= 2; visit++ { // the second visit finds the team's cacheable boxes in Inlay's cache
			resp, body := teamtest.Get(t, front+p.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s, visit %d, through Varnish: status %d, want 200\n%s", p.path, visit, resp.StatusCode, body)
			}
			for _, id := range p.want {
				if !strings.Contains(body, `data-testid="`+id+`"`) {
					t.Errorf("%s, visit %d, through Varnish: no %q box", p.path, visit, id)
				}
			}
			if !strings.HasSuffix(strings.TrimSpace(body), "</html>") {
				t.Errorf("%s, visit %d, through Varnish: the page is cut short: ends %q", p.path, visit, body[max(0, len(body)-80):])
			}
			if varnishHit(resp) {
				t.Errorf("%s, visit %d: Varnish served a stored page (X-Varnish %q); pages are per shopper", p.path, visit, resp.Header.Get("X-Varnish"))
			}
			id := resp.Header.Get("X-Request-Id")
			if id == "" || seen[id] {
				t.Errorf("%s, visit %d: X-Request-Id %q, want one of its own: the page composed afresh", p.path, visit, id)
			}
			seen[id] = true
			if p.path == "/" {
				home = body
			}
		}
	}

	// The probes say how this process stands now: never from the cache.
	for _, probe := range []string{"/-/health", "/-/ready"} {
		for visit := 1; visit <= 2; visit++ {
			resp, _ := teamtest.Get(t, front+probe)
			if resp.StatusCode != http.StatusOK || varnishHit(resp) {
				t.Errorf("%s, visit %d, through Varnish: status %d, X-Varnish %q: want 200, not from the cache", probe, visit, resp.StatusCode, resp.Header.Get("X-Varnish"))
			}
		}
	}

	css := regexp.MustCompile(`href="(/shell/static/[^"]+\.css\?v=[^"]+)"`).FindStringSubmatch(home)
	if css == nil {
		t.Fatalf("the home page links no versioned shell stylesheet:\n%s", home)
	}
	for visit, wantHit := range []bool{false, true} {
		resp, body := teamtest.Get(t, front+css[1])
		if resp.StatusCode != http.StatusOK || body == "" {
			t.Fatalf("%s through Varnish: status %d, %d bytes", css[1], resp.StatusCode, len(body))
		}
		if varnishHit(resp) != wantHit {
			t.Errorf("%s, visit %d: served from Varnish's cache %v, want %v (X-Varnish %q, Cache-Control %q)",
				css[1], visit+1, varnishHit(resp), wantHit, resp.Header.Get("X-Varnish"), resp.Header.Get("Cache-Control"))
		}
	}
}
