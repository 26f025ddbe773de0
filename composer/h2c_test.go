package composer

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/inlayhq/inlay/teams/teamtest"
)

// newH2CStub is a stub that speaks only h2c (HTTP/2 without TLS, prior
// knowledge): an HTTP/1.1 request to it fails.
func newH2CStub(t testing.TB, routes map[string]teamtest.Route) *teamtest.Team {
	t.Helper()
	s := teamtest.NewUnstarted(t, routes)
	s.SpeakOnlyH2C()
	s.Start()
	return s
}

// protoRoute answers a fragment naming the protocol it was asked over.
func protoRoute(name string) teamtest.Route {
	return teamtest.Route{Handler: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<p>%s over HTTP/%d</p>", name, r.ProtoMajor)
	}}
}

// A service with h2c: true gets its fragments and its gateway requests
// over HTTP/2 without TLS; the other services get HTTP/1.1.
func TestH2CServiceIsFetchedOverHTTP2(t *testing.T) {
	h2 := newH2CStub(t, map[string]teamtest.Route{
		"/frag": protoRoute("h2"),
		"/h2/api": {Handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprintf(w, "%s over HTTP/%d", r.Method, r.ProtoMajor)
		}},
	})
	h1 := teamtest.NewRoutes(t, map[string]teamtest.Route{"/frag": protoRoute("h1")})
	s := newShop(t, shopConfig{
		services:    map[string]*teamtest.Team{"h2": h2, "h1": h1},
		serviceYAML: map[string]string{"h2": "    h2c: true\n"},
		layouts: map[string]string{"p.html": pageHead +
			`<fragment id="a" src="h2:/frag" primary></fragment><fragment id="b" src="h1:/frag"></fragment>` + pageTail},
		pages:   "  - path: /\n    layout: p.html",
		gateway: "  - prefix: /h2/\n    service: h2",
	})

	for range 3 { // the second and third pages reuse the connections
		resp, body := s.get(t, "/")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want 200; logs:\n%s", resp.StatusCode, s.logText())
		}
		if want := pageHead + "<p>h2 over HTTP/2</p><p>h1 over HTTP/1</p>" + pageTail; body != want {
			t.Fatalf("page:\ngot  %q\nwant %q", body, want)
		}
	}

	resp, err := http.Post(s.URL+"/h2/api", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "POST over HTTP/2" {
		t.Errorf("gateway: got %d %q, want 200 %q", resp.StatusCode, body, "POST over HTTP/2")
	}
	if got := h2.RequestsTo("/h2/api"); len(got) != 1 || got[0].Body != "hello" {
		t.Errorf("gateway: the service got %+v, want one request with the body %q", got, "hello")
	}
}

// Without h2c: true, a service that speaks only h2c cannot be reached:
// the default is HTTP/1.1, and the failure is the service's own.
func TestH2COnlyServiceNeedsTheOption(t *testing.T) {
	h2 := newH2CStub(t, map[string]teamtest.Route{"/frag": protoRoute("h2")})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"h2": h2},
		layouts:  map[string]string{"p.html": pageHead + `<fragment id="a" src="h2:/frag">down</fragment>` + pageTail},
		pages:    "  - path: /\n    layout: p.html",
	})
	resp, body := s.get(t, "/")
	if resp.StatusCode != http.StatusOK || body != pageHead+"down"+pageTail {
		t.Errorf("got %d %q, want 200 with the inline fallback", resp.StatusCode, body)
	}
}
