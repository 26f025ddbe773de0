package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/inlayhq/inlay/cmd/inlay/checkfragment"
	"github.com/inlayhq/inlay/teams/teamtest"
)

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

// gzipString returns s compressed with gzip.
func gzipString(s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, s)
	zw.Close()
	return b.String()
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
			handler: html200(teamtest.GoodFragment),
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
			want:    []string{"summary: status 204 | ", "not cacheable: status 204 (only a 200, 404 or 410 is stored)", "0 errors, 0 warnings"},
		},
		{
			name:    "JSON content type",
			handler: stub(http.StatusOK, `{"a":1}`, "Content-Type", "application/json", "Cache-Control", "public, max-age=60"),
			code:    1,
			want:    []string{`error: fetch failed: status 200 with content type "application/json": a fragment must be text/html`},
		},
		{
			name:    "ambiguous framing",
			handler: teamtest.Raw("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 8\r\nContent-Length: 9\r\n\r\n<p>x</p>", false),
			code:    1,
			want: []string{`error: fetch failed: Inlay cannot read the response head: malformed HTTP response head: several Content-Length fields: ["8" "9"]: its box would show its fallback`,
				"with one Content-Length or Transfer-Encoding: chunked"},
			notWant: []string{"cannot connect"},
		},
		{
			// net/http unfolds the line; the server's client refuses it.
			name:    "folded header line",
			handler: teamtest.Raw("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Note: a\r\n b\r\nContent-Length: 8\r\n\r\n<p>x</p>", false),
			code:    1,
			want:    []string{"error: fetch failed: Inlay cannot read the response head: malformed HTTP response head: a folded header line: its box would show its fallback"},
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
			// B13: the body is judged as Inlay decodes it.
			name:    "gzip body judged decoded",
			handler: html200(gzipString("<div class=\"box\">\n  <p>text\n"), "Content-Encoding", "x-gzip"),
			code:    1,
			want:    []string{"error: body 1:1: <div> is never closed", "| 28 bytes |"},
		},
		{
			name:    "deflate body",
			handler: html200("x\x9c\xb3)\xb0\xab\xb0\xd1/\xb0\x03\x00\x0b\x9b\x02\xb1", "Content-Encoding", "deflate"),
			code:    1,
			want:    []string{"error: fetch failed:", `content coding "deflate": only gzip is decoded`},
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
			srv := teamtest.New(t, tc.handler)
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
	srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		got <- r
		html200(teamtest.GoodFragment, "Set-Cookie", "a=1").ServeHTTP(w, r)
	})

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"check-fragment", "--format", "json", "--id", "header", srv.URL + "/f?q=1"}, &stdout, &stderr)
	if code != 1 {
		t.Errorf("exit status %d, want 1 (Set-Cookie)\nstderr: %s", code, stderr.String())
	}
	var rep checkfragment.Report
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
		// The page context, as Inlay sends it for the page / (C12).
		"X-Inlay-Page-Path":    "/",
		"X-Inlay-Page-Route":   "/",
		"X-Inlay-Base-URL":     "http://127.0.0.1:8080",
		"X-Inlay-Route-Params": "",
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
	if len(rep.Assets) != 1 || rep.Assets[0] != (checkfragment.Asset{Kind: "stylesheet", URL: "/team/static/team.css"}) {
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

// TestCheckFragmentMisdiagnoses runs check-fragment on the combinations it
// once got wrong: a body over the cap without a content type (a size
// warning and a false "never closed" on the part read), an unclosed
// <script> (reported twice, and called cacheable though Inlay refuses
// it), and the ways a team names its own service: --service NAME=URL as
// in inlay dev, and a URL without its scheme.
func TestCheckFragmentMisdiagnoses(t *testing.T) {
	noType := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = nil // no sniffing: no Content-Type at all
			io.WriteString(w, body)
		}
	}
	cases := []struct {
		name    string
		handler http.HandlerFunc
		args    func(base string) []string
		code    int
		want    []string
		once    []string // substrings that appear exactly once
		notWant []string
	}{
		{
			name:    "oversized without a content type",
			handler: noType("<div>" + strings.Repeat("<p>x</p>", 500) + "</div>"),
			args:    func(base string) []string { return []string{"--max-bytes", "1000", base + "/f"} },
			code:    1,
			want:    []string{"the body is larger than 1000 bytes", `content type ""`, "| over 1000 bytes |"},
			notWant: []string{"never closed", "a large fragment delays"},
		},
		{
			name:    "unclosed script",
			handler: html200(`<p>a</p><script>let x = 1;`),
			args:    func(base string) []string { return []string{"--format", "json", base + "/f"} },
			code:    1,
			want:    []string{`"cacheable": false`, `"cache": "not cacheable: Inlay refuses the body"`, "Inlay refuses this body"},
			once:    []string{"never closed"},
		},
		{
			name:    "service NAME=URL and a path",
			handler: html200(teamtest.GoodFragment),
			args:    func(base string) []string { return []string{"--service", "search=" + base, "/f"} },
			code:    0,
			want:    []string{"summary: status 200 | text/html"},
		},
		{
			name:    "service NAME=URL without its scheme",
			handler: html200(teamtest.GoodFragment),
			args: func(base string) []string {
				return []string{"--service", "search=" + strings.TrimPrefix(base, "http://"), "/f"}
			},
			code: 0,
			want: []string{"summary: status 200 | text/html"},
		},
		{
			name:    "a URL without its scheme",
			handler: html200(teamtest.GoodFragment),
			args:    func(base string) []string { return []string{strings.TrimPrefix(base, "http://") + "/f"} },
			code:    0,
			want:    []string{"summary: status 200 | text/html"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			var stdout, stderr strings.Builder
			code := run(context.Background(), append([]string{"check-fragment"}, tc.args(srv.URL)...), &stdout, &stderr)
			out := stdout.String()
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.once {
				if n := strings.Count(out, w); n != 1 {
					t.Errorf("%q appears %d times, want once:\n%s", w, n, out)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestCheckFragmentServiceFlag: --service NAME=URL wants both halves.
func TestCheckFragmentServiceFlag(t *testing.T) {
	for _, v := range []string{"=http://127.0.0.1:1", "search="} {
		var stdout, stderr strings.Builder
		if code := run(context.Background(), []string{"check-fragment", "--service", v, "/f"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "--service wants NAME or NAME=URL") {
			t.Errorf("--service %q: exit %d, stderr %q; want 2 and the usage", v, code, stderr.String())
		}
	}
}
