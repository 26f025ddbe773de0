package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inlayhq/inlay/cmd/inlay/demo"
)

// demoSignIn signs a fresh browser-like client in at the demo shop base,
// through the demo provider's login form, and returns it.
func demoSignIn(t *testing.T, base string, s int) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, Transport: tr}
	resp, err := c.Get(base + "/-/auth/login?next=/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Request.URL.Query().Get("authRequestID")
	if id == "" {
		t.Fatalf("no login form: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	form := url.Values{"id": {id}, "username": {demo.Shoppers[s].Username}, "password": {demo.Shoppers[s].Password}}
	resp, err = c.PostForm(resp.Request.URL.Scheme+"://"+resp.Request.URL.Host+"/login/username", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.String(), base+"/") {
		t.Fatalf("sign-in ended with %d at %s", resp.StatusCode, resp.Request.URL)
	}
	return c
}

var basketCount = regexp.MustCompile(`data-testid="basket-count">(\d+)<`)

func demoBasketCount(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	resp, err := c.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := basketCount.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no basket count on the home page: %s", b)
	}
	return string(m[1])
}

// A signed-in shopper's basket is keyed by their sub: it follows them
// into another browser, and no one else sees it.
func TestDemoBasketFollowsTheSignedInShopper(t *testing.T) {
	base := startDemo(t)
	phone := demoSignIn(t, base, 0)
	req, _ := http.NewRequest(http.MethodPost, base+"/basket/api/add", strings.NewReader("sku=sneaker-01&qty=2"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := phone.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		t.Fatalf("adding to the basket: %d", resp.StatusCode)
	}
	if got := demoBasketCount(t, phone, base); got != "2" {
		t.Fatalf("basket count where it was filled: %s", got)
	}
	laptop := demoSignIn(t, base, 0)
	if got := demoBasketCount(t, laptop, base); got != "2" {
		t.Errorf("the basket did not follow the shopper into another browser: %s", got)
	}
	other := demoSignIn(t, base, 1)
	if got := demoBasketCount(t, other, base); got != "0" {
		t.Errorf("another shopper sees a basket of %s", got)
	}
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	if got := demoBasketCount(t, &http.Client{Jar: jar, Transport: tr}, base); got != "0" {
		t.Errorf("an anonymous shopper sees a basket of %s", got)
	}
	// A cross-site form post to the basket is refused.
	req, _ = http.NewRequest(http.MethodPost, base+"/basket/api/add", strings.NewReader("sku=sneaker-01"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	resp, err = phone.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site basket post: %d, want 403", resp.StatusCode)
	}
}
