package main

// The admin listener's guard, against a real inlay serve: rows S8 and I4
// of docs/fault-matrix.md.

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// adminToken is a token long enough to be accepted.
const adminToken = "0123456789abcdef-admin-token"

// adminShop serves a page / whose primary box is the team's, cached and
// tagged "sku-1", with an admin listener on a free loopback port and the
// extra top-level YAML given. It returns the shop's base URL, the admin
// address, the config file and the team.
func adminShop(t *testing.T, extra string, logs *teamtest.Logs) (base, adminAddr, cfgPath string, team *teamtest.Team) {
	t.Helper()
	team = teamtest.New(t, teamtest.Fragment("<p>v1</p>", "max-age=600", "Surrogate-Key", "sku-1"))
	adminAddr = freeAddr(t)
	cfgPath, _ = teamtest.Shop{
		Extra:    "drain_delay: 1ms\naccess_log: false\nlayouts: .\nadmin: " + adminAddr + "\n" + extra,
		Services: map[string]string{"team": team.URL},
		Pages:    "  - path: /\n    layout: p.html",
		Layouts:  map[string]string{"p.html": `<main><fragment id="box" src="team:/box" primary></fragment></main>`},
	}.Write(t)
	return serveFile(t, cfgPath, logs), adminAddr, cfgPath, team
}

// adminDo sends one request to the admin listener with the headers given
// as name, value pairs, and returns the response and its body.
func adminDo(t *testing.T, method, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// S8: a request a browser sent to the admin listener (cross-site, or any
// with an Origin header) is refused with 403 before anything runs: the
// tag is not purged, and pprof and metrics are not read. A request without
// those headers purges.
func TestAdminRefusesBrowsers(t *testing.T) {
	base, adminAddr, _, team := adminShop(t, "", nil)
	if _, body := get(t, base+"/"); !strings.Contains(body, "<p>v1</p>") {
		t.Fatalf("warming: %q", body)
	}
	team.Set(teamtest.Fragment("<p>v2</p>", "max-age=600", "Surrogate-Key", "sku-1"))
	browsers := []struct {
		name, method, path string
		header             []string
	}{
		{"cross-site purge", "POST", "/-/purge?tag=sku-1", []string{"Origin", "https://evil.example"}},
		{"purge from an opaque origin", "POST", "/-/purge?tag=sku-1", []string{"Origin", "null"}},
		{"purge marked cross-site", "POST", "/-/purge?tag=sku-1", []string{"Sec-Fetch-Site", "cross-site"}},
		{"purge marked same-site", "POST", "/-/purge?tag=sku-1", []string{"Sec-Fetch-Site", "same-site"}},
		{"cross-site pprof", "GET", "/debug/pprof/cmdline", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}},
		{"cross-site metrics", "GET", "/metrics", []string{"Sec-Fetch-Site", "cross-site"}},
	}
	for _, b := range browsers {
		resp, body := adminDo(t, b.method, "http://"+adminAddr+b.path, b.header...)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "answers no browser") {
			t.Errorf("%s: %d %q, want 403", b.name, resp.StatusCode, body)
		}
		if strings.Contains(body, "purged") || strings.Contains(body, "inlay_") || strings.Contains(body, "test") {
			t.Errorf("%s: the route ran: %q", b.name, body)
		}
	}
	if _, body := get(t, base+"/"); !strings.Contains(body, "<p>v1</p>") {
		t.Errorf("after the refused purges the page shows %q, want the cached v1", body)
	}

	// An operator's own request, or a typed URL in a browser, goes through.
	if resp, body := adminDo(t, "GET", "http://"+adminAddr+"/-/health", "Sec-Fetch-Site", "none"); resp.StatusCode != http.StatusOK {
		t.Errorf("health with Sec-Fetch-Site none: %d %q", resp.StatusCode, body)
	}
	if resp, body := adminDo(t, "POST", "http://"+adminAddr+"/-/purge?tag=sku-1"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"purged":1`) {
		t.Fatalf("purge without browser headers: %d %q, want 200 and 1 purged", resp.StatusCode, body)
	}
	if _, body := get(t, base+"/"); !strings.Contains(body, "<p>v2</p>") {
		t.Errorf("after the purge the page shows %q, want v2", body)
	}
}

// I4: with an admin token, from the config, a file or the environment,
// purge and pprof answer 401 with WWW-Authenticate: Bearer unless the
// request carries it; /metrics and /-/health stay open. inlay purge sends
// the token it finds as serve does, and a wrong one fails clearly.
func TestAdminToken(t *testing.T) {
	sources := []struct {
		name  string
		extra func(t *testing.T) string
	}{
		{"admin_token", func(*testing.T) string { return "admin_token: " + adminToken + "\n" }},
		{"admin_token_file", func(t *testing.T) string {
			file := filepath.Join(t.TempDir(), "token")
			teamtest.WriteFile(t, file, adminToken+"\n")
			return "admin_token_file: " + file + "\n"
		}},
		{"$" + config.AdminTokenEnv, func(t *testing.T) string {
			t.Setenv(config.AdminTokenEnv, adminToken)
			return ""
		}},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			base, adminAddr, cfgPath, team := adminShop(t, src.extra(t), nil)
			get(t, base+"/")
			cases := []struct {
				name, method, path, auth string
				want                     int
			}{
				{"purge without a token", "POST", "/-/purge?tag=none", "", 401},
				{"purge with a wrong token", "POST", "/-/purge?tag=none", "Bearer wrong-token-0123456789", 401},
				{"purge with the token under Basic", "POST", "/-/purge?tag=none", "Basic " + adminToken, 401},
				{"purge with the token and more", "POST", "/-/purge?tag=none", "Bearer " + adminToken + "x", 401},
				{"purge with the token", "POST", "/-/purge?tag=none", "Bearer " + adminToken, 200},
				{"purge with the scheme in lower case", "POST", "/-/purge?tag=none", "bearer " + adminToken, 200},
				{"pprof index without a token", "GET", "/debug/pprof/", "", 401},
				{"pprof cmdline with a wrong token", "GET", "/debug/pprof/cmdline", "Bearer " + adminToken[1:], 401},
				{"pprof cmdline with the token", "GET", "/debug/pprof/cmdline", "Bearer " + adminToken, 200},
				{"metrics without a token", "GET", "/metrics", "", 200},
				{"health without a token", "GET", "/-/health", "", 200},
			}
			for _, tc := range cases {
				var header []string
				if tc.auth != "" {
					header = []string{"Authorization", tc.auth}
				}
				resp, body := adminDo(t, tc.method, "http://"+adminAddr+tc.path, header...)
				if resp.StatusCode != tc.want {
					t.Errorf("%s: %d %.100q, want %d", tc.name, resp.StatusCode, body, tc.want)
				}
				if tc.want == 401 && (!strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") || strings.Contains(body, "test")) {
					t.Errorf("%s: WWW-Authenticate %q, body %.100q; want Bearer and nothing of the route", tc.name, resp.Header.Get("WWW-Authenticate"), body)
				}
			}

			// inlay purge finds the token where serve did.
			team.Set(teamtest.Fragment("<p>v2</p>", "max-age=600", "Surrogate-Key", "sku-1"))
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), []string{"purge", "--config", cfgPath, "--tag", "sku-1"}, &stdout, &stderr); code != 0 || strings.TrimSpace(stdout.String()) != `{"purged":1}` {
				t.Errorf("inlay purge: exit %d, %q, %s; want 1 purged", code, stdout.String(), stderr.String())
			}
			if _, body := get(t, base+"/"); !strings.Contains(body, "<p>v2</p>") {
				t.Errorf("after inlay purge the page shows %q, want v2", body)
			}
			// $INLAY_ADMIN_TOKEN wins over the config: a wrong one is refused.
			t.Setenv(config.AdminTokenEnv, "wrong-token-0123456789")
			stderr.Reset()
			if code := run(context.Background(), []string{"purge", "--config", cfgPath, "--tag", "sku-1"}, io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), "status 401: the admin token is missing or wrong") {
				t.Errorf("inlay purge with a wrong token: exit %d, %q; want 1 and a clear error", code, stderr.String())
			}
			if strings.Contains(stderr.String(), "wrong-token") || strings.Contains(stderr.String(), adminToken) {
				t.Errorf("inlay purge printed a token: %q", stderr.String())
			}
		})
	}
}

// I4: serve warns once at start when the admin listener binds an address
// other machines reach without a token, and not when it has one or binds
// loopback. The token itself is never logged.
func TestAdminWarnsWhenOpenWithoutToken(t *testing.T) {
	const warning = "the admin listener is open to the network without a token"
	cases := []struct {
		name, admin, extra string
		warn               bool
	}{
		{"every interface, no token", ":0", "", true},
		{"0.0.0.0, no token", "0.0.0.0:0", "", true},
		{"every interface with a token", ":0", "admin_token: " + adminToken + "\n", false},
		{"loopback, no token", "127.0.0.1:0", "", false},
		{"localhost, no token", "localhost:0", "", false},
	}
	team := teamtest.New(t, teamtest.Fragment("<p>v1</p>", "max-age=600"))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfgPath, _ := teamtest.Shop{
				Extra:    "drain_delay: 1ms\nlayouts: .\nadmin: \"" + tc.admin + "\"\n" + tc.extra,
				Services: map[string]string{"team": team.URL},
				Pages:    "  - path: /\n    layout: p.html",
				Layouts:  map[string]string{"p.html": `<fragment src="team:/box" primary></fragment>`},
			}.Write(t)
			logs := &teamtest.Logs{}
			serveFile(t, cfgPath, logs)
			got := strings.Count(logs.String(), warning)
			if tc.warn && (got != 1 || !strings.Contains(logs.String(), `"level":"WARN","msg":"`+warning)) {
				t.Errorf("admin %s: the warning logged %d times, want once at WARN:\n%s", tc.admin, got, logs.String())
			}
			if !tc.warn && got != 0 {
				t.Errorf("admin %s: warned:\n%s", tc.admin, logs.String())
			}
			if strings.Contains(logs.String(), adminToken) {
				t.Errorf("the token is in the logs:\n%s", logs.String())
			}
		})
	}
}
