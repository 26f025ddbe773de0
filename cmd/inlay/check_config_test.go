package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/inlayhq/inlay/cmd/inlay/checkfragment"
	"github.com/inlayhq/inlay/cmd/inlay/demo"
	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/teams/search"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// serviceConfig writes a config with one service, named name, at url.
func serviceConfig(t *testing.T, name, url, extra string) string {
	t.Helper()
	path, _ := teamtest.Shop{
		Extra:          "layouts: .\n",
		Services:       map[string]string{name: url},
		ServiceTimeout: "450ms",
		ServiceYAML:    map[string]string{name: extra},
		Pages:          "  - path: /\n    layout: p.html",
		Layouts:        map[string]string{"p.html": `<fragment src="` + name + `:/x" primary></fragment>`},
	}.Write(t)
	return path
}

// checkJSON runs check-fragment with --format json and decodes its report.
func checkJSON(t *testing.T, args ...string) (checkfragment.Report, int) {
	t.Helper()
	var stdout, stderr strings.Builder
	code := run(context.Background(), append(append([]string{"check-fragment"}, args...), "--format", "json"), &stdout, &stderr)
	var rep checkfragment.Report
	if err := json.Unmarshal([]byte(stdout.String()), &rep); err != nil {
		t.Fatalf("check-fragment %q: %v\nstdout %s\nstderr %s", args, err, stdout.String(), stderr.String())
	}
	return rep, code
}

// TestCheckFragmentWithConfigAgainstARealTeam judges the search team's
// featured fragment by the search service's settings in a config: the
// path is resolved against the service's url, the timeout is the
// service's.
func TestCheckFragmentWithConfigAgainstARealTeam(t *testing.T) {
	u, stop, err := demo.StartTeam(search.New(search.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	cfg := serviceConfig(t, "search", u, "")
	rep, code := checkJSON(t, "--config", cfg, "--service", "search", "/search/fragments/featured")
	if code != 0 || rep.Errors != 0 || rep.Warnings != 0 {
		t.Errorf("exit %d with problems %+v, want a clean fragment", code, rep.Problems)
	}
	if rep.URL != u+"/search/fragments/featured" || rep.TimeoutMS != 450 || !rep.Cacheable {
		t.Errorf("report for %s, timeout %vms, cacheable %v; want %s, 450ms (the service's), cacheable", rep.URL, rep.TimeoutMS, rep.Cacheable, u+"/search/fragments/featured")
	}
}

// TestCheckFragmentReportsEveryProblemWithAFix: a fragment with many
// things wrong gets every one reported, each with a fix, even though its
// content type alone makes Inlay reject it.
func TestCheckFragmentReportsEveryProblemWithAFix(t *testing.T) {
	team := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Set-Cookie", "a=b")
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, "\ufeff<div><p onclick=\"x()\">hi</span><script>alert(1)</script>")
	})
	cfg := serviceConfig(t, "team", team.URL, "")
	rep, code := checkJSON(t, "--config", cfg, "--service", "team", "/box")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	var msgs []string
	for _, p := range rep.Problems {
		msgs = append(msgs, p.Message)
		if p.Fix == "" {
			t.Errorf("problem without a fix: %s", p)
		}
	}
	for _, want := range []string{"content type", "Set-Cookie", "no-store", "byte order mark", "inline event handler", "inline <script>", "stray </span>", "never closed"} {
		found := false
		for _, m := range msgs {
			found = found || strings.Contains(m, want)
		}
		if !found {
			t.Errorf("no problem mentions %q in:\n%s", want, strings.Join(msgs, "\n"))
		}
	}
}

// TestCheckFragmentVary: a body that changes with Accept-Language without
// naming it in Vary gets a warning; with Vary: Accept-Language it does not.
func TestCheckFragmentVary(t *testing.T) {
	for _, vary := range []string{"", "Accept-Language"} {
		team := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "public, max-age=60")
			if vary != "" {
				w.Header().Set("Vary", vary)
			}
			greeting := "Hello"
			if strings.HasPrefix(r.Header.Get("Accept-Language"), "de") {
				greeting = "Hallo"
			}
			io.WriteString(w, "<p>"+greeting+"</p>")
		})
		cfg := serviceConfig(t, "team", team.URL, "")
		rep, _ := checkJSON(t, "--config", cfg, "--service", "team", "/greeting")
		team.Close()
		warned := false
		for _, p := range rep.Problems {
			if strings.Contains(p.Message, "changes with Accept-Language, but Vary does not name it") {
				warned = true
				if p.Fix != "send Vary: Accept-Language" {
					t.Errorf("fix %q, want send Vary: Accept-Language", p.Fix)
				}
			}
		}
		if warned != (vary == "") {
			t.Errorf("Vary %q: warned %v, problems %+v", vary, warned, rep.Problems)
		}
	}
}

func TestCheckFragmentConfigUsage(t *testing.T) {
	cfg := serviceConfig(t, "team", "http://127.0.0.1:1", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"check-fragment", "--config", cfg, "/x"}, "--config and --service go together"},
		{[]string{"check-fragment", "--config", cfg, "--service", "nope", "/x"}, `has no service "nope" (it has: team)`},
	} {
		var stdout, stderr strings.Builder
		if code := run(context.Background(), tc.args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// C11: a service that gets the shopper's credentials and marks a
// per-shopper body shareable is an error: check-fragment fetches the
// fragment as two synthetic shoppers (two cookie values, two bearer
// tokens, as the service's config says it gets them) and compares the
// bodies. A body that differs but is private, or one that is the same for
// everyone, is fine.
func TestCheckFragmentPerShopperBodyMarkedPublic(t *testing.T) {
	// perShopper greets the shopper its credential names: the cookie
	// named cookie, or the bearer token.
	perShopper := func(cacheControl, cookie string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			who := "guest"
			if c, err := r.Cookie(cookie); err == nil {
				who = c.Value
			} else if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
				who = tok
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", cacheControl)
			// A digest of the credential, not the credential: the check
			// must not depend on the body echoing it.
			io.WriteString(w, fmt.Sprintf("<p>Hello, shopper %x</p>", sha256.Sum256([]byte(who))))
		}
	}
	same := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=60")
		io.WriteString(w, "<p>Hello</p>")
	}
	for _, tc := range []struct {
		name, serviceYAML string
		flags             []string
		handler           http.HandlerFunc
		wantError         bool
	}{
		{"cookie list, public", "    cookies: [basket_id]\n", nil, perShopper("public, max-age=60", "basket_id"), true},
		{"all cookies, public", "    cookies: true\n", nil, perShopper("public, max-age=60", "session"), true},
		{"all cookies, s-maxage", "    cookies: true\n", nil, perShopper("s-maxage=60", "sid"), true},
		{"authorization, public", "    authorization: true\n", nil, perShopper("public, max-age=60", ""), true},
		{"--cookies flag, public", "", []string{"--cookies"}, perShopper("public, max-age=60", "session"), true},
		{"all cookies, private", "    cookies: true\n", nil, perShopper("private, max-age=60", "session"), false},
		{"all cookies, no-store", "    cookies: true\n", nil, perShopper("no-store", "session"), false},
		{"all cookies, the same body", "    cookies: true\n", nil, same, false},
		{"no credentials", "", nil, perShopper("public, max-age=60", "session"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			team := teamtest.New(t, tc.handler)
			cfg := serviceConfig(t, "team", team.URL, tc.serviceYAML)
			rep, code := checkJSON(t, append([]string{"--config", cfg, "--service", "team", "/hello"}, tc.flags...)...)
			found := false
			for _, p := range rep.Problems {
				if p.Severity == config.SeverityError && strings.Contains(p.Message, "differs between two shoppers") {
					found = true
					if !strings.Contains(p.Fix, "private or no-store") {
						t.Errorf("fix %q does not say private or no-store", p.Fix)
					}
				}
			}
			if found != tc.wantError || (code == 1) != tc.wantError {
				t.Errorf("error reported %v, exit %d; want %v; problems %+v", found, code, tc.wantError, rep.Problems)
			}
		})
	}
}

// C12: the Vary check sends two different values of each page context
// header Inlay sends (X-Inlay-Page-Path, X-Inlay-Page-Route,
// X-Inlay-Route-Params, X-Inlay-Base-URL), not one: a body built from one
// of them without Vary naming it is a warning whose fix names the Vary to
// send; with that Vary, or with context: false (none is sent), it is not.
func TestCheckFragmentVaryContext(t *testing.T) {
	for _, name := range []string{"X-Inlay-Page-Path", "X-Inlay-Page-Route", "X-Inlay-Route-Params", "X-Inlay-Base-URL"} {
		for _, tc := range []struct {
			vary, serviceYAML string
			wantWarning       bool
		}{
			{"", "", true},
			{name, "", false},
			{"", "    context: false\n", false},
		} {
			t.Run(name+"/"+tc.vary+tc.serviceYAML, func(t *testing.T) {
				team := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/html; charset=utf-8")
					w.Header().Set("Cache-Control", "public, max-age=60")
					if tc.vary != "" {
						w.Header().Set("Vary", tc.vary)
					}
					io.WriteString(w, `<a href="`+html.EscapeString(r.Header.Get(name))+`">more</a>`)
				})
				cfg := serviceConfig(t, "team", team.URL, tc.serviceYAML)
				rep, _ := checkJSON(t, "--config", cfg, "--service", "team", "/links")
				warned := false
				for _, p := range rep.Problems {
					if strings.Contains(p.Message, "changes with "+name+", but Vary does not name it") {
						warned = true
						if p.Fix != "send Vary: "+name {
							t.Errorf("fix %q, want send Vary: %s", p.Fix, name)
						}
					}
				}
				if warned != tc.wantWarning {
					t.Errorf("warned %v, want %v; problems %+v", warned, tc.wantWarning, rep.Problems)
				}
			})
		}
	}
}
