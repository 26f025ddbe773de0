package composer

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/inlayhq/inlay/teams/teamtest"
)

const pageHead = `<!DOCTYPE html><html><head><title>t</title></head><body>`
const pageTail = `<footer id="layout-end">end</footer></body></html>`

func TestFragmentsArriveInDocumentOrder(t *testing.T) {
	// The fragments answer in reverse order; the page must not.
	gates := []chan struct{}{make(chan struct{}), make(chan struct{}), make(chan struct{})}
	arrived := make(chan string, 3)
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/a": {Body: "<p>A</p>", Gate: gates[0], Arrived: arrived},
		"/b": {Body: "<p>B</p>", Gate: gates[1], Arrived: arrived},
		"/c": {Body: "<p>C</p>", Gate: gates[2], Arrived: arrived},
	})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts: map[string]string{"p.html": pageHead +
			`<fragment id="a" src="team:/a"></fragment><hr><fragment id="b" src="team:/b"></fragment><hr><fragment id="c" src="team:/c"></fragment>` + pageTail},
		pages: "  - path: /\n    layout: p.html",
	})
	go func() {
		for range 3 {
			<-arrived // all three are in flight before any answers
		}
		close(gates[2])
		close(gates[1])
		close(gates[0])
	}()
	resp, body := s.get(t, "/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	want := pageHead + `<p>A</p><hr><p>B</p><hr><p>C</p>` + pageTail
	if body != want {
		t.Errorf("page:\ngot  %q\nwant %q", body, want)
	}
}

func TestFragmentsAreFetchedInParallel(t *testing.T) {
	// Four fragments that each answer only once all four have arrived:
	// fetched one after the other, the stub would never see all four, the
	// first box would wait out its deadline and the page would lack them.
	// The order is the assertion, not a time (I6).
	const n = 4
	arrived := make(chan string, n)
	gate := make(chan struct{})
	routes := map[string]teamtest.Route{}
	layout := pageHead
	for _, id := range []string{"f1", "f2", "f3", "f4"} {
		routes["/"+id] = teamtest.Route{Body: "<i>" + id + "</i>", Gate: gate, Arrived: arrived}
		layout += `<fragment id="` + id + `" src="team:/` + id + `"></fragment>`
	}
	team := teamtest.NewRoutes(t, routes)
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts:  map[string]string{"p.html": layout + pageTail},
		pages:    "  - path: /\n    layout: p.html",
	})
	go func() {
		for range n {
			<-arrived
		}
		close(gate)
	}()
	_, body := s.get(t, "/")
	for _, id := range []string{"f1", "f2", "f3", "f4"} {
		if !strings.Contains(body, "<i>"+id+"</i>") {
			t.Errorf("page lacks fragment %s: %q", id, body)
		}
	}
}

func TestFirstBytesLeaveBeforeASlowFragment(t *testing.T) {
	gate := make(chan struct{})
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/fast": {Body: "<nav>fast</nav>"},
		"/slow": {Body: "<aside>slow</aside>", Gate: gate},
	})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts: map[string]string{"p.html": pageHead +
			`<fragment src="team:/fast"></fragment><main>static</main><fragment src="team:/slow"></fragment>` + pageTail},
		pages: "  - path: /\n    layout: p.html",
	})
	resp, err := http.Get(s.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	// The head, the fast fragment and the static markup before the slow
	// fragment arrive while the slow fragment is still held.
	want := pageHead + "<nav>fast</nav><main>static</main>"
	got := make([]byte, len(want))
	if _, err := io.ReadFull(br, got); err != nil {
		t.Fatalf("reading the page's first bytes: %v", err)
	}
	if string(got) != want {
		t.Fatalf("first bytes %q, want %q", got, want)
	}
	select {
	case <-gate:
		t.Fatal("the slow fragment answered before the first bytes were read")
	default:
	}
	close(gate)
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	if string(rest) != "<aside>slow</aside>"+pageTail {
		t.Errorf("rest of page %q", rest)
	}
}

func TestPrimaryDecidesThePage(t *testing.T) {
	cases := []struct {
		name       string
		route      teamtest.Route
		fallback   bool // the layout gives the primary a fallback-src
		wantStatus int
		wantHeader map[string]string
		wantBody   []string // substrings
		notInBody  []string
	}{
		{name: "ok", route: teamtest.Route{Body: "<h1>product</h1>"}, wantStatus: 200, wantBody: []string{"<h1>product</h1>", "<p>header</p>", "layout-end"}},
		{name: "not found keeps the layout", route: teamtest.Route{Status: 404, Body: "<h1>no such product</h1>"}, wantStatus: 404, wantBody: []string{"<h1>no such product</h1>", "<p>header</p>"}},
		{name: "redirect passes Location", route: teamtest.Route{Status: 302, Header: map[string]string{"Location": "/login?next=%2Fp"}}, wantStatus: 302, wantHeader: map[string]string{"Location": "/login?next=%2Fp"}, notInBody: []string{"header"}},
		{name: "redirect off site is refused", route: teamtest.Route{Status: 302, Header: map[string]string{"Location": "http://169.254.169.254/latest"}}, wantStatus: 502, notInBody: []string{"169.254"}},
		{name: "redirect protocol-relative is refused", route: teamtest.Route{Status: 301, Header: map[string]string{"Location": "//evil.example/"}}, wantStatus: 502},
		{name: "server error is a 502 page", route: teamtest.Route{Status: 500, Body: "<script>secret</script>"}, wantStatus: 502, wantBody: []string{"unavailable"}, notInBody: []string{"secret", "<p>header</p>"}},
		{name: "hang is a 504 page", route: teamtest.Route{Hang: true}, wantStatus: 504, wantBody: []string{"too long"}, notInBody: []string{"<p>header</p>"}},
		{name: "fallback-src rescues", route: teamtest.Route{Status: 503}, fallback: true, wantStatus: 200, wantBody: []string{"<h1>static product</h1>", "<p>header</p>"}},
		{name: "primary cookies reach the shopper", route: teamtest.Route{Body: "ok", Header: map[string]string{"Set-Cookie": "session=1; Path=/"}}, wantStatus: 200, wantHeader: map[string]string{"Set-Cookie": "session=1; Path=/"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			team := teamtest.NewRoutes(t, map[string]teamtest.Route{
				"/header":  {Body: "<p>header</p>", Header: map[string]string{"Set-Cookie": "tracking=1"}},
				"/product": tc.route,
				"/static":  {Body: "<h1>static product</h1>"},
			})
			fallback := ""
			if tc.fallback {
				fallback = ` fallback-src="team:/static"`
			}
			s := newShop(t, shopConfig{
				services: map[string]*teamtest.Team{"team": team},
				layouts: map[string]string{"p.html": pageHead +
					`<fragment src="team:/header"></fragment><fragment id="product" src="team:/product" timeout="200ms" primary` + fallback + `></fragment>` + pageTail},
				pages: "  - path: /\n    layout: p.html",
			})
			resp, body := s.get(t, "/")
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %q", resp.StatusCode, tc.wantStatus, body)
			}
			for k, v := range tc.wantHeader {
				if got := resp.Header.Values(k); len(got) != 1 || got[0] != v {
					t.Errorf("header %s = %q, want exactly %q", k, got, v)
				}
			}
			if tc.wantHeader["Set-Cookie"] == "" && len(resp.Header.Values("Set-Cookie")) > 0 {
				t.Errorf("Set-Cookie %q reached the shopper", resp.Header.Values("Set-Cookie"))
			}
			for _, w := range tc.wantBody {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q: %q", w, body)
				}
			}
			for _, w := range tc.notInBody {
				if strings.Contains(body, w) {
					t.Errorf("body has %q: %q", w, body)
				}
			}
			if resp.StatusCode >= 500 && resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("error page Cache-Control %q, want no-store", resp.Header.Get("Cache-Control"))
			}
		})
	}
}

func TestNonPrimaryFailuresDegradeOnlyTheirBox(t *testing.T) {
	cases := []struct {
		name  string
		route teamtest.Route
		attrs string
		inner string
		want  string
	}{
		{name: "500 shows fallback-src", route: teamtest.Route{Status: 500, Body: "<b>oops</b>"}, attrs: ` fallback-src="team:/fallback"`, want: "<em>fallback</em>"},
		{name: "404 shows inline fallback", route: teamtest.Route{Status: 404, Body: "<b>missing</b>"}, inner: "<em>inline</em>", want: "<em>inline</em>"},
		{name: "hang is cut at its deadline", route: teamtest.Route{Hang: true}, attrs: ` timeout="100ms"`, inner: "<em>inline</em>", want: "<em>inline</em>"},
		{name: "wrong content type", route: teamtest.Route{Body: "{}", Header: map[string]string{"Content-Type": "application/json"}}, want: ""},
		{name: "204 is an empty box", route: teamtest.Route{Status: 204}, inner: "<em>inline</em>", want: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			team := teamtest.NewRoutes(t, map[string]teamtest.Route{
				"/main":     {Body: "<h1>main</h1>"},
				"/box":      tc.route,
				"/fallback": {Body: "<em>fallback</em>"},
			})
			s := newShop(t, shopConfig{
				services: map[string]*teamtest.Team{"team": team},
				layouts: map[string]string{"p.html": pageHead +
					`<fragment src="team:/main" primary></fragment>[<fragment id="box" src="team:/box"` + tc.attrs + `>` + tc.inner + `</fragment>]` + pageTail},
				pages: "  - path: /\n    layout: p.html",
			})
			resp, body := s.get(t, "/")
			if resp.StatusCode != 200 {
				t.Fatalf("status %d, want 200", resp.StatusCode)
			}
			want := pageHead + "<h1>main</h1>[" + tc.want + "]" + pageTail
			if body != want {
				t.Errorf("page:\ngot  %q\nwant %q", body, want)
			}
			if tc.route.Status != 204 && !strings.Contains(s.logText(), `"fragment":"box"`) {
				t.Errorf("no log record for the degraded box: %s", s.logText())
			}
		})
	}
}

func TestParametersAreEscapedForTheirPlace(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts:  map[string]string{"p.html": pageHead + `<fragment src="team:/product/{sku}?q={q}&lang=en"></fragment>` + pageTail},
		pages:    "  - path: /product/{sku}\n    layout: p.html",
	})
	cases := []struct {
		path, wantRawPath, wantQuery string
	}{
		{"/product/shoe-1?q=red", "/product/shoe-1", "q=red&lang=en"},
		{"/product/..%2Fadmin?q=a%26lang%3Dxx", "/product/..%2Fadmin", "q=a%26lang%3Dxx&lang=en"},
		{"/product/a%3Fb%23c?q=%40evil.example%2F", "/product/a%3Fb%23c", "q=%40evil.example%2F&lang=en"},
		{"/product/..", "", ""}, // cleaned away by the router: no fetch with a dot segment
	}
	for _, tc := range cases {
		before := len(team.RequestsTo("/product/x"))
		_ = before
		team.ForgetRequests()
		s.get(t, tc.path)
		reqs := team.Requests()
		if tc.wantRawPath == "" {
			for _, r := range reqs {
				if strings.Contains(r.RawPath, "/..") {
					t.Errorf("%s: fetched %q", tc.path, r.RawPath)
				}
			}
			continue
		}
		if len(reqs) != 1 {
			t.Fatalf("%s: %d fragment requests, want 1", tc.path, len(reqs))
		}
		if reqs[0].RawPath != tc.wantRawPath || reqs[0].Query != tc.wantQuery {
			t.Errorf("%s: fetched %s?%s, want %s?%s", tc.path, reqs[0].RawPath, reqs[0].Query, tc.wantRawPath, tc.wantQuery)
		}
		if q, _ := url.ParseQuery(reqs[0].Query); len(q["lang"]) != 1 {
			t.Errorf("%s: a value added a query parameter: %q", tc.path, reqs[0].Query)
		}
	}
}

func TestAssetsAreLinkedOncePerPage(t *testing.T) {
	css := map[string]string{"Link": "</team/static/team.css>; rel=stylesheet, </team/static/app.js>; rel=modulepreload"}
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/a": {Body: "<p>a</p>", Header: css},
		"/b": {Body: "<p>b</p>", Header: css},
	})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts:  map[string]string{"p.html": pageHead + `<fragment src="team:/a" primary></fragment><fragment src="team:/b"></fragment>` + pageTail},
		pages:    "  - path: /\n    layout: p.html",
	})
	resp, body := s.get(t, "/")
	want := pageHead + `<link rel="stylesheet" href="/team/static/team.css"><script type="module" src="/team/static/app.js"></script><p>a</p><p>b</p>` + pageTail
	if body != want {
		t.Errorf("page:\ngot  %q\nwant %q", body, want)
	}
	if got := resp.Header.Get("Link"); got != "</team/static/team.css>; rel=preload; as=style" {
		t.Errorf("Link %q, want a preload of the primary's CSS", got)
	}
}

func TestRequestHeadersSentToFragments(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/f": {Body: "x"}})
	basket := teamtest.NewRoutes(t, map[string]teamtest.Route{"/f": {Body: "y"}})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team, "basket-cookies": basket},
		layouts:  map[string]string{"p.html": pageHead + `<fragment id="t" src="team:/f"></fragment><fragment id="b" src="basket-cookies:/f"></fragment>` + pageTail},
		pages:    "  - path: /\n    layout: p.html",
	})
	s.get(t, "/", "Cookie", "basket=42", "Authorization", "Bearer secret", "Accept-Language", "de-DE",
		"Connection", "X-Secret", "X-Secret", "1", "Range", "bytes=0-1", "If-None-Match", `"x"`, "X-Request-Id", "req-123")
	for _, tc := range []struct {
		st         *teamtest.Team
		id         string
		wantCookie string
	}{{team, "t", ""}, {basket, "b", "basket=42"}} {
		reqs := tc.st.RequestsTo("/f")
		if len(reqs) != 1 {
			t.Fatalf("%s: %d requests", tc.id, len(reqs))
		}
		h := reqs[0].Header
		if got := h.Get("Cookie"); got != tc.wantCookie {
			t.Errorf("%s: Cookie %q, want %q", tc.id, got, tc.wantCookie)
		}
		for _, name := range []string{"Authorization", "X-Secret", "Range", "If-None-Match"} {
			if h.Get(name) != "" {
				t.Errorf("%s: %s was forwarded", tc.id, name)
			}
		}
		if h.Get("Accept-Language") != "de-DE" || h.Get("X-Request-Id") != "req-123" || h.Get("X-Inlay-Fragment") != tc.id {
			t.Errorf("%s: headers %v", tc.id, h)
		}
		if reqs[0].Method != http.MethodGet || reqs[0].Body != "" {
			t.Errorf("%s: %s with body %q, want a GET without body", tc.id, reqs[0].Method, reqs[0].Body)
		}
	}
}

func TestNonPrimarySetCookieIsDropped(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/main": {Body: "m", Header: map[string]string{"Set-Cookie": "primary=1"}},
		"/side": {Body: "s", Header: map[string]string{"Set-Cookie": "side=1"}},
	})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts:  map[string]string{"p.html": pageHead + `<fragment src="team:/side"></fragment><fragment src="team:/main" primary></fragment>` + pageTail},
		pages:    "  - path: /\n    layout: p.html",
	})
	resp, _ := s.get(t, "/")
	if got := resp.Header.Values("Set-Cookie"); len(got) != 1 || got[0] != "primary=1" {
		t.Errorf("Set-Cookie %q, want only the primary's", got)
	}
}

func TestGatewayForwardsMethodBodyAndCookies(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/basket/api/add": {Status: 303, Header: map[string]string{"Location": "/basket", "Set-Cookie": "basket=abc; Path=/"}},
	})
	s := newShop(t, shopConfig{
		services:    map[string]*teamtest.Team{"basket": team},
		serviceYAML: map[string]string{"basket": "    cookies: [basket]\n"},
		layouts:     map[string]string{"p.html": pageHead + pageTail},
		pages:       "  - path: /\n    layout: p.html",
		gateway:     "  - prefix: /basket/\n    service: basket",
	})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/basket/api/add?x=1", strings.NewReader("sku=shoe-1&qty=2"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", "session=other-teams; basket=abc")
	req.Header.Set("Connection", "X-Hop")
	req.Header.Set("X-Hop", "1")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/basket" || resp.Header.Get("Set-Cookie") != "basket=abc; Path=/" {
		t.Errorf("response %d %v", resp.StatusCode, resp.Header)
	}
	reqs := team.RequestsTo("/basket/api/add")
	if len(reqs) != 1 {
		t.Fatalf("%d requests reached the team", len(reqs))
	}
	got := reqs[0]
	if got.Method != http.MethodPost || got.Body != "sku=shoe-1&qty=2" || got.Query != "x=1" {
		t.Errorf("team got %s ?%s body %q", got.Method, got.Query, got.Body)
	}
	if got.Header.Get("Cookie") != "basket=abc" || got.Header.Get("X-Forwarded-For") != "127.0.0.1" || got.Header.Get("X-Forwarded-Host") == "" {
		t.Errorf("team got headers %v", got.Header)
	}
	if got.Header.Get("X-Hop") != "" {
		t.Errorf("hop-by-hop header X-Hop was forwarded")
	}
}

func TestGatewayRefusesHugeBodies(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/basket/api/add": {Body: "ok"}})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"basket": team},
		layouts:  map[string]string{"p.html": pageHead + pageTail},
		pages:    "  - path: /\n    layout: p.html",
		gateway:  "  - prefix: /basket/\n    service: basket",
	})
	resp, err := http.Post(s.URL+"/basket/api/add", "text/plain", strings.NewReader(strings.Repeat("x", DefaultMaxGatewayBody+1)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
	if n := team.Hits(); n != 0 {
		t.Errorf("%d requests reached the team", n)
	}
}

func TestShopperWhoLeavesCancelsFetches(t *testing.T) {
	arrived := make(chan string, 1)
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/slow": {Hang: true, Arrived: arrived}})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts:  map[string]string{"p.html": pageHead + `<fragment src="team:/slow"></fragment>` + pageTail},
		pages:    "  - path: /\n    layout: p.html",
	})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/", nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	<-arrived
	cancel()
	<-done
	// The hanging stub handler returns only when Inlay cancels its request;
	// Close waits for it, so a leaked fetch would hang the test here.
	team.Close()
	resp, _ := s.get(t, "/-/health")
	if resp.StatusCode != 200 {
		t.Errorf("health %d after a cancelled page", resp.StatusCode)
	}
}

func TestHealthAndUnknownRoutes(t *testing.T) {
	team := teamtest.NewRoutes(t, nil)
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts:  map[string]string{"p.html": pageHead + pageTail},
		pages:    "  - path: /\n    layout: p.html",
	})
	if resp, body := s.get(t, "/-/health"); resp.StatusCode != 200 || body != "ok\n" {
		t.Errorf("health: %d %q", resp.StatusCode, body)
	}
	resp, body := s.get(t, "/nope/<script>")
	if resp.StatusCode != 404 || !strings.Contains(body, "Page not found") || strings.Contains(body, "<script>") {
		t.Errorf("unknown route: %d %q", resp.StatusCode, body)
	}
}
