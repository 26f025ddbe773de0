package composer

// Rows E11 and G4 of docs/fault-matrix.md: a team's assets outlive the
// team, and a failed navigation through the gateway lands on the shop's
// error page.

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/inlayhq/inlay/fragments/shared/redistest"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// assetObserver counts stale gateway answers by service.
type assetObserver struct {
	nopObserver
	mu    sync.Mutex
	stale map[string]int
}

func (o *assetObserver) GatewayStale(service string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.stale == nil {
		o.stale = map[string]int{}
	}
	o.stale[service]++
}

func (o *assetObserver) staleOf(service string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.stale[service]
}

// assetShop starts a shop with a page / whose header fragment comes from
// team, a gateway route /gw/ to team, and the shop's error pages.
func assetShop(t *testing.T, team *teamtest.Team, serviceYAML string, extra ...string) (*shop, *assetObserver) {
	t.Helper()
	obs := &assetObserver{}
	s := newShop(t, shopConfig{
		services:    map[string]*teamtest.Team{"team": team},
		serviceYAML: map[string]string{"team": serviceYAML},
		layouts: map[string]string{
			"p.html":     pageHead + `<fragment id="header" src="team:/header"></fragment>` + pageTail,
			"error.html": pageHead + `<h1 id="status">Error {status}</h1><a id="back" href="{back}">Back to where you were</a>` + pageTail,
		},
		pages:    "  - path: /\n    layout: p.html",
		gateway:  "  - prefix: /gw/\n    service: team\n",
		extra:    "error_pages:\n  \"4xx\": error.html\n  \"5xx\": error.html\n" + strings.Join(extra, ""),
		observer: obs,
	})
	return s, obs
}

// doRequest sends a request to the shop with the given headers (name, value, ...).
func doRequest(t *testing.T, method, url string, body io.Reader, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer client.CloseIdleConnections()
	return teamtest.Do(t, client, req)
}

// E11: a gateway GET that a shared cache may store is stored and
// answered from the cache; one that may not reaches the team every time.
func TestGatewayCachesWhatASharedCacheMayStore(t *testing.T) {
	cases := []struct {
		name        string
		header      map[string]string
		method      string
		reqHeader   []string
		serviceYAML string
		wantHits    int64
	}{
		{"public max-age", map[string]string{"Cache-Control": "public, max-age=600"}, "GET", nil, "", 1},
		{"max-age", map[string]string{"Cache-Control": "max-age=600"}, "GET", nil, "", 1},
		{"s-maxage", map[string]string{"Cache-Control": "s-maxage=600"}, "GET", nil, "", 1},
		{"HEAD after a GET", map[string]string{"Cache-Control": "max-age=600"}, "HEAD", nil, "", 1},
		{"private", map[string]string{"Cache-Control": "private, max-age=600"}, "GET", nil, "", 3},
		{"no-store", map[string]string{"Cache-Control": "no-store"}, "GET", nil, "", 3},
		{"no freshness", nil, "GET", nil, "", 3},
		{"Set-Cookie", map[string]string{"Cache-Control": "max-age=600", "Set-Cookie": "a=b"}, "GET", nil, "", 3},
		{"Vary: *", map[string]string{"Cache-Control": "max-age=600", "Vary": "*"}, "GET", nil, "", 3},
		{"POST", map[string]string{"Cache-Control": "max-age=600"}, "POST", nil, "", 3},
		{"Authorization, max-age only", map[string]string{"Cache-Control": "max-age=600"}, "GET", []string{"Authorization", "Bearer abcdefgh12"}, "    authorization: true\n", 3},
		{"Authorization, public", map[string]string{"Cache-Control": "public, max-age=600"}, "GET", []string{"Authorization", "Bearer abcdefgh12"}, "    authorization: true\n", 1},
		{"a cookie the service gets, max-age only", map[string]string{"Cache-Control": "max-age=600"}, "GET", []string{"Cookie", "sid=abcdefgh12"}, "    cookies: [sid]\n", 3},
		{"a cookie the service does not get", map[string]string{"Cache-Control": "max-age=600"}, "GET", []string{"Cookie", "other=abcdefgh12"}, "    cookies: [sid]\n", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			team := teamtest.NewRoutes(t, map[string]teamtest.Route{
				"/gw/app.css": {Body: "body{color:red}", Header: merge(map[string]string{"Content-Type": "text/css"}, tc.header)},
			})
			s, _ := assetShop(t, team, tc.serviceYAML)
			for i := range 3 {
				method := "GET"
				if i > 0 {
					method = tc.method
				}
				resp, body := doRequest(t, method, s.URL+"/gw/app.css", nil, tc.reqHeader...)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("request %d: status %d", i, resp.StatusCode)
				}
				if method != http.MethodHead && body != "body{color:red}" {
					t.Errorf("request %d: body %q", i, body)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "text/css" {
					t.Errorf("request %d: Content-Type %q", i, ct)
				}
				// A stored answer served without asking the team says its Age.
				if stored := i > 0 && tc.wantHits == 1; (resp.Header.Get("Age") != "") != stored {
					t.Errorf("request %d: Age %q, want one only on a stored answer", i, resp.Header.Get("Age"))
				}
			}
			if got := int64(len(team.RequestsTo("/gw/app.css"))); got != tc.wantHits {
				t.Errorf("the team was asked %d times, want %d", got, tc.wantHits)
			}
		})
	}
}

func merge(a, b map[string]string) map[string]string {
	for k, v := range b {
		a[k] = v
	}
	return a
}

// E11: a stored answer keeps its Content-Encoding per set of accepted
// codings: a shopper who did not ask for gzip never gets it, even from a
// team that gzips without Vary: Accept-Encoding.
func TestGatewayKeepsCodingsPerVariant(t *testing.T) {
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	io.WriteString(zw, "body{color:red}")
	zw.Close()
	team := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		w.Header().Set("Cache-Control", "public, max-age=600")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip") // and no Vary
			w.Write(zipped.Bytes())
			return
		}
		io.WriteString(w, "body{color:red}")
	})
	s, _ := assetShop(t, team, "")
	cases := []struct {
		name, acceptEncoding, wantEncoding string
		wantBody                           []byte
		wantHits                           int
	}{
		{"gzip, first", "gzip, deflate, br", "gzip", zipped.Bytes(), 1},
		{"none", "", "", []byte("body{color:red}"), 2},
		{"gzip, from the cache", "br, gzip, deflate", "gzip", zipped.Bytes(), 2},
		{"identity only", "identity", "", []byte("body{color:red}"), 3},
		{"none, from the cache", "", "", []byte("body{color:red}"), 3},
	}
	for _, tc := range cases {
		resp, body := doRequest(t, "GET", s.URL+"/gw/app.css", nil, "Accept-Encoding", tc.acceptEncoding)
		if got := resp.Header.Get("Content-Encoding"); got != tc.wantEncoding {
			t.Errorf("%s: Content-Encoding %q, want %q", tc.name, got, tc.wantEncoding)
		}
		if !bytes.Equal([]byte(body), tc.wantBody) {
			t.Errorf("%s: body %q", tc.name, body)
		}
		if got := len(team.Requests()); got != tc.wantHits {
			t.Errorf("%s: the team was asked %d times, want %d", tc.name, got, tc.wantHits)
		}
	}
}

// E11: with the team down (its server closed), a stored asset past its
// freshness is served stale within stale-if-error, or within the default
// grace when the team gave none, and counted; one the team forbade to be
// served stale (must-revalidate) fails, with a short plain answer.
func TestGatewayServesStaleAssetsWhileTheTeamIsDown(t *testing.T) {
	cases := []struct {
		name, cacheControl string
		wantStatus         int
	}{
		{"stale-if-error", "public, max-age=0, stale-if-error=600", http.StatusOK},
		{"no stale-if-error: the default grace", "public, max-age=0", http.StatusOK},
		{"must-revalidate", "public, max-age=0, must-revalidate, stale-if-error=600", http.StatusBadGateway},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			team := teamtest.NewRoutes(t, map[string]teamtest.Route{
				"/gw/logo.svg": {Body: "<svg/>", Header: map[string]string{"Content-Type": "image/svg+xml", "Cache-Control": tc.cacheControl}},
			})
			s, obs := assetShop(t, team, "")
			if resp, _ := doRequest(t, "GET", s.URL+"/gw/logo.svg", nil); resp.StatusCode != http.StatusOK {
				t.Fatalf("team up: status %d", resp.StatusCode)
			}
			team.Close() // the team is down
			resp, body := doRequest(t, "GET", s.URL+"/gw/logo.svg", nil, "Sec-Fetch-Mode", "no-cors", "Accept", "image/*")
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("team down: status %d, want %d (%q)", resp.StatusCode, tc.wantStatus, body)
			}
			if tc.wantStatus == http.StatusOK {
				if body != "<svg/>" || resp.Header.Get("Content-Type") != "image/svg+xml" {
					t.Errorf("team down: %q %q, want the stored copy", resp.Header.Get("Content-Type"), body)
				}
				if got := obs.staleOf("team"); got != 1 {
					t.Errorf("%d stale answers counted, want 1", got)
				}
				return
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || strings.Contains(body, "<") {
				t.Errorf("team down, nothing to serve: %q %q, want a short plain error", ct, body)
			}
		})
	}
}

// E11: the assets a stored fragment declares in Link, served through a
// gateway route of the shop, are fetched into the cache with it, so that
// a shopper who never asked for them gets them when the team is down.
func TestGatewayPreloadsTheAssetsAFragmentDeclares(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/header": {Body: `<nav>nav</nav>`, Header: map[string]string{
			"Cache-Control": "max-age=60",
			"Link":          `</gw/app.css?v=1>; rel=stylesheet, </elsewhere.css>; rel=stylesheet, <https://cdn.example/x.css>; rel=stylesheet`,
		}},
		"/gw/app.css": {Body: "nav{color:red}", Header: map[string]string{"Content-Type": "text/css", "Cache-Control": "public, max-age=31536000, immutable"}},
	})
	s, _ := assetShop(t, team, "")
	if resp, _ := s.get(t, "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("page: status %d", resp.StatusCode)
	}
	teamtest.WaitUntil(t, "the declared asset is fetched", func() bool { return len(team.RequestsTo("/gw/app.css")) == 1 })
	// Stored, not only fetched: the request may have ended before the
	// entry is in.
	teamtest.WaitUntil(t, "the declared asset is stored", func() bool {
		return s.inlay.engine.HasFresh(s.inlay.gateways[0].assetRequest(browserRequest(s.URL + "/gw/app.css?v=1")))
	})
	team.Close()
	resp, body := doRequest(t, "GET", s.URL+"/gw/app.css?v=1", nil, "Accept-Encoding", "gzip, deflate, br, zstd", "Sec-Fetch-Mode", "no-cors")
	if resp.StatusCode != http.StatusOK || body != "nav{color:red}" {
		t.Errorf("team down: %d %q, want the preloaded asset", resp.StatusCode, body)
	}
	if n := len(team.RequestsTo("/elsewhere.css")); n != 0 {
		t.Errorf("an asset outside the gateway routes was fetched %d times", n)
	}
}

// browserRequest is a GET of url as Chromium sends one for a stylesheet.
func browserRequest(url string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, url, nil)
	r.Header.Set("Accept-Encoding", "gzip, deflate, br, zstd")
	return r
}

// G4: a navigation through the gateway that fails gets the shop's error
// page with its status and a way back to the page it came from; a
// stylesheet, an image or a fetch gets a short plain error, and no page
// is composed for it. A team's own HTML error page passes through.
func TestGatewayFailedNavigationLandsOnTheErrorPage(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/header":             {Body: `<nav id="nav">nav</nav>`},
		"/gw/api/add":         {Status: http.StatusBadRequest, Body: "unknown product\n", Header: map[string]string{"Content-Type": "text/plain"}},
		"/gw/api/json":        {Status: http.StatusBadRequest, Body: `{"error":"x"}`, Header: map[string]string{"Content-Type": "application/json"}},
		"/gw/api/html":        {Status: http.StatusServiceUnavailable, Body: `<h1 id="team-page">the team's own page</h1>`},
		"/gw/api/json-nocors": {Status: http.StatusBadRequest, Body: `{"error":"x"}`, Header: map[string]string{"Content-Type": "application/json"}},
	})
	s, _ := assetShop(t, team, "")
	ref := s.URL + "/product/42?colour=red"
	navigate := []string{"Sec-Fetch-Mode", "navigate", "Accept", "text/html", "Referer", ref}
	formPost := []string{"Accept", "text/html,application/xhtml+xml", "Content-Type", "application/x-www-form-urlencoded", "Referer", ref}
	cases := []struct {
		name, method, path string
		header             []string
		wantStatus         int
		wantErrorPage      bool // the shop's error page with a way back
		wantBodyHas        string
	}{
		{"a navigation the team answers with a text 400", "POST", "/gw/api/add", navigate, 400, true, ""},
		{"a form POST without fetch metadata", "POST", "/gw/api/add", formPost, 400, true, ""},
		{"a fetch the team answers with JSON", "POST", "/gw/api/json", []string{"Sec-Fetch-Mode", "cors", "Accept", "application/json"}, 400, false, `{"error":"x"}`},
		{"a navigation the team answers with its own HTML page", "GET", "/gw/api/html", navigate, 503, false, `id="team-page"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.method == "POST" {
				body = strings.NewReader("sku=42")
			}
			resp, got := doRequest(t, tc.method, s.URL+tc.path, body, tc.header...)
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if tc.wantErrorPage {
				if !strings.Contains(got, `id="status">Error 400`) || !strings.Contains(got, `href="/product/42?colour=red"`) {
					t.Errorf("want the error page with a link back to the product, got %q", got)
				}
			}
			if tc.wantBodyHas != "" && !strings.Contains(got, tc.wantBodyHas) {
				t.Errorf("body %q, want it to hold %q", got, tc.wantBodyHas)
			}
		})
	}

	headerHits := len(team.RequestsTo("/header"))
	team.Close() // the team is down
	down := []struct {
		name, method string
		header       []string
		wantPage     bool
	}{
		{"a navigation", "GET", navigate, true},
		{"a form POST", "POST", formPost, true},
		{"a stylesheet", "GET", []string{"Sec-Fetch-Mode", "no-cors", "Sec-Fetch-Dest", "style", "Accept", "text/css,*/*;q=0.1", "Referer", ref}, false},
		{"an image", "GET", []string{"Sec-Fetch-Mode", "no-cors", "Accept", "image/avif,image/webp,*/*", "Referer", ref}, false},
		{"a fetch", "POST", []string{"Sec-Fetch-Mode", "cors", "Accept", "*/*", "Referer", ref}, false},
	}
	for _, tc := range down {
		t.Run("team down: "+tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.method == "POST" {
				body = strings.NewReader("sku=42")
			}
			resp, got := doRequest(t, tc.method, s.URL+"/gw/api/add", body, tc.header...)
			if resp.StatusCode != http.StatusBadGateway {
				t.Errorf("status %d, want 502", resp.StatusCode)
			}
			ct := resp.Header.Get("Content-Type")
			if tc.wantPage {
				if !strings.HasPrefix(ct, "text/html") || !strings.Contains(got, `id="status">Error 502`) || !strings.Contains(got, `id="back" href="/product/42?colour=red"`) {
					t.Errorf("want the error page with a way back, got %q %q", ct, got)
				}
				return
			}
			if !strings.HasPrefix(ct, "text/plain") || got != "502 Bad Gateway\n" {
				t.Errorf("want a short plain error, got %q %q", ct, got)
			}
		})
	}
	// The shop's error page is composed with its fragments; the plain
	// answers composed nothing. The team is down: its header failed, so
	// only the two error pages asked for it, counted or not.
	if n := len(team.RequestsTo("/header")); n != headerHits {
		t.Errorf("the header was fetched %d times after the team went down", n-headerHits)
	}
}

// G4: the way back is only ever a path of this shop: a Referer of
// another site, or one a browser would read as another site, gives "/".
func TestBackLinkIsOnlyEverAPathOfTheShop(t *testing.T) {
	cases := []struct{ referer, want string }{
		{"", "/"},
		{"http://shop.test/product/42?colour=red", "/product/42?colour=red"},
		{"http://SHOP.test/basket", "/basket"},
		{"http://shop.test", "/"},
		{"https://evil.test/product/42", "/"},
		{"//evil.test/product/42", "/"},
		{"/\\evil.test/product/42", "/"},
		{"http://shop.test/\\evil.test", "/"},
		{"http://shop.test//evil.test/x", "/"},
		{"/product/42", "/"}, // browsers send absolute Referers
		{"javascript:alert(1)", "/"},
		{"http://user@shop.test/x", "/"},
		{"http://shop.test/x\r\nSet-Cookie: a=b", "/"},
		{"http://public.test/product/7", "/product/7"},
		{`http://shop.test/p?q="><script>`, `/p?q="><script>`},
	}
	for _, tc := range cases {
		r, _ := http.NewRequest(http.MethodGet, "http://shop.test/gw/add", nil)
		r.Header.Set("Referer", tc.referer)
		if got := backLink(r, "http://public.test"); got != tc.want {
			t.Errorf("Referer %q: back %q, want %q", tc.referer, got, tc.want)
		}
	}
	// Escaped on the page: a quote in the query cannot leave the attribute.
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/header": {Body: "<nav>nav</nav>"}})
	s, _ := assetShop(t, team, "")
	team.Close()
	_, body := doRequest(t, "GET", s.URL+"/gw/x", nil, "Sec-Fetch-Mode", "navigate", "Referer", s.URL+`/p?q="><script>alert(1)</script>`)
	if strings.Contains(body, "<script>alert") || !strings.Contains(body, `href="/p?q=&#34;&gt;&lt;script&gt;`) {
		t.Errorf("the way back is not escaped: %q", body)
	}
}

// E11: a stored asset goes to the shared tier too: a replica that never
// fetched it serves it while the team is down.
func TestGatewayAssetsReachTheSharedTier(t *testing.T) {
	rs := redistest.Start(t)
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/gw/app.css": {Body: "a{}", Header: map[string]string{"Content-Type": "text/css", "Cache-Control": "public, max-age=0, stale-if-error=600"}},
	})
	tier := "cache:\n  shared:\n    url: " + rs.URL("") + "\n    timeout: 1s\n"
	a, _ := assetShop(t, team, "", tier)
	b, obs := assetShop(t, team, "", tier)
	if resp, body := doRequest(t, "GET", a.URL+"/gw/app.css", nil); resp.StatusCode != http.StatusOK || body != "a{}" {
		t.Fatalf("replica a, team up: %d %q", resp.StatusCode, body)
	}
	team.Close()
	resp, body := doRequest(t, "GET", b.URL+"/gw/app.css", nil)
	if resp.StatusCode != http.StatusOK || body != "a{}" || resp.Header.Get("Content-Type") != "text/css" {
		t.Errorf("replica b, team down: %d %q %q, want the copy replica a stored", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if got := obs.staleOf("team"); got != 1 {
		t.Errorf("replica b counted %d stale answers, want 1", got)
	}
}

// E11: an answer over the cache's entry cap (a tenth of cache.max_bytes)
// is not kept: it streams to the shopper whole, and the next request for
// it goes to the team past the cache.
func TestGatewayStreamsAnswersOverTheEntryCap(t *testing.T) {
	big := strings.Repeat("x", 300<<10) // over a tenth of 2 MiB
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/gw/big.js":   {Body: big, Header: map[string]string{"Content-Type": "text/javascript", "Cache-Control": "public, max-age=600"}},
		"/gw/small.js": {Body: "ok()", Header: map[string]string{"Content-Type": "text/javascript", "Cache-Control": "public, max-age=600"}},
	})
	s, _ := assetShop(t, team, "", "cache:\n  max_bytes: 2097152\n")
	for range 2 {
		for path, want := range map[string]string{"/gw/big.js": big, "/gw/small.js": "ok()"} {
			if resp, body := doRequest(t, "GET", s.URL+path, nil); resp.StatusCode != http.StatusOK || body != want {
				t.Fatalf("%s: %d, %d bytes, want the team's %d", path, resp.StatusCode, len(body), len(want))
			}
		}
	}
	if n := len(team.RequestsTo("/gw/big.js")); n != 2 {
		t.Errorf("the team was asked for the big answer %d times, want 2 (never kept)", n)
	}
	if n := len(team.RequestsTo("/gw/small.js")); n != 1 {
		t.Errorf("the team was asked for the small answer %d times, want 1 (kept)", n)
	}
}

// E11: a stored answer is kept per variant of the request headers its
// Vary names; Vary: Cookie is never stored.
func TestGatewayHonoursVary(t *testing.T) {
	team := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		w.Header().Set("Cache-Control", "public, max-age=600")
		if r.URL.Path == "/gw/cookie.css" {
			w.Header().Set("Vary", "Cookie")
		} else {
			w.Header().Set("Vary", "Accept-Language")
		}
		io.WriteString(w, "/* "+r.Header.Get("Accept-Language")+" */")
	})
	s, _ := assetShop(t, team, "")
	for i, tc := range []struct{ path, lang, want string }{
		{"/gw/lang.css", "de", "/* de */"},
		{"/gw/lang.css", "fr", "/* fr */"},
		{"/gw/lang.css", "de", "/* de */"},
		{"/gw/lang.css", "fr", "/* fr */"},
	} {
		if _, body := doRequest(t, "GET", s.URL+tc.path, nil, "Accept-Language", tc.lang); body != tc.want {
			t.Errorf("request %d (%s): body %q, want %q", i, tc.lang, body, tc.want)
		}
	}
	if n := len(team.RequestsTo("/gw/lang.css")); n != 2 {
		t.Errorf("the team was asked %d times for two variants, want 2", n)
	}
	for range 2 {
		doRequest(t, "GET", s.URL+"/gw/cookie.css", nil)
	}
	if n := len(team.RequestsTo("/gw/cookie.css")); n != 2 {
		t.Errorf("an answer that varies on Cookie was kept: the team was asked %d times, want 2", n)
	}
}
