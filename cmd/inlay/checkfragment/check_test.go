package checkfragment

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// TestCheckSlowWarning checks the latency warning on a measured duration,
// without making a stub slow.
func TestCheckSlowWarning(t *testing.T) {
	h := http.Header{"Content-Type": {"text/html"}, "Cache-Control": {"public, max-age=60"}}
	body := []byte("<p>x</p>")
	for _, tc := range []struct {
		took time.Duration
		want bool
	}{
		{took: 400 * time.Millisecond, want: false},
		{took: 500 * time.Millisecond, want: false},
		{took: 600 * time.Millisecond, want: true},
	} {
		obs := observation{
			Resp:     &fetch.Response{Status: 200, Header: h, Body: body},
			Status:   200,
			Header:   h,
			Raw:      body,
			Duration: tc.took,
		}
		rep := analyze(obs, Options{URL: "http://t/", Timeout: time.Second, MaxBytes: 1 << 20}, time.Now())
		warned := rep.Warnings == 1 && strings.Contains(rep.Problems[0].Message, "more than half its 1s timeout")
		if warned != tc.want {
			t.Errorf("took %s: warned %v, want %v: %+v", tc.took, warned, tc.want, rep.Problems)
		}
	}
}

// TestCheckHTML covers the markup rules one by one.
func TestCheckHTML(t *testing.T) {
	cases := []struct {
		name string
		body string
		want []string // the problems, as printed
	}{
		{name: "good", body: teamtest.GoodFragment},
		{name: "optional end tags", body: "<dl><dt>a<dd>b</dl><table><thead><tr><th>h<tbody><tr><td>c</table><ruby>x<rt>y</ruby>"},
		{name: "p closed by its parent", body: "<div><p>text</div>"},
		{name: "p closed by a void hr", body: "<p>a<hr></p>", want: []string{"error: body 1:9: stray </p>: no <p> is open; a block element such as <div> or <ul> inside a <p> closes the <p> before it"}},
		{name: "li closed by the next li through a p", body: "<ul><li><p>a<li>b</ul>"},
		// The element facts are the one table's (fragments/contract/htmlspec).
		{name: "obsolete void elements", body: "<div><keygen><bgsound><image src=x><basefont></div>"},
		{name: "keygen end tag", body: "<keygen></keygen>", want: []string{"error: body 1:9: stray </keygen>: <keygen> is a void element and has no end tag"}},
		{name: "caption end tag optional", body: "<table><caption>c<tr><td>x</table>"},
		{name: "p closed by summary", body: "<details><p>a<summary>s</summary></p></details>", want: []string{"error: body 1:34: stray </p>: no <p> is open; a block element such as <div> or <ul> inside a <p> closes the <p> before it"}},
		{name: "raw text is not markup", body: "<script src=\"/x.js\"></script><style>.a{}</style><textarea></div></textarea>"},
		{name: "custom elements", body: "<my-widget data-x=1><span>x</span></my-widget>"},
		{name: "mathml closes itself", body: "<math><mi/></math>"},
		{name: "unclosed", body: "<div>\n  <span>x", want: []string{"error: body 1:1: <div> is never closed", "error: body 2:3: <span> is never closed"}},
		{name: "stray end tag", body: "x</span>", want: []string{"error: body 1:2: stray </span>: no <span> is open"}},
		{name: "void end tag", body: "<br></br>", want: []string{"error: body 1:5: stray </br>: <br> is a void element and has no end tag"}},
		{name: "head", body: "<head></head>", want: []string{"error: body 1:1: a whole document (<!DOCTYPE>, <html>, <head> or <body>) in a fragment: Inlay places the body inside the page's <body> as it is; send only the box's markup"}},
		{name: "column in characters", body: "<p>é</span>", want: []string{"error: body 1:5: stray </span>: no <span> is open"}},
		{name: "link in body", body: `<link rel="stylesheet" href="/a.css"><p class="a">x</p>`, want: []string{"warning: body 1:1: <link rel=stylesheet> in the body: declare it in a Link response header instead, so that Inlay places it once per page, before the first fragment that needs it"}},
		{name: "many problems", body: strings.Repeat("</x>", 12), want: func() []string {
			var w []string
			for i := range 10 {
				w = append(w, "error: body 1:"+strconv.Itoa(1+4*i)+": stray </x>: no <x> is open")
			}
			return append(w, "error: and 2 more markup problems")
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, p := range checkHTML([]byte(tc.body)).problems {
				got = append(got, textLine(p))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestCheckPrimaryStatus: check-fragment judges a primary's status by the
// contract's page rules, the ones the server applies.
func TestCheckPrimaryStatus(t *testing.T) {
	html := http.Header{"Content-Type": {"text/html"}, "Cache-Control": {"public, max-age=60"}}
	cases := []struct {
		name     string
		status   int
		location string
		want     string // the one problem, as printed; "" for none
	}{
		{name: "200", status: 200},
		{name: "404", status: 404},
		{name: "204", status: 204, want: "warning: status 204 on a primary: the page would be a 200 with an empty main box"},
		{name: "205", status: 205, want: "error: status 205 on a primary is no answer to a page: the page would be a 502 error page"},
		{name: "local redirect", status: 302, location: "/basket"},
		{name: "backslash path read as a browser reads it", status: 302, location: "/a\\b"},
		{name: "protocol-relative redirect", status: 302, location: "//evil.example/", want: `error: status 302 with Location "//evil.example/": only a local path or an http(s) URL on the shop's own host passes; the page would be a 502 error page`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := html.Clone()
			if tc.location != "" {
				h.Set("Location", tc.location)
			}
			body := []byte("<p>x</p>")
			obs := observation{Resp: &fetch.Response{Status: tc.status, Header: h, Body: body}, Status: tc.status, Header: h, Raw: body}
			rep := analyze(obs, Options{URL: "http://t/", Primary: true, Timeout: time.Second, MaxBytes: 1 << 20}, time.Now())
			var got []string
			for _, p := range rep.Problems {
				got = append(got, textLine(p))
			}
			if strings.Join(got, "\n") != tc.want {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), tc.want)
			}
		})
	}
}

// TestCheckNegativeTTL: a 404 without caching headers is kept as long as
// the config's cache.negative_ttl says, as the server keeps it.
func TestCheckNegativeTTL(t *testing.T) {
	h := http.Header{"Content-Type": {"text/html"}}
	body := []byte("<p>gone</p>")
	for _, tc := range []struct {
		ttl  time.Duration
		want string
	}{
		{0, "cacheable for 5s"},
		{30 * time.Second, "cacheable for 30s"},
		{-1, "not cacheable: no max-age, s-maxage or Expires"},
	} {
		obs := observation{Resp: &fetch.Response{Status: 404, Header: h, Body: body}, Status: 404, Header: h, Raw: body}
		rep := analyze(obs, Options{URL: "http://t/", Primary: true, Timeout: time.Second, MaxBytes: 1 << 20, NegativeTTL: tc.ttl}, time.Now())
		if rep.Cache != tc.want {
			t.Errorf("negative TTL %v: cache %q, want %q", tc.ttl, rep.Cache, tc.want)
		}
	}
}
