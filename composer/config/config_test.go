package config

import (
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
	if !c.Services["basket"].Cookies || c.Services["shell"].Cookies {
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
		{"unknown gateway service", "services:\n  a:\n    url: http://x\ngateway:\n  - prefix: /b/\n    service: b\n", []string{`c.yaml:6:14: gateway "/b/": unknown service "b"`}},
		{"bad prefix", "services:\n  a:\n    url: http://x\ngateway:\n  - prefix: /-/admin/\n    service: a\n", []string{"c.yaml:5:13: gateway prefix \"/-/admin/\": /-/ is reserved"}},
		{"duplicate page", "services:\n  a:\n    url: http://x\npages:\n  - path: /\n    layout: a.html\n  - path: /\n    layout: b.html\n", []string{`c.yaml:7:11: page path "/" is listed twice`}},
		{"bad route", "services:\n  a:\n    url: http://x\npages:\n  - path: /p/x{id}\n    layout: a.html\n", []string{`c.yaml:5:11: page path "/p/x{id}"`}},
		{"no services", "pages: []\n", []string{"c.yaml:1:1: no services"}},
		{"h2c over https", "services:\n  a:\n    url: https://x\n    h2c: true\n", []string{`c.yaml:4:10: service "a": h2c is HTTP/2 without TLS, for an http:// url only`}},
		{"h2c disagreement at one address", "services:\n  a:\n    url: http://x/a\n    h2c: true\n  b:\n    url: http://X:80/b\n", []string{`c.yaml:6:10: service "b": h2c is false, but service "a" at the same address x:80 has true`}},
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
