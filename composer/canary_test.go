package composer

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	shopperid "github.com/inlayhq/inlay/composer/shopper"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// A service with a canary: a shopper the canary takes gets it for every
// box of the page, and keeps it on the next page by the shopper cookie
// minted on the first; Server-Timing names the canary's boxes, /-/ready
// says how the canary stands, and once its weight is 0 every box is the
// stable version's again.
func TestCanaryTakesAShopperForTheWholePage(t *testing.T) {
	answer := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Cache-Control", "max-age=60")
			io.WriteString(w, body)
		}
	}
	stable := teamtest.New(t, answer("<p>stable</p>"))
	can := teamtest.New(t, answer("<p>canary</p>"))
	sc := shopConfig{
		layouts: map[string]string{"p.html": pageHead +
			`<fragment id="a" src="box:/a"></fragment><fragment id="b" src="box:/b"></fragment>` + pageTail},
		pages:       "  - path: /\n    layout: p.html",
		services:    map[string]*teamtest.Team{"box": stable},
		serviceYAML: map[string]string{"box": "    canary:\n      url: " + can.URL + "\n      weight: 100\n"},
	}
	s := newShop(t, sc)

	resp, body := s.get(t, "/")
	if strings.Count(body, "<p>canary</p>") != 2 || strings.Contains(body, "<p>stable</p>") {
		t.Fatalf("first page at weight 100: want both boxes from the canary, got\n%s", body)
	}
	var minted *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == shopperid.Cookie {
			minted = c
		}
	}
	if minted == nil || !minted.Secure || !minted.HttpOnly || minted.Path != "/" {
		t.Fatalf("shopper cookie: got %+v, want a Secure HttpOnly %s on /", minted, shopperid.Cookie)
	}
	resp, body = s.get(t, "/", "Cookie", minted.Name+"="+minted.Value)
	if strings.Count(body, "<p>canary</p>") != 2 {
		t.Errorf("next page with the cookie: want the canary again, got\n%s", body)
	}
	// Both boxes are hits now, known when the headers leave.
	if st := resp.Header.Get("Server-Timing"); strings.Count(st, " canary") != 2 {
		t.Errorf("Server-Timing: %q, want both boxes named canary", st)
	}
	if len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Errorf("next page set cookies again: %v", resp.Header.Values("Set-Cookie"))
	}

	s.inlay.SetReady(true)
	_, readyBody := s.get(t, "/-/ready")
	var state struct {
		Ready    bool `json:"ready"`
		Canaries map[string]struct {
			Weight int `json:"weight"`
		} `json:"canaries"`
	}
	err := json.Unmarshal([]byte(readyBody), &state)
	if err != nil || !state.Ready || state.Canaries["box"].Weight != 100 {
		t.Errorf("/-/ready: %+v, %v; want ready, the canary of box at weight 100", state, err)
	}

	if err := s.inlay.Engine().SetCanaryWeight("box", 0); err != nil {
		t.Fatal(err)
	}
	_, body = s.get(t, "/", "Cookie", minted.Name+"="+minted.Value)
	if strings.Count(body, "<p>stable</p>") != 2 {
		t.Errorf("page at weight 0: want both boxes from the stable version, got\n%s", body)
	}
}

// Without any canary, no shopper cookie is set and /-/ready answers as
// it always did.
func TestNoCanaryNoShopperCookie(t *testing.T) {
	box := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<p>box</p>")
	})
	s := newShop(t, shopConfig{
		layouts:  map[string]string{"p.html": pageHead + `<fragment src="box:/a"></fragment>` + pageTail},
		pages:    "  - path: /\n    layout: p.html",
		services: map[string]*teamtest.Team{"box": box},
	})
	resp, _ := s.get(t, "/")
	if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("Set-Cookie without a canary: %v, want none", got)
	}
	s.inlay.SetReady(true)
	if _, body := s.get(t, "/-/ready"); body != "ready\n" {
		t.Errorf("/-/ready without a canary: %q, want %q", body, "ready\n")
	}
}
