package composer

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/inlayhq/inlay/fragments/contract"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// rawTeam answers every request with the verbatim response resp, then
// closes the connection: for answers net/http's server would not send,
// such as a 101 to a plain GET.
func rawTeam(t *testing.T, resp string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					return
				}
				fmt.Fprint(c, resp)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// primaryShop serves / with a header fragment and a primary from the team
// at base, and returns the page.
func primaryPage(t *testing.T, base string) (*http.Response, string) {
	t.Helper()
	header := teamtest.NewRoutes(t, map[string]teamtest.Route{"/header": {Body: "<p>header</p>"}})
	sc := shopConfig{
		layouts: map[string]string{"p.html": pageHead +
			`<fragment src="shell:/header"></fragment><main><fragment id="product" src="team:/product" timeout="2s" primary></fragment></main>` + pageTail},
		pages: "  - path: /\n    layout: p.html",
	}
	cfg, fsys := sc.parse(t, map[string]string{"team": base, "shell": header.URL})
	_, logger := sc.logger()
	srv, err := New(cfg, Options{LayoutFS: fsys, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	s := &shop{Server: newTestHTTPServer(t, srv), inlay: srv}
	return s.get(t, "/")
}

// The primary's status is judged before it becomes the page's.
func TestPrimaryStatuses(t *testing.T) {
	cases := []struct {
		name       string
		response   string
		wantStatus int
		wantBody   []string
		notInBody  []string
	}{
		{"101 to a request that asked for no upgrade", "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: evil\r\n\r\n", 502, nil, []string{"<p>header</p>"}},
		{"101 without Upgrade", "HTTP/1.1 101 Switching Protocols\r\n\r\n", 502, nil, []string{"<p>header</p>"}},
		{"205 with a body", "HTTP/1.1 205 Reset Content\r\nContent-Type: text/html\r\nContent-Length: 8\r\n\r\n<b>x</b>", 502, nil, []string{"<p>header</p>"}},
		{"204 is an empty primary box", "HTTP/1.1 204 No Content\r\n\r\n", 200, []string{"<p>header</p>", "<main></main>", "layout-end"}, nil},
		{"200", "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<h1>shoe</h1>", 200, []string{"<main><h1>shoe</h1></main>", "layout-end"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := primaryPage(t, rawTeam(t, tc.response))
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %q", resp.StatusCode, tc.wantStatus, body)
			}
			for _, w := range tc.wantBody {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q: %q", w, body)
				}
			}
			for _, w := range tc.notInBody {
				if strings.Contains(body, w) {
					t.Errorf("body has %q", w)
				}
			}
		})
	}
}

// Location is judged as a browser reads it: tabs and newlines
// removed, backslashes read as slashes. Off-site targets fail the page.
func TestPrimaryLocationAsABrowserReadsIt(t *testing.T) {
	cases := []struct {
		location string
		want     string // the Location sent; "" means the page is a 502
	}{
		{"/\t/evil.example/x", ""},
		{"/\\evil.example/x", ""},
		{"\\\\evil.example/x", ""},
		{"/\t\\evil.example", ""},
		{"http:/\\evil.example/", ""},
		{"http:evil.example", ""},
		{"https://evil.example/", ""},
		{"https://shop.example@evil.example/", ""},
		{"javascript:alert(1)", ""},
		{"basket", ""},
		{"//evil.example", ""},
		{" //evil.example", ""},
		{"/basket?x=1", "/basket?x=1"},
		{"/bas\tket", "/basket"},
		{" /basket ", "/basket"},
		{"http://shop.example/basket", "http://shop.example/basket"},
		{"HTTPS://SHOP.EXAMPLE/basket", "HTTPS://SHOP.EXAMPLE/basket"},
	}
	for _, tc := range cases {
		got, ok := contract.SafeLocation(tc.location, "shop.example")
		if want := tc.want != ""; ok != want || got != tc.want {
			t.Errorf("SafeLocation(%q) = %q, %t; want %q, %t", tc.location, got, ok, tc.want, want)
		}
	}
	// Through a page: a tab the team sent is no way out.
	resp, _ := primaryPage(t, rawTeam(t, "HTTP/1.1 302 Found\r\nLocation: /\t/evil.example/x\r\nContent-Length: 0\r\n\r\n"))
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("Location") != "" {
		t.Errorf("status %d, Location %q; want 502 and none", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// Route parameters are decoded exactly once: %253C reaches the
// team as the text "%3C", never as "<".
func TestRouteParametersDecodedOnce(t *testing.T) {
	team := teamtest.NewRoutes(t, nil)
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts:  map[string]string{"p.html": pageHead + `<fragment src="team:/product/{sku}" primary></fragment>` + pageTail},
		pages:    "  - path: /p/{sku}\n    layout: p.html",
	})
	cases := []struct{ path, wantParam, wantPath string }{
		{"/p/%253Cscript%253E", "sku=%253Cscript%253E", "/product/%253Cscript%253E"},
		{"/p/a%2Fb", "sku=a%2Fb", "/product/a%2Fb"},
		{"/p/%3Cb%3E", "sku=%3Cb%3E", "/product/%3Cb%3E"},
		{"/p/plain", "sku=plain", "/product/plain"},
	}
	for _, tc := range cases {
		conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n", tc.path)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		conn.Close()
		reqs := team.Requests()
		got := reqs[len(reqs)-1]
		if p := got.Header.Get(HeaderRouteParams); p != tc.wantParam {
			t.Errorf("%s: %s %q, want %q", tc.path, HeaderRouteParams, p, tc.wantParam)
		}
		if got.RawPath != tc.wantPath {
			t.Errorf("%s: the team got path %q, want %q", tc.path, got.RawPath, tc.wantPath)
		}
	}
}

// newTestHTTPServer serves h on loopback until the test ends.
func newTestHTTPServer(t *testing.T, h http.Handler) *httptest.Server {
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return hs
}
