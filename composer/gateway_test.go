package composer

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlayhq/inlay/teams/teamtest"
)

// gatewayShop starts Inlay with one gateway route /gw/ to team, whose
// route config is extra (like "    timeout: 200ms\n"), behind an
// http.Server with the given total read and write cuts, the way the front
// door sets them. It returns the shop's URL and its observer.
func gatewayShop(t *testing.T, team http.Handler, serviceYAML, routeYAML string, cut time.Duration) (string, *gatewayObserver, *teamtest.Logs) {
	t.Helper()
	ts := teamtest.New(t, team.ServeHTTP)
	sc := shopConfig{
		layouts:     map[string]string{"p.html": pageHead + pageTail},
		pages:       "  - path: /\n    layout: p.html",
		gateway:     "  - prefix: /gw/\n    service: team\n" + routeYAML,
		serviceYAML: map[string]string{"team": serviceYAML},
	}
	cfg, fsys := sc.parse(t, map[string]string{"team": ts.URL})
	logs, logger := sc.logger()
	obs := &gatewayObserver{}
	srv, err := New(cfg, Options{LayoutFS: fsys, Logger: logger, Observer: obs, AccessLog: true})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv)
	hs.Config.ReadTimeout, hs.Config.WriteTimeout = cut, cut
	hs.Start()
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	return hs.URL, obs, logs
}

// gatewayObserver records GatewayDone calls.
type gatewayObserver struct {
	nopObserver
	mu    sync.Mutex
	calls []string // "route status"
}

func (o *gatewayObserver) GatewayDone(route string, status int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, fmt.Sprintf("%s %d", route, status))
}

func (o *gatewayObserver) seen() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.calls...)
}

// A frozen team gets the route's timeout, then the shopper gets
// a 504, and the team's request is cancelled.
func TestGatewayTimesOutWaitingForHeaders(t *testing.T) {
	cancelled := make(chan struct{})
	team := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		close(cancelled)
	})
	url, obs, logs := gatewayShop(t, team, "", "    timeout: 150ms\n", time.Minute)
	start := time.Now()
	resp, err := http.Get(url + "/gw/add")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGatewayTimeout {
		t.Errorf("status %d, want 504", resp.StatusCode)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("answered after %v", d)
	}
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Error("the team's request was never cancelled")
	}
	teamtest.WaitUntil(t, "the gateway request is observed", func() bool { return len(obs.seen()) == 1 })
	if got := obs.seen(); len(got) != 1 || got[0] != "/gw/ 504" {
		t.Errorf("observer got %v, want [/gw/ 504]", got)
	}
	if n := strings.Count(logs.String(), `"msg":"gateway"`); n != 1 {
		t.Errorf("%d access log lines, want 1:\n%s", n, logs.String())
	}
}

// An event stream outlives the server's total read and write
// cuts and the route's idle_timeout, as long as it keeps moving.
func TestGatewayStreamHasNoTotalCap(t *testing.T) {
	const events = 30
	team := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		tick := time.NewTicker(50 * time.Millisecond) // the team's pace: a fixed stub latency
		defer tick.Stop()
		for i := range events {
			fmt.Fprintf(w, "data: %d\n\n", i)
			w.(http.Flusher).Flush()
			<-tick.C
		}
	})
	// 30 events 50ms apart: 1.5s, past the 200ms cuts and the 1s
	// idle_timeout. A gap is a twentieth of the idle_timeout, so that no
	// pause of a busy machine makes one look idle (I6).
	url, obs, _ := gatewayShop(t, team, "", "    idle_timeout: 1s\n", 200*time.Millisecond)
	resp, err := http.Get(url + "/gw/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("stream cut: %v after %q", err, body)
	}
	if got := strings.Count(string(body), "data: "); got != events {
		t.Errorf("got %d events, want %d", got, events)
	}
	resp.Body.Close()
	teamtest.WaitUntil(t, "the gateway request is observed", func() bool { return len(obs.seen()) == 1 })
	if got := obs.seen(); len(got) != 1 || got[0] != "/gw/ 200" {
		t.Errorf("observer got %v", got)
	}
}

// A response body that stops moving for longer than idle_timeout is cut.
func TestGatewayCutsAnIdleStream(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	team := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: first\n\n")
		w.(http.Flusher).Flush()
		select { // then nothing, until the test ends
		case <-release:
		case <-r.Context().Done():
		}
	})
	url, _, _ := gatewayShop(t, team, "", "    idle_timeout: 150ms\n", time.Minute)
	resp, err := http.Get(url + "/gw/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	done := make(chan error, 1)
	go func() {
		_, err := io.ReadAll(resp.Body)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("the stream ended cleanly, want it cut (an aborted response)")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("an idle stream was never cut")
	}
}

// The upload has a deadline of its own, upload_timeout: a
// stalled one is answered 408 and never reaches the team.
func TestGatewayUploadDeadline(t *testing.T) {
	var hits sync.WaitGroup
	reached := make(chan struct{}, 1)
	team := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		defer hits.Done()
		io.Copy(io.Discard, r.Body)
		reached <- struct{}{}
	})
	url, _, _ := gatewayShop(t, team, "", "    upload_timeout: 200ms\n", time.Minute)
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A chunked body that sends one chunk, then stalls.
	fmt.Fprintf(conn, "POST /gw/upload HTTP/1.1\r\nHost: shop\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled upload: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("status %d, want 408", resp.StatusCode)
	}
	select {
	case <-reached:
		t.Error("a stalled upload reached the team")
	default:
	}

	// An upload that arrives in time goes through.
	resp, err = http.Post(url+"/gw/upload", "text/plain", strings.NewReader("a whole body"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d for a prompt upload, want 200", resp.StatusCode)
	}
}

// sendRaw sends one request with a verbatim request target and returns
// the status.
func sendRaw(t *testing.T, base, method, target string, header ...string) int {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n", method, target)
	for i := 0; i+1 < len(header); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", header[i], header[i+1])
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// pathRecorder is a team that records the escaped path of each request.
type pathRecorder struct {
	mu    sync.Mutex
	paths []string
	hdrs  []http.Header
}

func (p *pathRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paths = append(p.paths, r.URL.EscapedPath())
	p.hdrs = append(p.hdrs, r.Header.Clone())
	io.WriteString(w, "ok")
}

func (p *pathRecorder) take() ([]string, []http.Header) {
	p.mu.Lock()
	defer p.mu.Unlock()
	paths, hdrs := p.paths, p.hdrs
	p.paths, p.hdrs = nil, nil
	return paths, hdrs
}

// Prefixes are matched on the normalised path; a path that
// leaves the prefix is refused with 400, and the team gets the normalised
// path.
func TestGatewayNormalisesPaths(t *testing.T) {
	team := &pathRecorder{}
	url, _, _ := gatewayShop(t, team, "", "", time.Minute)
	cases := []struct {
		target string
		status int
		sent   string // the path the team gets; "" when it gets nothing
	}{
		{"/gw/../_counts", 400, ""},
		{"/gw/%2e%2e/_counts", 400, ""},
		{"/gw/%2E%2E/_counts", 400, ""},
		{"/gw/..%2f_counts", 400, ""},
		{"/gw/..%2F..%2F_counts", 400, ""},
		{"/gw/a/%2e%2e/%2e%2e/_counts", 400, ""},
		{"/gw/..", 400, ""},
		{"/gw/a%5c..%5c..%5c_counts", 400, ""},
		{"/gw/a/../b", 200, "/gw/b"},
		{"/gw/./x/.", 200, "/gw/x/"},
		{"/gw/%2e/x", 200, "/gw/x"},
		{"/gw/a%2Fb", 200, "/gw/a/b"},
		{"/gw/a%20b?q=1", 200, "/gw/a%20b"},
		{"/gw/items/1", 200, "/gw/items/1"},
	}
	for _, tc := range cases {
		status := sendRaw(t, url, "GET", tc.target)
		paths, _ := team.take()
		if status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.target, status, tc.status)
		}
		switch {
		case tc.sent == "" && len(paths) > 0:
			t.Errorf("%s: the team got %v, want nothing", tc.target, paths)
		case tc.sent != "" && (len(paths) != 1 || paths[0] != tc.sent):
			t.Errorf("%s: the team got %v, want [%s]", tc.target, paths, tc.sent)
		}
	}
}

// The shopper's cookies and Authorization reach only the
// services configured for them, and shopper-sent X-Inlay-* never reach a
// team.
func TestGatewayScopesCredentials(t *testing.T) {
	cases := []struct {
		name, serviceYAML string
		cookie, auth      string
	}{
		{"default", "", "", ""},
		{"cookies false", "    cookies: false\n", "", ""},
		{"named cookies", "    cookies: [basket, cart]\n", "basket=b1; cart=c1", ""},
		{"all cookies and authorization", "    cookies: true\n    authorization: true\n", "session=s1; basket=b1; cart=c1", "Bearer shopper"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			team := &pathRecorder{}
			url, _, _ := gatewayShop(t, team, tc.serviceYAML, "", time.Minute)
			status := sendRaw(t, url, "GET", "/gw/me",
				"Cookie", "session=s1; basket=b1", "Cookie", "cart=c1",
				"Authorization", "Bearer shopper",
				"X-Inlay-Page-Path", "/forged", "x-inlay-fragment", "forged")
			if status != 200 {
				t.Fatalf("status %d", status)
			}
			_, hdrs := team.take()
			if len(hdrs) != 1 {
				t.Fatalf("%d requests reached the team", len(hdrs))
			}
			h := hdrs[0]
			if got := strings.Join(h["Cookie"], "; "); got != tc.cookie {
				t.Errorf("Cookie: got %q, want %q", got, tc.cookie)
			}
			if got := h.Get("Authorization"); got != tc.auth {
				t.Errorf("Authorization: got %q, want %q", got, tc.auth)
			}
			for name := range h {
				if strings.HasPrefix(name, "X-Inlay-") {
					t.Errorf("the shopper's %s reached the team", name)
				}
			}
		})
	}
}

// G3: TRACE and CONNECT are refused with 405 and never forwarded.
func TestGatewayRefusesTraceAndConnect(t *testing.T) {
	team := &pathRecorder{}
	url, _, _ := gatewayShop(t, team, "", "", time.Minute)
	for _, method := range []string{"TRACE", "CONNECT"} {
		if status := sendRaw(t, url, method, "/gw/x"); status != http.StatusMethodNotAllowed {
			t.Errorf("%s: status %d, want 405", method, status)
		}
	}
	if paths, _ := team.take(); len(paths) > 0 {
		t.Errorf("the team got %v", paths)
	}
}

// Every gateway request gets one access log line and one observation, by
// route and status, whatever its outcome.
func TestGatewayLogsAndCountsEveryRequest(t *testing.T) {
	team := &pathRecorder{}
	url, obs, logs := gatewayShop(t, team, "", "", time.Minute)
	sendRaw(t, url, "GET", "/gw/ok")
	sendRaw(t, url, "GET", "/gw/../x")
	sendRaw(t, url, "TRACE", "/gw/x")
	want := []string{"/gw/ 200", "/gw/ 400", "/gw/ 405"}
	teamtest.WaitUntil(t, "the gateway requests are observed", func() bool { return len(obs.seen()) == len(want) })
	if got := obs.seen(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("observer got %v, want %v", got, want)
	}
	lines := 0
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, `"msg":"gateway"`) {
			lines++
			if !strings.Contains(line, `"route":"/gw/"`) || !strings.Contains(line, `"status":`) || !strings.Contains(line, `"request_id":`) {
				t.Errorf("access log line lacks route, status or request id: %s", line)
			}
		}
	}
	if lines != 3 {
		t.Errorf("%d access log lines, want 3:\n%s", lines, logs.String())
	}
}

// For fragments too, cookies: [names] sends only the named cookies.
func TestFragmentGetsOnlyItsNamedCookies(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/mini": {Body: "<p>mini</p>"}})
	s := newShop(t, shopConfig{
		services:    map[string]*teamtest.Team{"basket": team},
		serviceYAML: map[string]string{"basket": "    cookies: [basket_id]\n"},
		layouts:     map[string]string{"p.html": pageHead + `<fragment src="basket:/mini"></fragment>` + pageTail},
		pages:       "  - path: /\n    layout: p.html",
	})
	s.get(t, "/", "Cookie", "session=other-team; basket_id=b-1", "Cookie", "theme=dark")
	reqs := team.RequestsTo("/mini")
	if len(reqs) != 1 {
		t.Fatalf("%d fetches, want 1", len(reqs))
	}
	if got := reqs[0].Header.Values("Cookie"); len(got) != 1 || got[0] != "basket_id=b-1" {
		t.Errorf("Cookie %q, want only basket_id=b-1", got)
	}
}

// A WebSocket-style upgrade passes through the gateway: the connection is
// handed over both ways and the request is logged as a 101.
func TestGatewayPassesUpgrades(t *testing.T) {
	team := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "upgrade required", http.StatusUpgradeRequired)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		io.WriteString(brw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		io.WriteString(conn, "echo: "+line)
	})
	url, obs, _ := gatewayShop(t, team, "", "    idle_timeout: 100ms\n", time.Minute)
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "GET /gw/ws HTTP/1.1\r\nHost: shop\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	io.WriteString(conn, "hello\n")
	got, err := br.ReadString('\n')
	if err != nil || got != "echo: hello\n" {
		t.Errorf("through the upgraded connection: got %q, %v", got, err)
	}
	conn.Close()
	teamtest.WaitUntil(t, "the upgraded request is observed", func() bool { return len(obs.seen()) == 1 })
	if got := obs.seen(); got[0] != "/gw/ 101" {
		t.Errorf("observer got %v, want [/gw/ 101]", got)
	}
}

// Gateway requests are under their service's breaker, as fragments are:
// 5xx answers pass through and count as failures; once the breaker is
// open the shopper gets a 503 at once and the team no request.
func TestGatewayIsUnderTheServicesBreaker(t *testing.T) {
	var calls atomic.Int64
	team := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	})
	url, _, _ := gatewayShop(t, team, "    breaker:\n      failures: 3\n", "", time.Minute)
	for i := range 3 {
		resp, err := http.Post(url+"/gw/add", "text/plain", strings.NewReader("sku=1"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusInternalServerError {
			t.Fatalf("request %d: status %d, want the team's 500", i, resp.StatusCode)
		}
	}
	resp, err := http.Post(url+"/gw/add", "text/plain", strings.NewReader("sku=1"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("with the breaker open: status %d, want 503", resp.StatusCode)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("team requests: got %d, want 3 (none while the breaker is open)", n)
	}
}
