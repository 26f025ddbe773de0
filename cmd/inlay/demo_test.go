package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inlayhq/inlay/teams/teamtest"
)

// bannerWriter keeps everything written and hands over the write that
// holds the demo's banner.
type bannerWriter struct {
	teamtest.Logs
	banner chan string
}

func (w *bannerWriter) Write(p []byte) (int, error) {
	n, err := w.Logs.Write(p)
	if strings.Contains(string(p), "Inlay demo shop:") {
		w.banner <- string(p)
	}
	return n, err
}

// runDemoCommand runs `inlay demo` with args on a free port until the
// test ends, and returns its output and its banner once it printed it.
func runDemoCommand(t *testing.T, args ...string) (*bannerWriter, string) {
	t.Helper()
	out := &bannerWriter{banner: make(chan string, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- demoCommand(ctx, append([]string{"--config", "../../layouts/inlay.yaml", "--listen", "127.0.0.1:0"}, args...), out)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("inlay demo exited %d: %s", code, out.String())
		}
	})
	select {
	case banner := <-out.banner:
		return out, banner
	case code := <-done:
		done <- code
		t.Fatalf("inlay demo exited %d before its banner: %s", code, out.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("no banner within 30s: %s", out.String())
	}
	return nil, ""
}

// TestDemoBannerComesLast runs `inlay demo` as make run does: the banner
// with the shop's URL, what to try and every team's URL is the last thing
// printed at start, and the teams' request logs stay quiet while shoppers
// browse.
func TestDemoBannerComesLast(t *testing.T) {
	out, banner := runDemoCommand(t)
	if !strings.HasSuffix(out.String(), banner) {
		t.Errorf("something was printed after the banner:\n%s", strings.TrimPrefix(out.String()[strings.Index(out.String(), banner):], banner))
	}
	m := regexp.MustCompile(`Inlay demo shop: (http://localhost:\d+)\n`).FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("banner has no http://localhost:PORT shop URL:\n%s", banner)
	}
	for _, team := range []string{"shell", "search", "basket"} {
		if !regexp.MustCompile(`(?m)^\s+` + team + `\s+http://127\.0\.0\.1:\d+$`).MatchString(banner) {
			t.Errorf("banner does not list team %s with its URL:\n%s", team, banner)
		}
	}
	// Browse: every team serves the home page, none of them logs it.
	resp, err := http.Get(m[1] + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("home page: status %d", resp.StatusCode)
	}
	if logs := out.String(); strings.Contains(logs, "msg=request") || strings.Contains(logs, `"msg":"request"`) {
		t.Errorf("the demo teams logged requests without --team-logs:\n%s", logs)
	}
}

// TestDemoSignsInOnTheBannersHost signs a shopper in, from the shop's
// URL as the banner prints it, through the demo provider's login form:
// the shopper comes back signed in on the host they started from, not on
// another name of the same shop (where they would have none of their
// cookies), and the provider is on a host of its own, since a browser
// keeps cookies by host, not by port.
func TestDemoSignsInOnTheBannersHost(t *testing.T) {
	_, banner := runDemoCommand(t)
	m := regexp.MustCompile(`Inlay demo shop: (http://\S+)\n`).FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("banner has no shop URL:\n%s", banner)
	}
	shop, err := url.Parse(m[1])
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	get := func(resp *http.Response, err error) (*http.Response, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(body)
	}
	resp, _ := get(c.Get(shop.String() + "/account"))
	form := resp.Request.URL
	id := form.Query().Get("authRequestID")
	if resp.StatusCode != http.StatusOK || id == "" {
		t.Fatalf("/account led to %d at %s, want the provider's login form", resp.StatusCode, form)
	}
	if form.Hostname() == shop.Hostname() {
		t.Errorf("the provider's login form is at %s, on the shop's host %s: the two would share their cookies", form, shop.Hostname())
	}
	resp, body := get(c.PostForm(form.Scheme+"://"+form.Host+"/login/username",
		url.Values{"id": {id}, "username": {"ada"}, "password": {"lovelace"}}))
	if got := resp.Request.URL; resp.StatusCode != http.StatusOK || got.Host != shop.Host || got.Path != "/account" {
		t.Fatalf("signing in ended with %d at %s, want 200 at %s/account", resp.StatusCode, got, shop)
	}
	if !strings.Contains(body, "Ada Lovelace") {
		t.Errorf("/account after signing in does not name the shopper:\n%s", body)
	}
}

// TestDemoTakenPortSaysWhatToDo starts the demo on an address another
// program holds: the error names the address and the make run switch
// that moves the shop.
func TestDemoTakenPortSaysWhatToDo(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var out teamtest.Logs
	code := demoCommand(context.Background(), []string{"--config", "../../layouts/inlay.yaml", "--listen", ln.Addr().String()}, &out)
	if code != 1 {
		t.Fatalf("exit code %d, want 1: %s", code, out.String())
	}
	for _, want := range []string{ln.Addr().String(), "address already in use", "make run LISTEN="} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestDemoWithATeamDown starts the demo with the search team stopped, as
// designers do to see fallbacks: the home page stays up with its featured
// box's fallback, and the banner says which team is down.
func TestDemoWithATeamDown(t *testing.T) {
	_, banner := runDemoCommand(t, "--down", "search")
	if !regexp.MustCompile(`(?m)^\s+search\s+http://\S+\s+\(kept down`).MatchString(banner) {
		t.Errorf("banner does not say the search team is down:\n%s", banner)
	}
	shop := regexp.MustCompile(`http://localhost:\d+`).FindString(banner)
	resp, err := http.Get(shop + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("home page with search down: status %d, want 200", resp.StatusCode)
	}
	if !strings.Contains(string(body), `data-testid="featured-fallback"`) {
		t.Errorf("home page with search down lacks the featured box's fallback:\n%s", body)
	}
}

// TestDemoDownNamesAnUnknownTeam refuses --down for a team the demo does
// not have, naming the ones it has.
func TestDemoDownNamesAnUnknownTeam(t *testing.T) {
	var out teamtest.Logs
	code := demoCommand(context.Background(), []string{"--config", "../../layouts/inlay.yaml", "--listen", "127.0.0.1:0", "--down", "serach"}, &out)
	if code != 1 || !strings.Contains(out.String(), `no demo team "serach"`) || !strings.Contains(out.String(), "search, shell, basket") {
		t.Errorf("exit %d, output:\n%s\nwant exit 1 naming the unknown team and the teams", code, out.String())
	}
}
