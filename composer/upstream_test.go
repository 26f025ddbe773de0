package composer

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/inlayhq/inlay/teams/teamtest"
)

// TestOperatorLogs: an unknown path gets a log line and a count; a page's
// access-log line gives durations in whole microseconds, named with the
// unit.
func TestOperatorLogs(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/main": {Body: "<h1>main</h1>"}})
	obs := &countingObserver{}
	s := newShop(t, shopConfig{
		services:  map[string]*teamtest.Team{"team": team},
		layouts:   map[string]string{"p.html": pageHead + `<fragment src="team:/main" primary></fragment>` + pageTail},
		pages:     "  - path: /\n    layout: p.html",
		observer:  obs,
		accessLog: true,
	})
	for _, path := range []string{"/", "/wp-login.php"} {
		s.get(t, path)
	}
	if n := obs.unknownPaths.Load(); n != 1 {
		t.Errorf("unknown paths counted: %d, want 1", n)
	}
	if n := s.inlay.UpstreamRequests()["team"]; n != 1 {
		t.Errorf("upstream requests to team: %d, want 1", n)
	}
	var page, unknown map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		switch rec["msg"] {
		case "page":
			page = rec
		case "unknown path":
			unknown = rec
		}
	}
	if unknown == nil || unknown["path"] != "/wp-login.php" || unknown["status"] != float64(404) || unknown["request_id"] == "" {
		t.Errorf("unknown-path log line: %v", unknown)
	}
	if page == nil {
		t.Fatal("no access-log line for the page")
	}
	for _, field := range []string{"duration_us", "ttfb_us"} {
		if us, ok := page[field].(float64); !ok || us != math.Trunc(us) || us < 0 {
			t.Errorf("access log %s = %v, want a whole number of microseconds", field, page[field])
		}
	}
	if _, ok := page["duration"]; ok {
		t.Errorf("access log still has a unitless duration: %v", page)
	}
	if _, ok := page["degraded"]; ok {
		t.Errorf("a whole page's access-log line names degraded boxes: %v", page)
	}
}

// TestAccessLogNamesDegradedBoxes: a page whose boxes fell back says which,
// in document order.
func TestAccessLogNamesDegradedBoxes(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{
		"/main": {Body: "<h1>main</h1>"},
		"/a":    {Status: 500},
		"/b":    {Body: "<p>b</p>"},
		"/c":    {Status: 503},
	})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts: map[string]string{"p.html": pageHead + `<fragment id="a" src="team:/a"></fragment>` +
			`<fragment src="team:/main" primary></fragment><fragment id="b" src="team:/b"></fragment>` +
			`<fragment id="c" src="team:/c"></fragment>` + pageTail},
		pages:     "  - path: /\n    layout: p.html",
		accessLog: true,
	})
	s.get(t, "/")
	for _, line := range strings.Split(strings.TrimSpace(s.logs.String()), "\n") {
		var rec struct {
			Msg      string   `json:"msg"`
			Degraded []string `json:"degraded"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec.Msg == "page" {
			if !slices.Equal(rec.Degraded, []string{"a", "c"}) {
				t.Errorf("degraded %q, want [a c]", rec.Degraded)
			}
			return
		}
	}
	t.Fatal("no access-log line for the page")
}

// TestInstanceAddressesStayInside (C14): a box from a service of several
// instances names the instance that answered in the access log and in
// the debug view, which operators and designers see, and never in the
// Server-Timing header that every shopper gets: a pod's address is the
// shop's inside.
func TestInstanceAddressesStayInside(t *testing.T) {
	one := teamtest.NewRoutes(t, map[string]teamtest.Route{"/main": {Body: "<h1>main</h1>", Header: map[string]string{"Cache-Control": "no-store"}}})
	two := teamtest.NewRoutes(t, map[string]teamtest.Route{"/main": {Body: "<h1>main</h1>", Header: map[string]string{"Cache-Control": "no-store"}}})
	const token = "0123456789abcdef0123"
	sc := shopConfig{
		layouts: map[string]string{"p.html": pageHead + `<fragment id="main" src="team:/main" primary></fragment>` + pageTail},
		pages:   "  - path: /\n    layout: p.html",
		extra: fmt.Sprintf("services:\n  team:\n    endpoints: [%s, %s]\n    timeout: 2s\ndebug_token: %s\n",
			one.URL, two.URL, token),
		accessLog: true,
	}
	cfg, fsys := sc.parse(t, nil)
	s := sc.start(t, cfg, fsys)
	addrs := []string{strings.TrimPrefix(one.URL, "http://"), strings.TrimPrefix(two.URL, "http://")}

	for range 4 {
		resp, _ := s.get(t, "/")
		timing := resp.Header.Get("Server-Timing")
		if !strings.Contains(timing, "main;dur=") {
			t.Fatalf("Server-Timing %q: no entry for the box", timing)
		}
		for _, h := range resp.Header {
			for _, v := range h {
				for _, a := range addrs {
					if strings.Contains(v, a) {
						t.Errorf("a page's header names the instance %s: %q", a, v)
					}
				}
			}
		}
	}
	named := func(text string) bool { return strings.Contains(text, addrs[0]) || strings.Contains(text, addrs[1]) }
	if !named(s.logs.String()) {
		t.Errorf("the access log names no instance:\n%s", s.logs.String())
	}
	if _, body := s.get(t, "/?inlay-debug="+token); !named(body) {
		t.Errorf("the debug view names no instance:\n%s", body)
	}
}
