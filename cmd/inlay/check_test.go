package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inlayhq/inlay/fragments"
)

// goodBody is a fragment body that uses what HTML allows and a strict XML
// reading would not: optional end tags, void elements, self-closing SVG.
const goodBody = `<section class="team-box">
  <h2>Today</h2>
  <p>First<p>Second
  <ul><li>one<li>two</ul>
  <img src="/team/static/a.png" alt=""><br/>
  <table><tr><td>1<td>2<tr><td>3</table>
  <select><option>a<option>b</select>
  <svg viewBox="0 0 1 1"><path d="M0 0"/></svg>
  <script type="application/ld+json">{"@type": "Thing"}</script>
</section>`

// stub returns a handler that answers like a fragment service: the given
// status, headers and body.
func stub(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Add(headers[i], headers[i+1])
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// goodHeaders are the headers of a well-behaved fragment.
var goodHeaders = []string{
	"Content-Type", "text/html; charset=utf-8",
	"Cache-Control", "public, max-age=60, stale-if-error=300",
	"Link", "</team/static/team.css>; rel=stylesheet",
}

// html200 answers 200 text/html, cacheable, with a stylesheet Link, plus
// any further headers.
func html200(body string, headers ...string) http.HandlerFunc {
	return stub(http.StatusOK, body, append(append([]string{}, goodHeaders...), headers...)...)
}

// TestCheckFragment runs `inlay check-fragment` against stub fragments and
// checks its exit status and the messages it prints.
func TestCheckFragment(t *testing.T) {
	// hold keeps the slow stub's request open until the client gives up;
	// closing it at the end releases any that remain.
	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	slow := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hold:
		case <-r.Context().Done():
		}
	}

	cases := []struct {
		name     string
		handler  http.HandlerFunc
		flags    []string
		urlFirst bool // put the flags after the URL
		code     int
		want     []string // substrings of stdout
		notWant  []string
	}{
		{
			name:    "good fragment",
			handler: html200(goodBody),
			code:    0,
			want: []string{
				"summary: status 200 | text/html; charset=utf-8 | ",
				"| cacheable for 60s, stale-if-error 300s | assets: stylesheet /team/static/team.css | 0 errors, 0 warnings",
			},
			notWant: []string{"error:", "warning:"},
		},
		{
			name:    "empty 204",
			handler: stub(http.StatusNoContent, "", "Cache-Control", "public, max-age=60"),
			code:    0,
			want:    []string{"summary: status 204 | ", "not cacheable: status 204 (only a 200 is stored)", "0 errors, 0 warnings"},
		},
		{
			name:    "JSON content type",
			handler: stub(http.StatusOK, `{"a":1}`, "Content-Type", "application/json", "Cache-Control", "public, max-age=60"),
			code:    1,
			want:    []string{`error: fetch failed: status 200 with content type "application/json": a fragment must be text/html`},
		},
		{
			name:    "server error",
			handler: stub(http.StatusInternalServerError, "oops", "Content-Type", "text/plain"),
			code:    1,
			want:    []string{"error: fetch failed: status 500: a 5xx is a failure", "its box would show its fallback", "summary: status 500 |"},
		},
		{
			name:    "server error on a primary",
			handler: stub(http.StatusBadGateway, "oops"),
			flags:   []string{"--primary"},
			code:    1,
			want:    []string{"error: fetch failed: status 502", "the page would be a 502 error page"},
		},
		{
			name:    "not found",
			handler: stub(http.StatusNotFound, "<div>gone", "Content-Type", "text/html"),
			code:    1,
			want:    []string{"error: status 404: a non-primary fragment must answer 200 or 204", "1 error, 0 warnings"},
		},
		{
			name:    "not found on a primary",
			handler: stub(http.StatusNotFound, "<p>gone</p>", "Content-Type", "text/html"),
			flags:   []string{"--primary"},
			code:    0,
			notWant: []string{"error:"},
		},
		{
			name:    "not found on a primary is placed, so checked",
			handler: stub(http.StatusNotFound, "<div>gone", "Content-Type", "text/html"),
			flags:   []string{"--primary"},
			code:    1,
			want:    []string{"error: body 1:1: <div> is never closed"},
		},
		{
			name:    "redirect",
			handler: stub(http.StatusFound, "", "Location", "/elsewhere"),
			code:    1,
			want:    []string{"error: status 302: redirects are never followed"},
		},
		{
			name:    "redirect on a primary without Location",
			handler: stub(http.StatusFound, ""),
			flags:   []string{"--primary"},
			code:    1,
			want:    []string{"error: status 302 without a Location header"},
		},
		{
			name:    "redirect on a primary to a local path",
			handler: stub(http.StatusSeeOther, "", "Location", "/basket"),
			flags:   []string{"--primary"},
			code:    0,
			notWant: []string{"error:", "warning:"},
		},
		{
			name:    "redirect on a primary to an absolute URL",
			handler: stub(http.StatusFound, "", "Location", "https://shop.example/basket"),
			flags:   []string{"--primary"},
			code:    0,
			want:    []string{`warning: status 302 with absolute Location "https://shop.example/basket": it passes only when its host is the shop's own host`},
		},
		{
			name:    "redirect on a primary to a relative path",
			handler: stub(http.StatusFound, "", "Location", "basket"),
			flags:   []string{"--primary"},
			code:    1,
			want:    []string{`error: status 302 with Location "basket": only a local path or an http(s) URL on the shop's own host passes`},
		},
		{
			name:    "Set-Cookie",
			handler: html200("<p>hi</p>", "Set-Cookie", "a=1"),
			code:    1,
			want:    []string{"error: Set-Cookie on a non-primary fragment", "not cacheable: Set-Cookie"},
		},
		{
			name:    "Set-Cookie on a primary",
			handler: html200("<p>hi</p>", "Set-Cookie", "a=1"),
			flags:   []string{"--primary"},
			code:    0,
			notWant: []string{"error:"},
		},
		{
			name:    "Set-Cookie allowed by set_cookies",
			handler: html200("<p>hi</p>", "Set-Cookie", "a=1"),
			flags:   []string{"--set-cookies"},
			code:    0,
			want:    []string{"warning: Set-Cookie on a non-primary fragment reaches the shopper only when"},
		},
		{
			name:    "unclosed div",
			handler: html200("<div class=\"box\">\n  <p>text\n"),
			code:    1,
			want:    []string{"error: body 1:1: <div> is never closed"},
		},
		{
			name:    "mismatched end tag",
			handler: html200(`<div><span>text</div>`),
			code:    1,
			want:    []string{"error: body 1:6: <span> is not closed before </div> at 1:16"},
		},
		{
			name:    "div closing itself",
			handler: html200(`<div/><p>x</p>`),
			code:    1,
			want:    []string{`error: body 1:1: <div/>: "/>" does not close a <div> in HTML`},
		},
		{
			name:    "block inside p",
			handler: html200(`<p><div>x</div></p>`),
			code:    1,
			want:    []string{"error: body 1:16: stray </p>: no <p> is open"},
		},
		{
			name:    "whole document",
			handler: html200("<!DOCTYPE html>\n<html><head><title>x</title></head><body><p>x</p></body></html>"),
			code:    1,
			want:    []string{"error: body 1:1: a whole document"},
		},
		{
			name:    "fragment inside",
			handler: html200(`<div><fragment src="shell:/x"></fragment></div>`),
			code:    1,
			want:    []string{"error: body 1:6: <fragment> inside a fragment is never processed"},
		},
		{
			name:    "ESI include",
			handler: html200(`<div><esi:include src="/x"/></div>`),
			code:    1,
			want:    []string{"error: body 1:6: <esi:include> is never processed"},
		},
		{
			name:    "slower than the timeout",
			handler: slow,
			flags:   []string{"--timeout", "50ms"},
			code:    1,
			want:    []string{"error: fetch failed: no complete response within the 50ms timeout: its box would show its fallback", "summary: no response"},
		},
		{
			name:    "too large",
			handler: html200("<p>" + strings.Repeat("x", 4096) + "</p>"),
			flags:   []string{"--max-bytes", "1024"},
			code:    1,
			want:    []string{"error: fetch failed: the body is larger than 1024 bytes", "| over 1024 bytes |", "not cacheable: the fetch failed"},
		},
		{
			name:    "too large by Content-Length",
			handler: html200("<p>" + strings.Repeat("x", 1500) + "</p>"),
			flags:   []string{"--max-bytes", "1024"},
			code:    1,
			want:    []string{"error: fetch failed: the body is larger than 1024 bytes", "| over 1024 bytes |"},
		},
		{
			name:    "large",
			handler: html200("<p>" + strings.Repeat("x", 300<<10) + "</p>"),
			code:    0,
			want:    []string{"warning: the body is 307207 bytes, more than 262144"},
		},
		{
			name:    "no-store",
			handler: stub(http.StatusOK, "<p>x</p>", "Content-Type", "text/html", "Cache-Control", "no-store"),
			code:    0,
			want:    []string{"warning: Cache-Control no-store defeats caching", "not cacheable: no-store", "0 errors, 1 warning"},
		},
		{
			name:    "no-store strict",
			handler: stub(http.StatusOK, "<p>x</p>", "Content-Type", "text/html", "Cache-Control", "no-store"),
			flags:   []string{"--strict"},
			code:    1,
			want:    []string{"warning: Cache-Control no-store defeats caching"},
		},
		{
			name:    "private with cookies",
			handler: stub(http.StatusOK, "<p>x</p>", "Content-Type", "text/html", "Cache-Control", "private", "Vary", "Cookie"),
			flags:   []string{"--cookies"},
			code:    0,
			want:    []string{"not cacheable: private, Vary: Cookie"},
			notWant: []string{"warning:"},
		},
		{
			name:    "no Cache-Control",
			handler: stub(http.StatusOK, "<p>x</p>", "Content-Type", "text/html"),
			code:    0,
			want:    []string{"warning: no Cache-Control: Inlay does not store this fragment", "not cacheable: no max-age, s-maxage or Expires"},
		},
		{
			name:    "max-age=0 and Vary",
			handler: stub(http.StatusOK, "<p>x</p>", "Content-Type", "text/html", "Cache-Control", "max-age=0", "Vary", "*"),
			code:    0,
			want:    []string{"warning: Cache-Control max-age=0", "warning: Vary: * defeats caching"},
		},
		{
			name:    "byte order mark",
			handler: html200("\uFEFF<p>x</p>"),
			code:    0,
			want:    []string{"warning: the body starts with a byte order mark"},
		},
		{
			name:    "invalid UTF-8",
			handler: html200("<p>caf\xe9</p>"),
			code:    0,
			want:    []string{"warning: the body is not valid UTF-8 (first bad byte at offset 6)"},
		},
		{
			name:    "classes without a stylesheet",
			handler: stub(http.StatusOK, "<p>\n<b class=\"x\">x</b></p>", "Content-Type", "text/html", "Cache-Control", "public, max-age=60"),
			code:    0,
			want:    []string{"warning: body 2:1: the markup uses class attributes but no Link header declares a stylesheet"},
		},
		{
			name:    "inline script",
			handler: html200(`<button onclick="go()">Go</button><script>go()</script>`),
			code:    0,
			want:    []string{"warning: body 1:1: inline event handler onclick=", "warning: body 1:35: inline <script>"},
		},
		{
			name:     "flags after the URL",
			handler:  html200("<p>hi</p>", "Set-Cookie", "a=1"),
			flags:    []string{"--primary"},
			urlFirst: true,
			code:     0,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			t.Cleanup(srv.Close)
			args := append([]string{"check-fragment"}, tc.flags...)
			args = append(args, srv.URL+"/team/fragments/box")
			if tc.urlFirst {
				args = append([]string{"check-fragment", srv.URL + "/team/fragments/box"}, tc.flags...)
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), args, &stdout, &stderr)
			out := stdout.String()
			if code != tc.code {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out, w) {
					t.Errorf("stdout has %q:\n%s", w, out)
				}
			}
			if lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n"); !strings.HasPrefix(lines[len(lines)-1], "summary: ") {
				t.Errorf("the last line is not the summary:\n%s", out)
			}
		})
	}
}

// TestCheckFragmentRequest checks that the fragment is asked for as Inlay
// asks for it, and the JSON output.
func TestCheckFragmentRequest(t *testing.T) {
	got := make(chan *http.Request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r
		html200(goodBody, "Set-Cookie", "a=1").ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"check-fragment", "--format", "json", "--id", "header", srv.URL + "/f?q=1"}, &stdout, &stderr)
	if code != 1 {
		t.Errorf("exit status %d, want 1 (Set-Cookie)\nstderr: %s", code, stderr.String())
	}
	var rep checkReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout.String())
	}
	r := <-got
	if r.Method != http.MethodGet || r.URL.RequestURI() != "/f?q=1" {
		t.Errorf("request %s %s, want GET /f?q=1", r.Method, r.URL.RequestURI())
	}
	for name, want := range map[string]string{
		"Accept":           "text/html",
		"X-Request-Id":     rep.RequestID,
		"X-Inlay-Fragment": "header",
		"Cookie":           "",
		"Authorization":    "",
	} {
		if v := r.Header.Get(name); v != want {
			t.Errorf("request header %s = %q, want %q", name, v, want)
		}
	}
	if len(rep.RequestID) != 24 {
		t.Errorf("request id %q, want 24 hex characters", rep.RequestID)
	}
	if rep.Status != 200 || rep.Errors != 1 || rep.Warnings != 0 || !strings.Contains(rep.Problems[0].Message, "Set-Cookie") {
		t.Errorf("report = %+v, want status 200 and one Set-Cookie error", rep)
	}
	if rep.Cacheable || rep.Cache != "not cacheable: Set-Cookie" {
		t.Errorf("cache = %v %q, want not cacheable: Set-Cookie", rep.Cacheable, rep.Cache)
	}
	if len(rep.Assets) != 1 || rep.Assets[0] != (checkAsset{Kind: "stylesheet", URL: "/team/static/team.css"}) {
		t.Errorf("assets = %+v", rep.Assets)
	}
}

// TestCheckFragmentUsage covers bad command lines and a service that is down.
func TestCheckFragmentUsage(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()

	cases := []struct {
		name       string
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{name: "no URL", args: nil, code: 2, wantStderr: "give exactly one fragment URL"},
		{name: "two URLs", args: []string{"http://a/", "http://b/"}, code: 2, wantStderr: "give exactly one fragment URL"},
		{name: "not http", args: []string{"ftp://example.com/f"}, code: 2, wantStderr: "is not an absolute http(s) URL"},
		{name: "relative", args: []string{"/team/f"}, code: 2, wantStderr: "is not an absolute http(s) URL"},
		{name: "bad format", args: []string{"--format", "xml", "http://a/"}, code: 2, wantStderr: `unknown format "xml"`},
		{name: "bad timeout", args: []string{"--timeout", "0s", "http://a/"}, code: 2, wantStderr: "--timeout must be above 0"},
		{name: "bad max-bytes", args: []string{"--max-bytes", "0", "http://a/"}, code: 2, wantStderr: "--max-bytes must be above 0"},
		{name: "service down", args: []string{downURL + "/f"}, code: 1, wantStdout: "error: fetch failed: cannot connect"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), append([]string{"check-fragment"}, tc.args...), &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit status %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", stdout.String(), tc.wantStdout)
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tc.wantStderr)
			}
		})
	}
}

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
			Resp:     &fragments.Response{Status: 200, Header: h, Body: body},
			Status:   200,
			Header:   h,
			Raw:      body,
			Duration: tc.took,
		}
		rep := analyze(obs, checkOptions{URL: "http://t/", Timeout: time.Second, MaxBytes: 1 << 20}, time.Now())
		warned := rep.Warnings == 1 && strings.Contains(rep.Problems[0].Message, "more than half its 1s timeout")
		if warned != tc.want {
			t.Errorf("took %s: warned %v, want %v: %+v", tc.took, warned, tc.want, rep.Problems)
		}
	}
}

// TestCheckCacheVerdict checks the copy of the cache's storability rules.
func TestCheckCacheVerdict(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name         string
		status       int
		header       []string
		credentialed bool
		want         string
	}{
		{name: "max-age", header: []string{"Cache-Control", "max-age=60"}, want: "cacheable for 60s"},
		{name: "stale windows", header: []string{"Cache-Control", "public, max-age=60, stale-while-revalidate=30, stale-if-error=300"}, want: "cacheable for 60s, stale-while-revalidate 30s, stale-if-error 300s"},
		{name: "s-maxage wins and forbids stale", header: []string{"Cache-Control", "max-age=10, s-maxage=60, stale-if-error=300"}, want: "cacheable for 60s"},
		{name: "must-revalidate forbids stale", header: []string{"Cache-Control", "max-age=60, must-revalidate, stale-if-error=300"}, want: "cacheable for 60s"},
		{name: "age", header: []string{"Cache-Control", "max-age=60", "Age", "20"}, want: "cacheable for 40s"},
		{name: "age beyond lifetime", header: []string{"Cache-Control", "max-age=60, stale-if-error=300", "Age", "100"}, want: "cacheable for 0s, stale-if-error 260s"},
		{name: "expires", header: []string{"Expires", "Fri, 02 Jan 2026 03:06:05 GMT", "Date", "Fri, 02 Jan 2026 03:04:05 GMT"}, want: "cacheable for 120s"},
		{name: "bad expires", header: []string{"Expires", "0"}, want: "not cacheable: stale on arrival"},
		{name: "max-age=0", header: []string{"Cache-Control", "max-age=0"}, want: "not cacheable: stale on arrival"},
		{name: "max-age=0 with swr", header: []string{"Cache-Control", "max-age=0, stale-while-revalidate=30"}, want: "cacheable for 0s, stale-while-revalidate 30s"},
		{name: "nothing", header: nil, want: "not cacheable: no max-age, s-maxage or Expires"},
		{name: "private", header: []string{"Cache-Control", "private, max-age=60"}, want: "not cacheable: private"},
		{name: "several", header: []string{"Cache-Control", "no-store", "Cache-Control", "no-cache", "Set-Cookie", "a=1", "Vary", "Accept-Language, cookie"}, want: "not cacheable: no-store, no-cache, Set-Cookie, Vary: cookie"},
		{name: "vary star", header: []string{"Cache-Control", "max-age=60", "Vary", "*"}, want: "not cacheable: Vary: *"},
		{name: "credentialed", header: []string{"Cache-Control", "max-age=60"}, credentialed: true, want: "not cacheable: fetched with cookies, and neither public nor s-maxage"},
		{name: "credentialed public", header: []string{"Cache-Control", "public, max-age=60"}, credentialed: true, want: "cacheable for 60s"},
		{name: "huge max-age", header: []string{"Cache-Control", "max-age=99999999999999999999"}, want: "cacheable for 2147483648s"},
		{name: "404", status: 404, header: []string{"Cache-Control", "max-age=60"}, want: "not cacheable: status 404 (only a 200 is stored)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for i := 0; i+1 < len(tc.header); i += 2 {
				h.Add(tc.header[i], tc.header[i+1])
			}
			status := tc.status
			if status == 0 {
				status = http.StatusOK
			}
			got, ok := cacheVerdict(status, h, tc.credentialed, now)
			if got != tc.want {
				t.Errorf("verdict %q, want %q", got, tc.want)
			}
			if ok != strings.HasPrefix(tc.want, "cacheable") {
				t.Errorf("cacheable = %v for %q", ok, got)
			}
		})
	}
}

// TestCheckHTML covers the markup rules one by one.
func TestCheckHTML(t *testing.T) {
	cases := []struct {
		name string
		body string
		want []string // the problems, as printed
	}{
		{name: "good", body: goodBody},
		{name: "optional end tags", body: "<dl><dt>a<dd>b</dl><table><thead><tr><th>h<tbody><tr><td>c</table><ruby>x<rt>y</ruby>"},
		{name: "p closed by its parent", body: "<div><p>text</div>"},
		{name: "p closed by a void hr", body: "<p>a<hr></p>", want: []string{"error: body 1:9: stray </p>: no <p> is open; a block element such as <div> or <ul> inside a <p> closes the <p> before it"}},
		{name: "li closed by the next li through a p", body: "<ul><li><p>a<li>b</ul>"},
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
				got = append(got, p.String())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
