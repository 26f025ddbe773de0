package main

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/inlayhq/inlay/teams/teamtest"
)

// Tests of what sits in front of Inlay in production: a cache (Varnish)
// and a proxy (nginx), each a real one started by the test.

// startFront runs a front's server, bin with args, until the test ends,
// and returns its URL, http://addr, once path answers there. Its output
// is shown when it fails to start.
func startFront(t *testing.T, addr, path, bin string, args ...string) string {
	t.Helper()
	out := new(teamtest.Logs)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) } // varnishd's manager stops its child
	cmd.WaitDelay = 10 * time.Second
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-exited
	})
	front := "http://" + addr
	deadline := time.Now().Add(60 * time.Second) // varnishd compiles its VCL with cc first
	for {
		resp, err := http.Get(front + path)
		if err == nil {
			resp.Body.Close()
			return front
		}
		select {
		case err := <-exited:
			t.Fatalf("%s ended: %v\n%s", bin, err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not answer on %s: %v\n%s", bin, addr, err, out.String())
		}
	}
}

// startVarnish runs varnishd, with its built-in VCL and one backend,
// backendURL, on a free loopback port until the test ends, and returns
// its URL once it answers.
func startVarnish(t *testing.T, backendURL string) string {
	t.Helper()
	bin := toolPath(t, "varnish", "varnishd", "/usr/sbin/varnishd") // Debian puts it outside a user's PATH
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
	// In the foreground (-F), as the test's user (-j none), with no
	// management port (-T none).
	return startFront(t, addr, "/-/health", bin, "-F", "-j", "none", "-T", "none",
		"-a", addr, "-f", vcl, "-n", filepath.Join(dir, "work"), "-s", "malloc,32m")
}

// startNginx runs nginx, as a reverse proxy to backendURL with gzip on
// and every other setting nginx's default (it buffers what it proxies,
// and asks the backend over HTTP/1.0), on a free loopback port until the
// test ends, and returns its URL.
func startNginx(t *testing.T, backendURL string) string {
	t.Helper()
	bin := toolPath(t, "nginx", "nginx", "/usr/sbin/nginx")
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	addr := freeAddr(t)
	var b strings.Builder
	// One process, in the foreground, as the test's user.
	fmt.Fprintf(&b, "daemon off;\nmaster_process off;\npid %s;\nerror_log %s warn;\nevents {}\nhttp {\n    access_log off;\n", p("nginx.pid"), p("error.log"))
	for _, tmp := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&b, "    %s_temp_path %s;\n", tmp, p("temp-"+tmp))
	}
	fmt.Fprintf(&b, "    gzip on;\n    server {\n        listen %s;\n        location / {\n            proxy_pass %s;\n        }\n    }\n}\n", addr, backendURL)
	if err := os.WriteFile(p("nginx.conf"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return startFront(t, addr, "/-/health", bin, "-p", dir, "-e", p("error.log"), "-c", p("nginx.conf"))
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

// TestPageStreamsThroughTheFront puts each front in turn before Inlay
// (fault matrix row C13): Varnish with its built-in VCL, and nginx with
// gzip on and its other defaults. Through each, the page's head and first
// box reach the shopper while a later box is held, compressed through
// nginx. nginx with gzip holds what it proxies until its buffers fill or
// the answer ends, which for a page is its slowest box; Inlay's pages say
// X-Accel-Buffering: no, which nginx honours.
func TestPageStreamsThroughTheFront(t *testing.T) {
	for _, tc := range []struct {
		name     string
		start    func(t *testing.T, backendURL string) string
		encoding string // the page's Content-Encoding when the shopper takes gzip
	}{
		{"varnish", startVarnish, ""},
		{"nginx with gzip", startNginx, "gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gate := make(chan struct{})
			var once sync.Once
			release := func() { once.Do(func() { close(gate) }) }
			defer release() // a failing test leaves no box held
			team := teamtest.NewRoutes(t, map[string]teamtest.Route{
				"/top":  {Body: "<p>top</p>"},
				"/slow": {Body: "<p>slow</p>", Gate: gate},
			})
			configPath, _ := teamtest.Shop{
				Extra:          "listen: 127.0.0.1:0\ndrain_delay: 1ms\nlayouts: layouts\n",
				Services:       map[string]string{"team": team.URL},
				ServiceTimeout: "10s",
				Pages:          "  - path: /\n    layout: p.html\n    timeout: 10s",
				Layouts: map[string]string{"layouts/p.html": `<!DOCTYPE html><html><body><fragment src="team:/top" primary></fragment>` +
					`<fragment src="team:/slow"></fragment></body></html>`},
			}.Write(t)
			front := tc.start(t, serveFile(t, configPath, nil))
			encoding, page := readWhileHeld(t, front+"/", "<p>top</p>", release)
			if encoding != tc.encoding || !strings.Contains(page, "<p>top</p><p>slow</p></body></html>") {
				t.Errorf("through %s: Content-Encoding %q, page %q", tc.name, encoding, page)
			}
		})
	}
}

// readWhileHeld gets url, taking gzip, and checks that the decoded page
// shows first before release is called; it then calls release and
// returns the page's Content-Encoding and its decoded body.
func readWhileHeld(t *testing.T, url, first string, release func()) (encoding, page string) {
	t.Helper()
	head, whole := make(chan struct{}), make(chan error, 1)
	var body strings.Builder
	go func() {
		whole <- func() error {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.Header.Set("Accept-Encoding", "gzip")
			resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			encoding = resp.Header.Get("Content-Encoding")
			var r io.Reader = resp.Body
			if encoding == "gzip" {
				if r, err = gzip.NewReader(resp.Body); err != nil {
					return err
				}
			}
			buf := make([]byte, 4096)
			for seen := false; ; {
				n, err := r.Read(buf)
				body.Write(buf[:n])
				if !seen && strings.Contains(body.String(), first) {
					seen = true
					close(head)
				}
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return err
				}
			}
		}()
	}()
	select {
	case <-head:
	case err := <-whole:
		release()
		t.Fatalf("the page ended before its held box was let go: %v\n%s", err, body.String())
	case <-time.After(10 * time.Second): // a guard: the head comes at once when the page streams
		t.Errorf("%q did not come while a later box was held: the page was held whole", first)
	}
	release()
	select {
	case err := <-whole:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the page did not end")
	}
	return encoding, body.String()
}
