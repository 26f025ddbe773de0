package composer

// The fragment contract, safe by default (rows C, D and S of the fault
// matrix, docs/fault-matrix.md, as far as the composer answers them):
// exactly which shopper headers reach each kind of service, that nothing
// from the request can poison the cache or add markup, that a layout src can
// only ever reach a configured service, that fragment bodies are never
// interpreted, which cookies reach the shopper, how HEAD, conditionals and
// assets behave.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"testing/synctest"
	"time"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/fragments/guard"
	"github.com/inlayhq/inlay/static"
	"github.com/inlayhq/inlay/teams/teamtest"
	"go.uber.org/goleak"
	"golang.org/x/net/html"
)

// rawRequest sends raw bytes as one HTTP/1.1 request to addr and returns the
// response with its body read whole. Raw bytes make sure every header the
// test names is on the wire exactly as written.
func rawRequest(t testing.TB, addr, raw string) (*http.Response, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatalf("writing the request: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the response body: %v", err)
	}
	return resp, string(body)
}

// lastRequestTo returns the last request the stub got for path.
func lastRequestTo(t *testing.T, st *teamtest.Team, path string) teamtest.Request {
	t.Helper()
	reqs := st.RequestsTo(path)
	if len(reqs) == 0 {
		t.Fatalf("no request reached %s", path)
	}
	return reqs[len(reqs)-1]
}

// headerNames returns the sorted canonical names of h.
func headerNames(h http.Header) []string {
	var names []string
	for name := range h {
		names = append(names, http.CanonicalHeaderKey(name))
	}
	slices.Sort(names)
	return names
}

// skeleton is a page's token skeleton: its doctype and tags with their
// attribute names, in order; text, attribute values and comments left out.
// Two pages with one skeleton have the same elements and attributes.
func skeleton(t testing.TB, page string) []string {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(page))
	var out []string
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				t.Fatalf("tokenizing the page: %v", z.Err())
			}
			return out
		case html.DoctypeToken:
			out = append(out, "!doctype")
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, more := z.TagName()
			tok := string(name)
			if tt == html.EndTagToken {
				tok = "/" + tok
			}
			for more {
				var key []byte
				key, _, more = z.TagAttr()
				tok += " " + string(key)
			}
			out = append(out, tok)
		}
	}
}

// ---- C2: request headers by service class ----

// C2: the shopper sends every header a proxy must not pass on; each class
// of service receives exactly its allowlist, its page context and its
// credentials, with a valid trace context and nothing else.
func TestFragmentRequestCarriesExactlyWhatItsServiceMaySee(t *testing.T) {
	const (
		validTP   = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
		invalidTP = "00-00000000000000000000000000000000-00f067aa0ba902b7-01" // all-zero trace id
		shopperUA = "shopper-agent/1.0"
	)
	type class struct {
		service string
		yaml    string
		// what the service gets beyond Inlay's own headers
		cookie, authorization, context, userAgent bool
	}
	classes := []class{
		{service: "plain", context: true, userAgent: true},
		{service: "cookied", yaml: "    cookies: true\n", cookie: true, context: true, userAgent: true},
		{service: "authed", yaml: "    authorization: true\n", authorization: true, context: true, userAgent: true},
		{service: "lang", yaml: "    headers: [Accept-Language]\n", context: true},
		{service: "nocontext", yaml: "    context: false\n", userAgent: true},
	}
	for _, tp := range []struct {
		name, value string
		valid       bool
	}{{"valid traceparent", validTP, true}, {"invalid traceparent", invalidTP, false}} {
		t.Run(tp.name, func(t *testing.T) {
			stubs := map[string]*teamtest.Team{}
			serviceYAML := map[string]string{}
			layout := pageHead
			for _, c := range classes {
				stubs[c.service] = teamtest.NewRoutes(t, map[string]teamtest.Route{"/f": {Body: "<p>" + c.service + "</p>"}})
				serviceYAML[c.service] = c.yaml
				layout += `<fragment id="` + c.service + `-box" src="` + c.service + `:/f"></fragment>`
			}
			s := newShop(t, shopConfig{
				services:    stubs,
				serviceYAML: serviceYAML,
				layouts:     map[string]string{"p.html": layout + pageTail},
				pages:       "  - path: /product/{sku}\n    layout: p.html",
			})
			resp, body := rawRequest(t, s.Listener.Addr().String(), "GET /product/shoe-1 HTTP/1.1\r\n"+
				"Host: shop.example:8080\r\n"+
				"Cookie: session=s3cret\r\n"+
				"Authorization: Bearer t0ken\r\n"+
				"X-Forwarded-Host: evil.example\r\n"+
				"X-Wrong-Header: wrong\r\n"+
				"Connection: X-Secret\r\n"+
				"X-Secret: 1\r\n"+
				"Keep-Alive: timeout=5\r\n"+
				"TE: trailers\r\n"+
				"Upgrade: websocket\r\n"+
				"Range: bytes=0-10\r\n"+
				`If-None-Match: "v1"`+"\r\n"+
				"If-Modified-Since: Mon, 01 Jan 2024 00:00:00 GMT\r\n"+
				"Accept-Language: de-DE\r\n"+
				"User-Agent: "+shopperUA+"\r\n"+
				"traceparent: "+tp.value+"\r\n"+
				"tracestate: congo=t61rcWkgMzE\r\n"+
				"X-Request-Id: req-123\r\n"+
				"\r\n")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("page: got status %d, want 200; body %q", resp.StatusCode, body)
			}
			for _, c := range classes {
				t.Run(c.service, func(t *testing.T) {
					got := lastRequestTo(t, stubs[c.service], "/f")
					if got.Method != http.MethodGet || got.Body != "" {
						t.Errorf("got a %s with body %q, want a GET without body", got.Method, got.Body)
					}
					// Accept-Encoding and a User-Agent are always on the
					// wire: Go's transport sets them when Inlay does not.
					want := map[string]string{
						"Accept":           "text/html",
						"Accept-Encoding":  "gzip",
						"User-Agent":       "Go-http-client/1.1",
						"Accept-Language":  "de-DE",
						"X-Request-Id":     "req-123",
						"X-Inlay-Fragment": c.service + "-box",
					}
					if c.userAgent {
						want["User-Agent"] = shopperUA
					}
					if tp.valid {
						want["Traceparent"] = validTP
						want["Tracestate"] = "congo=t61rcWkgMzE"
					}
					if c.context {
						want["X-Inlay-Page-Path"] = "/product/shoe-1"
						want["X-Inlay-Page-Route"] = "/product/{sku}"
						want["X-Inlay-Route-Params"] = "sku=shoe-1"
						want["X-Inlay-Base-Url"] = "http://shop.example:8080"
					}
					if c.cookie {
						want["Cookie"] = "session=s3cret"
					}
					if c.authorization {
						want["Authorization"] = "Bearer t0ken"
					}
					wantNames := slices.Sorted(maps.Keys(want))
					if gotNames := headerNames(got.Header); !slices.Equal(gotNames, wantNames) {
						t.Errorf("header names:\ngot  %q\nwant %q", gotNames, wantNames)
					}
					for name, v := range want {
						if g := got.Header.Values(name); len(g) != 1 || g[0] != v {
							t.Errorf("%s: got %q, want exactly %q", name, g, v)
						}
					}
				})
			}
		})
	}
}

// C2: a header the shopper names in Connection is hop-by-hop (RFC 9110
// §7.6.1), so it is not forwarded even to a service that lists it.
func TestConnectionNamedHeaderIsNeverForwarded(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/f": {Body: "<p>f</p>"}})
	s := newShop(t, shopConfig{
		services:    map[string]*teamtest.Team{"team": team},
		serviceYAML: map[string]string{"team": "    headers: [Accept-Language, X-Secret]\n"},
		layouts:     map[string]string{"p.html": pageHead + `<fragment id="f" src="team:/f"></fragment>` + pageTail},
		pages:       "  - path: /\n    layout: p.html",
	})
	for _, conn := range []string{"X-Secret", "keep-alive, x-secret", "Accept-Language"} {
		t.Run(conn, func(t *testing.T) {
			resp, body := rawRequest(t, s.Listener.Addr().String(), "GET / HTTP/1.1\r\nHost: shop.example\r\n"+
				"Connection: "+conn+"\r\nX-Secret: 1\r\nAccept-Language: de-DE\r\n\r\n")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("page: got status %d, want 200; body %q", resp.StatusCode, body)
			}
			got := lastRequestTo(t, team, "/f").Header
			named := map[string]bool{}
			for _, tok := range strings.Split(conn, ",") {
				named[http.CanonicalHeaderKey(strings.TrimSpace(tok))] = true
			}
			for _, name := range []string{"X-Secret", "Accept-Language"} {
				if v := got.Get(name); named[name] && v != "" {
					t.Errorf("%s named in Connection: got %q forwarded, want it dropped", name, v)
				} else if !named[name] && v == "" {
					t.Errorf("%s not named in Connection: got it dropped, want it forwarded (the service lists it)", name)
				}
			}
		})
	}
}

// X-Inlay-Base-URL is the configured public_url, or else the scheme and
// Host of the request; never X-Forwarded-Host or X-Forwarded-Proto.
func TestFragmentBaseURLComesFromPublicURLOrHost(t *testing.T) {
	cases := []struct {
		name, extra, host, want string
	}{
		{"from the Host", "", "shop.example:8080", "http://shop.example:8080"},
		{"from public_url", "public_url: https://www.shop.example/\n", "WWW.shop.example:8080", "https://www.shop.example"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/f": {Body: "<p>f</p>"}})
			s := newShop(t, shopConfig{
				services: map[string]*teamtest.Team{"team": team},
				layouts:  map[string]string{"p.html": pageHead + `<fragment src="team:/f"></fragment>` + pageTail},
				pages:    "  - path: /\n    layout: p.html",
				extra:    tc.extra,
			})
			resp, _ := rawRequest(t, s.Listener.Addr().String(), "GET / HTTP/1.1\r\nHost: "+tc.host+"\r\n"+
				"X-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: gopher\r\nForwarded: host=evil.example\r\n\r\n")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("page: got status %d, want 200", resp.StatusCode)
			}
			if got := lastRequestTo(t, team, "/f").Header.Values(HeaderBaseURL); len(got) != 1 || got[0] != tc.want {
				t.Errorf("%s: got %q, want exactly %q", HeaderBaseURL, got, tc.want)
			}
		})
	}
}

// C2: a service may not list a header that is hop-by-hop, a credential
// (those have their own switches) or Inlay's own: the config is refused
// with the position of the offending entry.
func TestForbiddenForwardedHeaderIsAConfigError(t *testing.T) {
	for _, h := range []string{"Cookie", "cookie", "Authorization", "Connection", "Keep-Alive", "TE", "Upgrade",
		"Transfer-Encoding", "Host", "Range", "If-None-Match", "If-Modified-Since", "X-Request-Id", "Traceparent",
		"X-Inlay-Foo", "x-inlay-page-path", "Bad Header", "X-Secret:1"} {
		t.Run(h, func(t *testing.T) {
			yaml := "services:\n" +
				"  team:\n" +
				"    url: http://127.0.0.1:9\n" +
				"    headers:\n" +
				"      - Accept-Language\n" +
				"      - " + h + "\n" +
				"pages:\n  - path: /\n    layout: p.html\n"
			_, err := config.Parse("inlay.yaml", []byte(yaml))
			if err == nil {
				t.Fatalf("headers: [Accept-Language, %s]: got no error, want a config error", h)
			}
			want := regexp.MustCompile(`^inlay\.yaml:6:9: `)
			if !want.MatchString(err.Error()) {
				t.Errorf("got error %q, want one at %s", err, "inlay.yaml:6:9")
			}
			if strings.Count(err.Error(), "\n") != 0 {
				t.Errorf("got several problems %q, want only the one about %s", err, h)
			}
		})
	}
}

// ---- C4: cache poisoning ----

// C4: a cacheable fragment reflects X-Forwarded-Host and Accept-Language,
// and says so with Vary: Accept-Language. The first shopper poisons both;
// the clean shopper after never sees it: X-Forwarded-Host is not
// forwarded, and the language the fragment varies on is a variant of its
// own.
func TestReflectedRequestHeaderCannotPoisonTheCache(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/f": {Handler: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "Accept-Language")
		fmt.Fprintf(w, "<a href=\"//%s/\">lang=%s</a>", r.Header.Get("X-Forwarded-Host"), r.Header.Get("Accept-Language"))
	}}})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts:  map[string]string{"p.html": pageHead + `<fragment src="team:/f"></fragment>` + pageTail},
		pages:    "  - path: /\n    layout: p.html",
	})
	_, poisoned := s.get(t, "/", "X-Forwarded-Host", "evil.example", "Accept-Language", "xx-evil")
	if strings.Contains(poisoned, "evil.example") {
		t.Errorf("poisoning request: X-Forwarded-Host reached the fragment: %q", poisoned)
	}
	for _, clean := range [][]string{nil, {"Accept-Language", "en"}, nil} {
		_, body := s.get(t, "/", clean...)
		if strings.Contains(body, "evil") {
			t.Errorf("clean request %q: got %q, want nothing of the poisoning request", clean, body)
		}
	}
	// The cache is on: the poisoning request's own variant is a hit, and
	// so is the repeated clean one: three variants, three fetches.
	_, again := s.get(t, "/", "X-Forwarded-Host", "evil.example", "Accept-Language", "xx-evil")
	if again != poisoned {
		t.Errorf("repeated poisoning request: got %q, want the cached %q", again, poisoned)
	}
	if n := team.Hits(); n != 3 {
		t.Errorf("fragment fetches: got %d, want 3 (one per distinct Accept-Language)", n)
	}
}

// Headers a fragment does not vary on never split the cache: 100 user
// agents and 10 languages cost one fetch of a public fragment without
// Vary, and one per language with Vary: Accept-Language. The page path
// (a context header) does not split it either.
func TestCacheKeyFollowsVaryOnly(t *testing.T) {
	for _, tc := range []struct {
		vary string
		want int64
	}{{"", 1}, {"Accept-Language", 10}} {
		t.Run("vary="+tc.vary, func(t *testing.T) {
			team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/f": {Handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("Cache-Control", "public, max-age=600")
				if tc.vary != "" {
					w.Header().Set("Vary", tc.vary)
				}
				io.WriteString(w, "<p>hello</p>")
			}}})
			s := newShop(t, shopConfig{
				services: map[string]*teamtest.Team{"team": team},
				layouts:  map[string]string{"p.html": pageHead + `<fragment src="team:/f"></fragment>` + pageTail},
				pages:    "  - path: /\n    layout: p.html\n  - path: /p/{sku}\n    layout: p.html",
			})
			for ua := range 100 {
				for lang := range 10 {
					path := "/"
					if ua%2 == 1 {
						path = fmt.Sprintf("/p/sku-%d", ua)
					}
					resp, body := s.get(t, path, "User-Agent", fmt.Sprintf("agent/%d", ua), "Accept-Language", fmt.Sprintf("l%d-x,en;q=0.5", lang))
					if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<p>hello</p>") {
						t.Fatalf("page: got %d %q", resp.StatusCode, body)
					}
				}
			}
			if n := team.Hits(); n != tc.want {
				t.Errorf("upstream fetches: got %d, want %d", n, tc.want)
			}
		})
	}
}

// ---- C6: request values in the page ----

// c6Shop serves a search page and a product page whose primaries take
// request values into their src; the fragments answer the same markup
// whatever they are asked, so any difference in the page is Inlay's.
func c6Shop(t testing.TB) *shop {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/results":   {Body: `<ul class="results"><li>one</li></ul>`},
		"/product/x": {Body: `<h1 class="product">x</h1>`},
		"/header":    {Body: `<nav><a href="/">home</a></nav>`},
	})
	return newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts: map[string]string{
			"search.html":  pageHead + `<fragment src="team:/header?q={q}"></fragment><fragment src="team:/results?q={q}" primary></fragment>` + pageTail,
			"product.html": pageHead + `<fragment src="team:/header?sku={sku}&q={q}"></fragment><fragment src="team:/product/x?sku={sku}" primary></fragment>` + pageTail,
		},
		pages: "  - path: /search\n    layout: search.html\n  - path: /product/{sku}\n    layout: product.html",
	})
}

// c6Get fetches path (already escaped as it goes on the wire) with
// headers, returning status and body.
func c6Get(t testing.TB, s *shop, rawPath string, header ...string) (int, string) {
	t.Helper()
	req := "GET " + rawPath + " HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n"
	for i := 0; i+1 < len(header); i += 2 {
		req += header[i] + ": " + header[i+1] + "\r\n"
	}
	resp, body := rawRequest(t, s.Listener.Addr().String(), req+"\r\n")
	return resp.StatusCode, body
}

// C6: hostile values in the query, the path and the headers leave the
// page's elements and attributes exactly as a benign request's; the 404
// page for an unknown path does not echo it.
func TestRequestValuesNeverAddMarkup(t *testing.T) {
	s := c6Shop(t)
	hostile := `"><script>alert(1)</script>`
	cases := []struct {
		name, benign, hostile string
		header                []string
		status                int
	}{
		{"query, raw on the wire", "/search?q=shoes", `/search?q="><script>alert(1)</script>`, nil, 200},
		{"query, escaped", "/search?q=shoes", "/search?q=" + url.QueryEscape(hostile), nil, 200},
		{"path", "/product/shoe-1", "/product/" + url.PathEscape("<svg onload=alert(1)>"), nil, 200},
		{"path with quotes", "/product/shoe-1", "/product/" + url.PathEscape(`x"'><img src=x onerror=alert(1)>`), nil, 200},
		{"headers", "/search?q=shoes", "/search?q=shoes", []string{"Accept-Language", `de"><script>alert(1)</script>`, "X-Request-Id", `"><svg onload=alert(1)>`, "User-Agent", "<script>alert(1)</script>"}, 200},
		{"unknown path", "/nope/benign", "/nope/" + url.PathEscape("<svg onload=alert(1)>"), nil, 404},
		{"unknown path, raw on the wire", "/nope/benign", `/nope/<svg/onload=alert(1)>`, nil, 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			benignStatus, benign := c6Get(t, s, tc.benign)
			status, page := c6Get(t, s, tc.hostile, tc.header...)
			if status != tc.status || benignStatus != tc.status {
				t.Fatalf("status: got %d (benign %d), want %d; page %q", status, benignStatus, tc.status, page)
			}
			if got, want := skeleton(t, page), skeleton(t, benign); !slices.Equal(got, want) {
				t.Errorf("token skeleton:\ngot  %q\nwant %q\npage %q", got, want, page)
			}
			for _, echo := range []string{"alert", "onload", "onerror", "<svg", "<script>alert"} {
				if strings.Contains(strings.ToLower(page), echo) {
					t.Errorf("page echoes %q: %q", echo, page)
				}
			}
		})
	}
}

// C6: the token skeleton of the product page does not depend on the
// route parameter or the query, whatever their value.
func FuzzLayoutVars(f *testing.F) {
	for _, seed := range [][2]string{
		{"shoe-1", "shoes"},
		{"<svg onload=alert(1)>", `"><script>alert(1)</script>`},
		{`x"'><img src=x onerror=alert(1)>`, "</title><script>"},
		{"a/b", "q&lang=xx"},
		{"%2e%2e", "{q}"},
		{"\x00\xff", "\r\nX: y"},
		{"-->", "<!--"},
	} {
		f.Add(seed[0], seed[1])
	}
	s := c6Shop(f)
	want := map[int][]string{}
	for status, path := range map[int]string{200: "/product/shoe-1?q=shoes", 404: "/nope/benign"} {
		got, page := c6Get(f, s, path)
		if got != status {
			f.Fatalf("benign %s: got status %d, want %d", path, got, status)
		}
		want[status] = skeleton(f, page)
	}
	f.Fuzz(func(t *testing.T, sku, q string) {
		path := "/product/" + url.PathEscape(sku) + "?q=" + url.QueryEscape(q)
		status, page := c6Get(t, s, path)
		skel, ok := want[status]
		if !ok {
			t.Fatalf("%s: got status %d, want 200 or 404", path, status)
		}
		if got := skeleton(t, page); !slices.Equal(got, skel) {
			t.Errorf("%s: token skeleton:\ngot  %q\nwant %q", path, got, skel)
		}
	})
}

func isControl(r rune) bool { return r < ' ' || r == 0x7f }

// The page path goes to fragments in X-Inlay-Page-Path. A shopper's path
// with an escaped control byte must neither break the fragment requests
// nor count against a service's breaker: a handful of such requests would
// otherwise open it for every shopper.
func TestControlBytesInThePathCannotBreakFragmentRequests(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/main": {Body: "<h1>main</h1>"}, "/box": {Body: "<p>box</p>"}})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts:  map[string]string{"p.html": pageHead + `<fragment src="team:/main" primary></fragment><fragment src="team:/box"></fragment>` + pageTail},
		pages:    "  - path: /product/{sku}\n    layout: p.html",
	})
	want := pageHead + "<h1>main</h1><p>box</p>" + pageTail
	for _, path := range []string{"/product/%0A", "/product/%00", "/product/a%0D%0AX-Evil:%201", "/product/%7F", "/product/%09"} {
		for range 3 {
			if resp, body := s.get(t, path); resp.StatusCode != http.StatusOK || body != want {
				t.Errorf("GET %s: got %d %q, want 200 %q", path, resp.StatusCode, body, want)
			}
		}
		got := lastRequestTo(t, team, "/main").Header.Get(HeaderPagePath)
		if strings.ContainsFunc(got, isControl) || got == "" {
			t.Errorf("GET %s: %s got %q, want a non-empty value without control bytes", path, HeaderPagePath, got)
		}
	}
	for _, endpoint := range []string{"/main", "/box"} {
		if c := s.inlay.Guards().EndpointCounts("team", endpoint); c.TotalFailures != 0 || c.Requests == 0 {
			t.Errorf("team %s breaker: got %d failures of %d fetches, want 0 of some", endpoint, c.TotalFailures, c.Requests)
		}
	}
	if resp, body := s.get(t, "/product/shoe-1"); resp.StatusCode != http.StatusOK || body != want {
		t.Errorf("follow-up page: got %d %q, want 200 %q", resp.StatusCode, body, want)
	}
}

// ---- D1, D2: src allowlist and dial policy ----

// noCache turns the fragment cache off for tests where New must fail: a
// failed New leaks the cache's goroutine (see
// TestFailedNewLeavesNoGoroutineBehind).
const noCache = "cache:\n  disabled: true\n"

// A New that fails (a broken layout) leaves nothing running behind it:
// the caller has no Server to Close.
func TestFailedNewLeavesNoGoroutineBehind(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	sc := shopConfig{layouts: map[string]string{"p.html": d1Layout("http://169.254.169.254/")}, pages: "  - path: /\n    layout: p.html"}
	cfg, fsys := sc.parse(t, map[string]string{"team": "http://127.0.0.1:9"})
	_, logger := sc.logger()
	if _, err := New(cfg, Options{LayoutFS: fsys, Logger: logger}); err == nil {
		t.Fatal("New: got no error, want the layout refused")
	}
	goleak.VerifyNone(t, ignore)
}

// d1Layout puts the fragment tag at line 3, column 3.
func d1Layout(src string) string {
	return "<!DOCTYPE html>\n<html><body>\n  <fragment id=\"x\" src=\"" + src + "\"></fragment>\n</body></html>\n"
}

// d1Srcs are layout src values that must never be fetched; %s stands for
// the configured service's host:port.
var d1Srcs = []string{
	"http://169.254.169.254/latest/meta-data/",
	"http://[fd00:ec2::254]/latest/meta-data/",
	"http://metadata.google.internal/computeMetadata/v1/",
	"file:///etc/passwd",
	"gopher://127.0.0.1:6379/_INFO",
	"http://localhost:6060/debug/pprof/",
	"http://2130706433/",
	"http://0x7f.1/",
	"http://0177.0.0.1/",
	"http://allowed@169.254.169.254/",
	"http://%s@169.254.169.254/",
	"http://%s:pw@169.254.169.254/",
	"http://169.254.169.254#@%s/",
	"http://169.254.169.254\\@%s/",
	"https://%s/f",
	"team://169.254.169.254/",
	"team:@169.254.169.254/",
	"team://%s/f",
	"team:/f\r\nHost: 169.254.169.254",
	"team:/f\nX-Evil: 1",
	"team:/f&#13;&#10;Host: 169.254.169.254",
	"team:/f\x00",
}

// D1: a layout whose src could reach anything but a configured service is
// refused at load with FILE:LINE:COL, before any connection is made.
func TestMaliciousSrcIsRefusedAtLoadWithoutADial(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/f": {Body: "<p>f</p>"}})
	teamHost := team.Listener.Addr().String()
	for _, raw := range d1Srcs {
		src := raw
		if strings.Contains(src, "%s") {
			src = fmt.Sprintf(src, teamHost)
		}
		t.Run(fmt.Sprintf("%q", src), func(t *testing.T) {
			spy := newDialSpy(t)
			sc := shopConfig{layouts: map[string]string{"p.html": d1Layout(src)}, pages: "  - path: /\n    layout: p.html", extra: noCache}
			cfg, fsys := sc.parse(t, map[string]string{"team": team.URL})
			_, logger := sc.logger()
			_, err := New(cfg, Options{LayoutFS: fsys, Logger: logger, FetchTransport: spy, Transport: spy})
			if err == nil {
				t.Fatalf("New: got no error, want the layout refused")
			}
			if !regexp.MustCompile(`(?m)^p\.html:3:\d+: `).MatchString(err.Error()) {
				t.Errorf("New: got %q, want a problem at p.html:3:COL", err)
			}
			if got := spy.dialled(); len(got) != 0 {
				t.Errorf("dialled %q, want nothing", got)
			}
		})
	}
	if n := team.Hits(); n != 0 {
		t.Errorf("team requests: got %d, want 0", n)
	}
}

// D1: the same src edited into a running layout is refused by the reload
// with FILE:LINE:COL; the last good layout keeps serving and only the
// configured service is ever dialled.
func TestMaliciousSrcOnReloadKeepsTheLastGoodLayout(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/f": {Body: "<p>good</p>"}})
	teamHost := team.Listener.Addr().String()
	spy := newDialSpy(t)
	sc := shopConfig{layouts: map[string]string{"p.html": d1Layout("team:/f")}, pages: "  - path: /\n    layout: p.html"}
	cfg, fsys := sc.parse(t, map[string]string{"team": team.URL})
	logs, logger := sc.logger()
	srv, err := New(cfg, Options{LayoutFS: fsys, Logger: logger, FetchTransport: spy, Transport: spy})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(srv.Close)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	s := &shop{Server: hs, inlay: srv, logs: logs}
	good := d1Layout("team:/f")
	good = strings.Replace(good, `<fragment id="x" src="team:/f"></fragment>`, "<p>good</p>", 1)
	for _, raw := range d1Srcs {
		src := raw
		if strings.Contains(src, "%s") {
			src = fmt.Sprintf(src, teamHost)
		}
		fsys["p.html"] = &fstest.MapFile{Data: []byte(d1Layout(src))}
		ps := srv.Layouts().Reload()
		if len(ps) == 0 || !regexp.MustCompile(`^p\.html:3:\d+: `).MatchString(ps[0].Error()) {
			t.Errorf("reload with src %q: got problems %v, want one at p.html:3:COL", src, ps)
		}
		if resp, body := s.get(t, "/"); resp.StatusCode != http.StatusOK || body != good {
			t.Errorf("after reload with src %q: got %d %q, want 200 %q", src, resp.StatusCode, body, good)
		}
	}
	for _, addr := range spy.dialled() {
		if addr != teamHost {
			t.Errorf("dialled %s, want only the team service at %s", addr, teamHost)
		}
	}
	if n := len(team.RequestsTo("/f")); n != len(d1Srcs) {
		t.Errorf("team requests: got %d, want %d (one per page)", n, len(d1Srcs))
	}
}

// D2: a service configured by name on loopback (http://localhost:PORT) is
// reachable through the composer's own dial policy, while another loopback
// port nobody configured cannot even be written in a layout: no dial.
func TestOnlyConfiguredLoopbackServicesAreReachable(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/f": {Body: "<p>team</p>"}})
	other := teamtest.NewRoutes(t, map[string]teamtest.Route{"/secret": {Body: "<p>secret</p>"}})
	_, teamPort, _ := net.SplitHostPort(team.Listener.Addr().String())
	_, otherPort, _ := net.SplitHostPort(other.Listener.Addr().String())
	teamURL := "http://localhost:" + teamPort

	t.Run("configured name works", func(t *testing.T) {
		// No FetchTransport: the composer's dial policy applies.
		sc := shopConfig{layouts: map[string]string{"p.html": pageHead + `<fragment src="team:/f"></fragment>` + pageTail}, pages: "  - path: /\n    layout: p.html"}
		cfg, fsys := sc.parse(t, map[string]string{"team": teamURL})
		logs, logger := sc.logger()
		srv, err := New(cfg, Options{LayoutFS: fsys, Logger: logger})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		t.Cleanup(srv.Close)
		hs := httptest.NewServer(srv)
		t.Cleanup(hs.Close)
		s := &shop{Server: hs, inlay: srv, logs: logs}
		if resp, body := s.get(t, "/"); resp.StatusCode != http.StatusOK || body != pageHead+"<p>team</p>"+pageTail {
			t.Errorf("page: got %d %q, want 200 with the team's fragment; logs %s", resp.StatusCode, body, s.logText())
		}
	})
	for _, src := range []string{
		"http://127.0.0.1:" + otherPort + "/secret",
		"http://localhost:" + otherPort + "/secret",
		"http://[::1]:" + otherPort + "/secret",
		"http://127.0.0.2:" + teamPort + "/f",
		"http://127.0.0.1:" + teamPort + "/f", // the same socket, but not the configured origin
	} {
		t.Run(src, func(t *testing.T) {
			spy := newDialSpy(t)
			sc := shopConfig{layouts: map[string]string{"p.html": d1Layout(src)}, pages: "  - path: /\n    layout: p.html", extra: noCache}
			cfg, fsys := sc.parse(t, map[string]string{"team": teamURL})
			_, logger := sc.logger()
			_, err := New(cfg, Options{LayoutFS: fsys, Logger: logger, FetchTransport: spy, Transport: spy})
			if err == nil || !regexp.MustCompile(`^p\.html:3:\d+: `).MatchString(err.Error()) {
				t.Errorf("New: got %v, want a layout problem at p.html:3:COL", err)
			}
			if got := spy.dialled(); len(got) != 0 {
				t.Errorf("dialled %q, want nothing", got)
			}
		})
	}
	if n := other.Hits(); n != 0 {
		t.Errorf("unconfigured service requests: got %d, want 0", n)
	}
}

// ---- D3: ESI injection ----

// D3: tags in a fragment body that a layout would act on are passed
// through verbatim and never fetched.
func TestIncludeTagsInAFragmentBodyAreNeverFollowed(t *testing.T) {
	var team *teamtest.Team
	team = teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/secret": {Body: "<p>SECRET</p>"},
		"/box": {Handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, injectedBody(team.Listener.Addr().String()))
		}},
	})
	spy := newDialSpy(t)
	s := newShop(t, shopConfig{
		services:       map[string]*teamtest.Team{"team": team},
		layouts:        map[string]string{"p.html": pageHead + `<fragment src="team:/box"></fragment>` + pageTail},
		pages:          "  - path: /\n    layout: p.html",
		fetchTransport: spy,
	})
	resp, body := s.get(t, "/")
	if want := pageHead + injectedBody(team.Listener.Addr().String()) + pageTail; resp.StatusCode != http.StatusOK || body != want {
		t.Errorf("page:\ngot  %d %q\nwant 200 %q", resp.StatusCode, body, want)
	}
	if n := len(team.RequestsTo("/secret")); n != 0 {
		t.Errorf("requests for /secret: got %d, want 0", n)
	}
	if n := team.Hits(); n != 1 {
		t.Errorf("team requests: got %d, want 1 (the box)", n)
	}
	for _, addr := range spy.dialled() {
		if addr != team.Listener.Addr().String() {
			t.Errorf("dialled %s, want only the team service", addr)
		}
	}
}

func injectedBody(teamHost string) string {
	return `<div class="box"><fragment src="team:/secret"></fragment>` +
		`<fragment src="http://` + teamHost + `/secret" primary></fragment>` +
		`<esi:include src="http://169.254.169.254/latest/meta-data/"/>` +
		`<esi:include src="team:/secret"></esi:include>` +
		`<!--esi <esi:include src="http://` + teamHost + `/secret"/> -->` +
		`<!--#include virtual="/secret" -->` +
		`</div>`
}

// ---- C1: cookies ----

// C1: a fragment of a set_cookies service that answered before the page's
// headers left gets its cookie to the shopper, next to the primary's; a
// non-primary cookie of another service is dropped and counted, and a
// set_cookies fragment that answers after the headers cannot add one.
func TestSetCookiesServiceCookieReachesTheShopperWhenItAnsweredFirst(t *testing.T) {
	memTest(t, func(t *testing.T, way memWay) {
		primaryGate, lateGate := make(chan struct{}), make(chan struct{})
		gated := func(gate chan struct{}, body, cookie string) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-gate:
				case <-r.Context().Done():
					return
				}
				htmlHandler(0, body, "Set-Cookie", cookie)(w, r)
			}
		}
		obs := &countingObserver{}
		s := newMemShop(t, way, shopConfig{
			observer:    obs,
			serviceYAML: map[string]string{"sess": "    set_cookies: true\n", "late": "    set_cookies: true\n"},
			layouts: map[string]string{"p.html": pageHead + `<fragment id="sess" src="sess:/f"></fragment><fragment id="side" src="side:/f"></fragment>` +
				`<fragment id="main" src="shell:/main" primary></fragment><fragment id="late" src="late:/f"></fragment>` + pageTail},
			pages: "  - path: /\n    layout: p.html",
		}, map[string]http.HandlerFunc{
			"sess":  htmlHandler(0, "<p>sess</p>", "Set-Cookie", "sess=1; Path=/"),
			"side":  htmlHandler(0, "<p>side</p>", "Set-Cookie", "side=1; Path=/"),
			"shell": gated(primaryGate, "<h1>main</h1>", "primary=1; Path=/"),
			"late":  gated(lateGate, "<p>late</p>", "late=1; Path=/"),
		}, guard.Config{})
		var resp *http.Response
		done := make(chan struct{})
		go func() {
			defer close(done)
			resp = serve(s.inlay, context.Background(), "/")
		}()
		synctest.Wait() // sess and side have answered; main and late are held
		close(primaryGate)
		synctest.Wait() // the headers have left; the page waits for late
		close(lateGate)
		<-done
		body, _ := io.ReadAll(resp.Body)
		if want := pageHead + "<p>sess</p><p>side</p><h1>main</h1><p>late</p>" + pageTail; resp.StatusCode != http.StatusOK || string(body) != want {
			t.Errorf("page:\ngot  %d %q\nwant 200 %q", resp.StatusCode, body, want)
		}
		if got, want := resp.Header.Values("Set-Cookie"), []string{"primary=1; Path=/", "sess=1; Path=/"}; !slices.Equal(got, want) {
			t.Errorf("Set-Cookie: got %q, want %q", got, want)
		}
		if n := obs.droppedCookies.Load(); n != 1 {
			t.Errorf("dropped cookies: got %d, want 1 (side's)", n)
		}
	})
}

// ---- C10: conditionals and ranges on the page request ----

// C10: Range and conditional headers on the page request get the whole
// page with 200, and never reach a fragment, whose service would answer
// them with a 206, 304 or 412 that breaks the page.
func TestRangeAndConditionalPageRequestsGetTheWholePage(t *testing.T) {
	modified := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/f": {Handler: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Cache-Control", "no-store")
		http.ServeContent(w, r, "f.html", modified, strings.NewReader("<h1>the whole fragment</h1>"))
	}}})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts:  map[string]string{"p.html": pageHead + `<fragment src="team:/f" primary></fragment>` + pageTail},
		pages:    "  - path: /\n    layout: p.html",
	})
	want := pageHead + "<h1>the whole fragment</h1>" + pageTail
	cases := []struct{ name, value string }{
		{"Range", "bytes=0-3"},
		{"If-None-Match", `"v1"`},
		{"If-Modified-Since", modified.Add(time.Hour).Format(http.TimeFormat)},
		{"If-Match", `"other"`},
		{"If-Unmodified-Since", modified.Add(-time.Hour).Format(http.TimeFormat)},
		{"If-Range", `"v1"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			header := []string{tc.name, tc.value}
			if tc.name == "If-Range" {
				header = append(header, "Range", "bytes=0-3")
			}
			resp, body := s.get(t, "/", header...)
			if resp.StatusCode != http.StatusOK || body != want {
				t.Errorf("page: got %d %q, want 200 %q", resp.StatusCode, body, want)
			}
			if got := resp.Header.Get("Content-Range"); got != "" {
				t.Errorf("Content-Range: got %q, want none", got)
			}
			got := lastRequestTo(t, team, "/f").Header
			for i := 0; i < len(header); i += 2 {
				if v := got.Get(header[i]); v != "" {
					t.Errorf("%s reached the fragment: got %q, want none", header[i], v)
				}
			}
		})
	}
}

// ---- S4: HEAD ----

// S4: HEAD answers with GET's status and headers and no body, fetching
// only the primary.
func TestHeadAnswersLikeGetWithoutBodyFetchingOnlyThePrimary(t *testing.T) {
	cases := []struct {
		name       string
		primary    teamtest.Route
		wantStatus int
	}{
		{"200", teamtest.Route{Body: "<h1>product</h1>", Header: map[string]string{"Cache-Control": "no-store",
			"Set-Cookie": "session=1; Path=/", "Link": "</p.css>; rel=stylesheet"}}, 200},
		{"404", teamtest.Route{Status: 404, Body: "<h1>no such product</h1>", Header: map[string]string{"Cache-Control": "no-store"}}, 404},
		{"302", teamtest.Route{Status: 302, Header: map[string]string{"Location": "/login"}}, 302},
		{"500 is a 502 page", teamtest.Route{Status: 500}, 502},
	}
	compared := []string{"Content-Type", "Cache-Control", "Link", "Set-Cookie", "Location", "Content-Security-Policy"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			team := teamtest.NewRoutes(t, map[string]teamtest.Route{
				"/header": {Body: "<nav>header</nav>", Header: map[string]string{"Cache-Control": "no-store"}},
				"/main":   tc.primary,
				"/footer": {Body: "<p>footer</p>", Header: map[string]string{"Cache-Control": "no-store"}},
			})
			s := newShop(t, shopConfig{
				services: map[string]*teamtest.Team{"team": team},
				layouts: map[string]string{"p.html": pageHead + `<fragment src="team:/header"></fragment>` +
					`<fragment src="team:/main" primary></fragment><fragment src="team:/footer"></fragment>` + pageTail},
				pages: "  - path: /\n    layout: p.html",
			})
			client := &http.Client{Timeout: 10 * time.Second,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			head, err := client.Head(s.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			head.Body.Close()
			fetched := map[string]int{}
			for _, p := range []string{"/header", "/main", "/footer"} {
				fetched[p] = len(team.RequestsTo(p))
			}
			if want := map[string]int{"/header": 0, "/main": 1, "/footer": 0}; !mapsEqual(fetched, want) {
				t.Errorf("HEAD fetched %v, want %v", fetched, want)
			}
			// The handler itself writes no body for HEAD (a real server
			// would discard one silently).
			rec := httptest.NewRecorder()
			s.inlay.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/", nil))
			if rec.Body.Len() != 0 {
				t.Errorf("HEAD body: got %q, want none", rec.Body.String())
			}
			if rec.Code != tc.wantStatus {
				t.Errorf("HEAD served directly: got status %d, want %d", rec.Code, tc.wantStatus)
			}
			get, body := s.get(t, "/")
			if head.StatusCode != tc.wantStatus || get.StatusCode != tc.wantStatus {
				t.Errorf("status: got HEAD %d, GET %d, want %d", head.StatusCode, get.StatusCode, tc.wantStatus)
			}
			if tc.wantStatus == 200 && body == "" {
				t.Errorf("GET body is empty")
			}
			for _, name := range compared {
				if h, g := head.Header.Values(name), get.Header.Values(name); !slices.Equal(h, g) {
					t.Errorf("%s: got HEAD %q, GET %q, want them equal", name, h, g)
				}
			}
			if head.Header.Get(HeaderRequestID) == "" {
				t.Errorf("HEAD has no %s", HeaderRequestID)
			}
		})
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// ---- Assets ----

// Each asset reaches the page once, however many fragments ask for it, in
// the order first declared, just before the first fragment that needs it,
// so its CSS applies before that markup paints. The fragments answer in
// reverse order, which changes nothing. The primary's stylesheets are
// announced in the page's Link header; without async boxes, scripts carry
// no nonce and the page no CSP.
func TestEachAssetIsPlacedOnceBeforeTheFirstFragmentThatNeedsIt(t *testing.T) {
	gates := []chan struct{}{make(chan struct{}), make(chan struct{}), make(chan struct{})}
	arrived := make(chan string, 3)
	link := func(links ...string) map[string]string {
		return map[string]string{"Link": strings.Join(links, ", "), "Cache-Control": "no-store"}
	}
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/f1": {Body: "<p>f1</p>", Gate: gates[0], Arrived: arrived,
			Header: link("</a.css>; rel=stylesheet", "</x.js>; rel=modulepreload", "</b.css>; rel=stylesheet")},
		"/f2": {Body: "<p>f2</p>", Gate: gates[1], Arrived: arrived,
			Header: link("</b.css>; rel=stylesheet", "</c.css>; rel=stylesheet", "</y.js>; rel=script", "</x.js>; rel=modulepreload")},
		"/f3": {Body: "<p>f3</p>", Gate: gates[2], Arrived: arrived,
			Header: link("</a.css>; rel=stylesheet", "</c.css>; rel=stylesheet", "</y.js>; rel=fragment-script", "</z.js>; rel=script")},
	})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts: map[string]string{"p.html": pageHead + `<fragment id="f1" src="team:/f1"></fragment><hr>` +
			`<fragment id="f2" src="team:/f2" primary></fragment><hr><fragment id="f3" src="team:/f3"></fragment>` + pageTail},
		pages: "  - path: /\n    layout: p.html",
	})
	go func() {
		for range 3 {
			<-arrived
		}
		close(gates[2])
		close(gates[1])
		close(gates[0])
	}()
	resp, page := s.get(t, "/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status: got %d, want 200", resp.StatusCode)
	}
	tags := map[string]string{
		"a.css": `<link rel="stylesheet" href="/a.css">`,
		"b.css": `<link rel="stylesheet" href="/b.css">`,
		"c.css": `<link rel="stylesheet" href="/c.css">`,
		"x.js":  `<script type="module" src="/x.js"></script>`,
		"y.js":  `<script src="/y.js" defer></script>`,
		"z.js":  `<script src="/z.js" defer></script>`,
	}
	// Where each asset must stand: after the markup before the first
	// fragment that needs it, and before that fragment's body.
	firstNeed := map[string][2]string{
		"a.css": {pageHead, "<p>f1</p>"}, "x.js": {pageHead, "<p>f1</p>"}, "b.css": {pageHead, "<p>f1</p>"},
		"c.css": {"<p>f1</p><hr>", "<p>f2</p>"}, "y.js": {"<p>f1</p><hr>", "<p>f2</p>"},
		"z.js": {"<p>f2</p><hr>", "<p>f3</p>"},
	}
	for name, tag := range tags {
		if n := strings.Count(page, tag); n != 1 {
			t.Errorf("%s: got %d tags, want 1", name, n)
			continue
		}
		at := strings.Index(page, tag)
		after, before := strings.Index(page, firstNeed[name][0])+len(firstNeed[name][0]), strings.Index(page, firstNeed[name][1])
		if at < after || at > before {
			t.Errorf("%s: tag at byte %d, want between %d and %d (just before %q)", name, at, after, before, firstNeed[name][1])
		}
	}
	want := pageHead + tags["a.css"] + tags["x.js"] + tags["b.css"] + "<p>f1</p><hr>" +
		tags["c.css"] + tags["y.js"] + "<p>f2</p><hr>" + tags["z.js"] + "<p>f3</p>" + pageTail
	if page != want {
		t.Errorf("page:\ngot  %q\nwant %q", page, want)
	}
	if strings.Contains(page, "nonce") || resp.Header.Get("Content-Security-Policy") != "" {
		t.Errorf("a page without async boxes: got a nonce or CSP (%q), want neither", resp.Header.Get("Content-Security-Policy"))
	}
	wantLink := []string{"</b.css>; rel=preload; as=style", "</c.css>; rel=preload; as=style", "</y.js>; rel=preload; as=script", "</x.js>; rel=modulepreload"}
	if got := resp.Header.Values("Link"); !slices.Equal(got, wantLink) {
		t.Errorf("Link: got %q, want %q", got, wantLink)
	}
}

// The primary's scripts are announced in the page's Link header too, as
// the issue asks of all its assets ("The primary's assets are also
// announced in the page's own Link response header"): a module script as
// modulepreload, a classic script as a script preload.
func TestPrimaryScriptsAreAnnouncedInTheLinkHeader(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/main": {Body: "<h1>main</h1>", Header: map[string]string{
		"Link": "</m.css>; rel=stylesheet, </m.js>; rel=modulepreload, </c.js>; rel=script"}}})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts:  map[string]string{"p.html": pageHead + `<fragment src="team:/main" primary></fragment>` + pageTail},
		pages:    "  - path: /\n    layout: p.html",
	})
	resp, _ := s.get(t, "/")
	got := resp.Header.Values("Link")
	for _, want := range []string{"</m.css>; rel=preload; as=style", "</m.js>; rel=modulepreload", "</c.js>; rel=preload; as=script"} {
		if !slices.Contains(got, want) {
			t.Errorf("Link: got %q, want it to contain %q", got, want)
		}
	}
}

// ---- Inlay's own static assets ----

// Inlay's own assets are served by the composer under content-hashed names
// that may be cached forever.
func TestInlayStaticAssetsAreServedImmutable(t *testing.T) {
	team := teamtest.NewRoutes(t, nil)
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts:  map[string]string{"p.html": pageHead + pageTail},
		pages:    "  - path: /\n    layout: p.html",
	})
	p := static.Path("inlay.css")
	if !regexp.MustCompile(`^/-/static/inlay\.[0-9a-f]+\.css$`).MatchString(p) {
		t.Fatalf("static.Path(inlay.css): got %q, want a hashed name under /-/static/", p)
	}
	resp, body := s.get(t, p)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: got status %d, want 200", p, resp.StatusCode)
	}
	if got, want := resp.Header.Get("Cache-Control"), "public, max-age=31536000, immutable"; got != want {
		t.Errorf("Cache-Control: got %q, want %q", got, want)
	}
	if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/css") {
		t.Errorf("Content-Type: got %q, want text/css", got)
	}
	if body == "" {
		t.Errorf("body: got nothing, want the stylesheet")
	}
	if resp, _ := s.get(t, "/-/static/inlay.0000000000.css"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown hashed name: got status %d, want 404", resp.StatusCode)
	}
	if n := team.Hits(); n != 0 {
		t.Errorf("team requests: got %d, want 0", n)
	}
}
