package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

const good = `
listen: 127.0.0.1:8080
layouts: ./layouts
page_timeout: 1500ms
services:
  shell:
    url: http://127.0.0.1:9101/
    timeout: 300ms
  basket:
    url: http://127.0.0.1:9103/team
    cookies: true
pages:
  - path: /product/{sku}
    layout: product.html
    timeout: 3s
  - path: /
    layout: home.html
gateway:
  - prefix: /basket/
    service: basket
`

func TestParseGoodConfig(t *testing.T) {
	c, err := Parse("/etc/inlay/inlay.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.LayoutsDir(); got != "/etc/inlay/layouts" {
		t.Errorf("LayoutsDir got %q, want %q", got, "/etc/inlay/layouts")
	}
	if got := c.Services["shell"].BaseURL.String(); got != "http://127.0.0.1:9101" {
		t.Errorf("shell base URL got %q", got)
	}
	if got := c.Services["basket"].BaseURL.Path; got != "/team" {
		t.Errorf("basket base path got %q", got)
	}
	if !c.Services["basket"].Cookies.All || c.Services["shell"].Cookies.Any() {
		t.Error("cookies flags wrong")
	}
	if got := c.Services["shell"].FragmentTimeout(); got != 300*time.Millisecond {
		t.Errorf("shell timeout got %v", got)
	}
	if got := c.Services["basket"].FragmentTimeout(); got != DefaultServiceTimeout {
		t.Errorf("default timeout got %v", got)
	}
	if got := c.PageDeadline(c.Pages[0]); got != 3*time.Second {
		t.Errorf("page override got %v", got)
	}
	if got := c.PageDeadline(c.Pages[1]); got != 1500*time.Millisecond {
		t.Errorf("page default got %v", got)
	}
}

func TestParseH2C(t *testing.T) {
	c, err := Parse("c.yaml", []byte("services:\n  a:\n    url: http://x:9101\n    h2c: true\n  b:\n    url: http://x:9102\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Services["a"].H2C || c.Services["b"].H2C {
		t.Errorf("h2c: a %t, b %t; want true, false", c.Services["a"].H2C, c.Services["b"].H2C)
	}
	if err := c.SetServiceURL("a", "https://x:9101"); err == nil {
		t.Error("SetServiceURL accepted an https url for an h2c service")
	}
}

func TestParseProblemsHavePositions(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown key", "services:\n  a:\n    url: http://x\n    bogus: 1\n", []string{`c.yaml:4:5: unknown field "bogus"`}},
		{"syntax", "services:\n  a: [\n", []string{"c.yaml:2:"}},
		{"bad duration", "services:\n  a:\n    url: http://x\n    timeout: 3x\n", []string{`c.yaml:4:14: service "a": timeout: bad duration`}},
		{"negative duration", "page_timeout: -1s\nservices:\n  a:\n    url: http://x\n", []string{"c.yaml:1:15: page_timeout: must be positive"}},
		{"bad scheme", "services:\n  a:\n    url: ftp://x\n", []string{`c.yaml:3:10: service "a": url must be http or https`}},
		{"userinfo", "services:\n  a:\n    url: http://u:p@x/\n", []string{`c.yaml:3:10: service "a": url must be scheme://host`}},
		{"unknown gateway service", "services:\n  a:\n    url: http://x\ngateway:\n  - prefix: /b/\n    service: b\n", []string{`c.yaml:6:14: gateway "/b/": unknown service "b" (the config has: a)`}},
		{"bad prefix", "services:\n  a:\n    url: http://x\ngateway:\n  - prefix: /-/admin/\n    service: a\n", []string{"c.yaml:5:13: gateway prefix \"/-/admin/\": /-/ is reserved"}},
		{"duplicate page", "services:\n  a:\n    url: http://x\npages:\n  - path: /\n    layout: a.html\n  - path: /\n    layout: b.html\n", []string{`c.yaml:7:11: page path "/" is listed twice`}},
		{"bad route", "services:\n  a:\n    url: http://x\npages:\n  - path: /p/x{id}\n    layout: a.html\n", []string{`c.yaml:5:11: page path "/p/x{id}"`}},
		{"no services", "pages: []\n", []string{"c.yaml:1:1: no services"}},
		{"h2c over https", "services:\n  a:\n    url: https://x\n    h2c: true\n", []string{`c.yaml:4:10: service "a": h2c is HTTP/2 without TLS, for an http:// url only`}},
		{"h2c disagreement at one address", "services:\n  a:\n    url: http://x/a\n    h2c: true\n  b:\n    url: http://X:80/b\n", []string{`c.yaml:6:10: service "b": h2c is false, but service "a" at the same address x:80 has true`}},
		{"bad error page key", "services:\n  a:\n    url: http://x\nerror_pages:\n  \"200\": ok.html\n", []string{`c.yaml:5:10: error_pages key "200": write a status from 400 to 599`}},
		{"negative drain delay", "drain_delay: -1s\nservices:\n  a:\n    url: http://x\n", []string{"c.yaml:1:14: drain_delay must not be negative"}},
		{"several, in order", "services:\n  b:\n    url: ftp://b\n  a:\n    url: ftp://a\n", []string{"c.yaml:3:10:", "c.yaml:5:10:"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tc.yaml))
			ps, ok := err.(Problems)
			if !ok {
				t.Fatalf("got error %v (%T), want Problems", err, err)
			}
			if len(ps) != len(tc.want) {
				t.Fatalf("got %q, want %q", ps.Error(), tc.want)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(ps[i].Error(), w) {
					t.Errorf("problem %d: got %q, want prefix %q", i, ps[i].Error(), w)
				}
			}
		})
	}
}

func TestCookiesTakeABoolOrNames(t *testing.T) {
	cases := []struct {
		value   string
		all     bool
		names   []string
		problem string
	}{
		{"true", true, nil, ""},
		{"false", false, nil, ""},
		{"[basket_id, cart]", false, []string{"basket_id", "cart"}, ""},
		{"yes please", false, nil, "cookies: write true, false, or a list of cookie names"},
		{`["bad name"]`, false, nil, `"bad name" is not a cookie name`},
	}
	for _, tc := range cases {
		c, err := Parse("inlay.yaml", []byte("services:\n  basket:\n    url: http://127.0.0.1:9103\n    cookies: "+tc.value+"\n"))
		if tc.problem != "" {
			if err == nil || !strings.Contains(err.Error(), tc.problem) || !strings.HasPrefix(err.Error(), "inlay.yaml:4:") {
				t.Errorf("cookies: %s: got %v, want a problem at line 4 with %q", tc.value, err, tc.problem)
			}
			continue
		}
		if err != nil {
			t.Fatalf("cookies: %s: %v", tc.value, err)
		}
		got := c.Services["basket"].Cookies
		if got.All != tc.all || !slices.Equal(got.Names, tc.names) {
			t.Errorf("cookies: %s: got %+v", tc.value, got)
		}
	}
	only := Cookies{Names: []string{"basket_id"}}
	if got := only.Filter([]string{"a=1; basket_id=b; c=2", "basket_id=x"}); len(got) != 1 || got[0] != "basket_id=b; basket_id=x" {
		t.Errorf("Filter: got %q", got)
	}
	if got := only.Filter([]string{"a=1"}); got != nil {
		t.Errorf("Filter with no match: got %q, want nil", got)
	}
}

func TestGatewayDeadlines(t *testing.T) {
	c, err := Parse("inlay.yaml", []byte("services:\n  b:\n    url: http://127.0.0.1:1\ngateway:\n  - prefix: /b/\n    service: b\n  - prefix: /c/\n    service: b\n    timeout: 2s\n    idle_timeout: 5m\n    upload_timeout: 1m\n"))
	if err != nil {
		t.Fatal(err)
	}
	d, g := c.Gateway[0], c.Gateway[1]
	if d.HeaderTimeout() != 30*time.Second || d.BodyIdleTimeout() != time.Minute || d.UploadDeadline() != 30*time.Second {
		t.Errorf("defaults: %v %v %v", d.HeaderTimeout(), d.BodyIdleTimeout(), d.UploadDeadline())
	}
	if g.HeaderTimeout() != 2*time.Second || g.BodyIdleTimeout() != 5*time.Minute || g.UploadDeadline() != time.Minute {
		t.Errorf("set: %v %v %v", g.HeaderTimeout(), g.BodyIdleTimeout(), g.UploadDeadline())
	}
	_, err = Parse("inlay.yaml", []byte("services:\n  b:\n    url: http://127.0.0.1:1\ngateway:\n  - prefix: /b/\n    service: b\n    idle_timeout: soon\n"))
	if err == nil || !strings.Contains(err.Error(), "inlay.yaml:7:") || !strings.Contains(err.Error(), "idle_timeout") {
		t.Errorf("bad idle_timeout: got %v, want a problem at line 7", err)
	}
}

func TestErrorPageAndDrainDefaults(t *testing.T) {
	c, err := Parse("c.yaml", []byte("services:\n  a:\n    url: http://x\nerror_pages:\n  \"404\": nf.html\n  \"5xx\": e.html\n  \"503\": busy.html\n"))
	if err != nil {
		t.Fatal(err)
	}
	for status, want := range map[int]string{404: "nf.html", 410: "", 500: "e.html", 503: "busy.html", 504: "e.html"} {
		if got, _ := c.ErrorPage(status); got != want {
			t.Errorf("ErrorPage(%d) = %q, want %q", status, got, want)
		}
	}
	if c.Drain() != 5*time.Second {
		t.Errorf("default drain delay %v, want 5s", c.Drain())
	}
}

// TestUnknownKeySuggestsTheKeyMeant: an unknown key close to a key of the
// config at its place names that key; one close to none, or close only to
// a key of another place, names none.
func TestUnknownKeySuggestsTheKeyMeant(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"top level, letters swapped", "servcies:\n  a:\n    url: http://x\n",
			`c.yaml:1:1: unknown field "servcies" (did you mean "services"?)`},
		{"in a service, a letter lost", "services:\n  a:\n    url: http://x\n    timeot: 1s\n",
			`c.yaml:4:5: unknown field "timeot" (did you mean "timeout"?)`},
		{"two levels down", "services:\n  a:\n    url: http://x\n    canary:\n      url: http://y\n      weigth: 5\n",
			`c.yaml:6:7: unknown field "weigth" (did you mean "weight"?)`},
		{"in a list", "pages:\n  - path: /\n    layot: a.html\n",
			`c.yaml:3:5: unknown field "layot" (did you mean "layout"?)`},
		{"capitals", "Listen: 127.0.0.1:1\n",
			`c.yaml:1:1: unknown field "Listen" (did you mean "listen"?)`},
		{"close to nothing", "services:\n  a:\n    url: http://x\nfoo: 1\n",
			`c.yaml:4:1: unknown field "foo"`},
		{"a key of another place", "weight: 5\n",
			`c.yaml:1:1: unknown field "weight"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tc.yaml))
			var ps Problems
			if !errors.As(err, &ps) || len(ps) != 1 {
				t.Fatalf("got %v, want one problem", err)
			}
			if got := ps[0].Error(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// FuzzParse: any bytes as a config file give a config or Problems, never
// a panic; an unknown key's suggestion, which walks the file's tree and
// Config's types, included.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{good, "servcies:\n  a:\n    url: http://x\n", "pages:\n  - path: /\n    layot: a.html\n",
		"services:\n  a: &x\n    url: http://x\n    timeot: 1s\n  b: *x\n", "services:\n  a:\n    url: http://x\n    canary:\n      weigth: 5\n"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.yaml", data)
		if err != nil {
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error %v (%T) is not Problems", err, err)
			}
			return
		}
		if c == nil {
			t.Fatal("no config and no error")
		}
	})
}

// TestDecoderPanicIsAProblem: go-yaml panics decoding a tag with no value
// where a list belongs; the file gets a problem at the tag instead, and
// the process (a reload, say) goes on.
func TestDecoderPanicIsAProblem(t *testing.T) {
	for _, tag := range []string{"!!seq", "!!str", "!custom"} {
		_, err := Parse("c.yaml", []byte("services:\n  a:\n    url: http://x\n    headers: "+tag+"\n"))
		var ps Problems
		want := `c.yaml:4:14: the YAML decoder cannot read the value tagged ` + tag + ` (`
		if !errors.As(err, &ps) || len(ps) != 1 || !strings.HasPrefix(ps[0].Error(), want) {
			t.Errorf("headers: %s: got %v, want one problem starting %q", tag, err, want)
		}
	}
}
