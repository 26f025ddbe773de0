package shopper_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/inlayhq/inlay/composer/shopper"
)

const known = "AAECAwQFBgcICQoLDA0ODw" // 00 01 … 0f, as ID spells it

// ID keeps a valid cookie, replaces a missing or malformed one with a new
// random id and the cookie that keeps it, and derives a signed-in
// shopper's id from the sub, whatever the cookie.
func TestID(t *testing.T) {
	cases := []struct {
		name    string
		secure  bool
		cookies []*http.Cookie
		sub     string
		want    string // the id; "" for a new random one
		setName string // the cookie to set; "" for none
	}{
		{"first visit", true, nil, "", "", "__Host-inlay_shopper"},
		{"first visit over http in dev mode", false, nil, "", "", "inlay_shopper"},
		{"returning shopper", true, []*http.Cookie{{Name: "__Host-inlay_shopper", Value: known}}, "", known, ""},
		{"returning shopper in dev mode", false, []*http.Cookie{{Name: "inlay_shopper", Value: known}}, "", known, ""},
		{"dev mode's cookie over https", true, []*http.Cookie{{Name: "inlay_shopper", Value: known}}, "", "", "__Host-inlay_shopper"},
		{"https cookie in dev mode", false, []*http.Cookie{{Name: "__Host-inlay_shopper", Value: known}}, "", "", "inlay_shopper"},
		{"empty", true, []*http.Cookie{{Name: "__Host-inlay_shopper", Value: ""}}, "", "", "__Host-inlay_shopper"},
		{"too short", true, []*http.Cookie{{Name: "__Host-inlay_shopper", Value: known[:21]}}, "", "", "__Host-inlay_shopper"},
		{"too long", true, []*http.Cookie{{Name: "__Host-inlay_shopper", Value: known + "A"}}, "", "", "__Host-inlay_shopper"},
		{"padded", true, []*http.Cookie{{Name: "__Host-inlay_shopper", Value: known + "=="}}, "", "", "__Host-inlay_shopper"},
		{"standard base64", true, []*http.Cookie{{Name: "__Host-inlay_shopper", Value: "AAECAwQFBgcICQoLDA0O+w"}}, "", "", "__Host-inlay_shopper"},
		{"stray bits in the last character", true, []*http.Cookie{{Name: "__Host-inlay_shopper", Value: known[:21] + "x"}}, "", "", "__Host-inlay_shopper"},
		{"personal data", true, []*http.Cookie{{Name: "__Host-inlay_shopper", Value: "jane.doe@example.com"}}, "", "", "__Host-inlay_shopper"},
		{"a bad one, then a good one", true, []*http.Cookie{{Name: "__Host-inlay_shopper", Value: "x"}, {Name: "__Host-inlay_shopper", Value: known}}, "", known, ""},
		{"signed in", true, nil, "248289761001", "", ""},
		{"signed in with a cookie", true, []*http.Cookie{{Name: "__Host-inlay_shopper", Value: known}}, "248289761001", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, c := range tc.cookies {
				r.AddCookie(c)
			}
			id, set := shopper.ID(r, tc.sub, tc.secure)
			if !shopper.Valid(id) {
				t.Errorf("id %q is not valid", id)
			}
			switch {
			case tc.want != "" && id != tc.want:
				t.Errorf("id: got %q, want %q", id, tc.want)
			case tc.want == "" && id == known:
				t.Errorf("id: got the cookie's %q, want another", id)
			}
			if tc.sub != "" {
				again, _ := shopper.ID(httptest.NewRequest(http.MethodGet, "/", nil), tc.sub, !tc.secure)
				if id != again || strings.Contains(id, tc.sub) {
					t.Errorf("signed in: got %q then %q, want one id that is not the sub", id, again)
				}
			}
			if tc.setName == "" {
				if set != nil {
					t.Errorf("set %v, want no cookie", set)
				}
				return
			}
			if set == nil {
				t.Fatal("no cookie set")
			}
			want := &http.Cookie{Name: tc.setName, Value: id, Path: "/", MaxAge: 365 * 24 * 3600, Secure: tc.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode}
			if set.String() != want.String() {
				t.Errorf("cookie: got %q, want %q", set, want)
			}
			if err := set.Valid(); err != nil {
				t.Errorf("cookie: %v", err)
			}
		})
	}
}

// Each new shopper gets an id of their own, and two subs two ids.
func TestIDsDiffer(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id, _ := shopper.ID(httptest.NewRequest(http.MethodGet, "/", nil), "", true)
		if seen[id] {
			t.Fatalf("id %q minted twice", id)
		}
		seen[id] = true
	}
	a, _ := shopper.ID(httptest.NewRequest(http.MethodGet, "/", nil), "alice", true)
	b, _ := shopper.ID(httptest.NewRequest(http.MethodGet, "/", nil), "bob", true)
	if a == b {
		t.Errorf("two subs, one id %q", a)
	}
}

// Through a real browser-like client over https, the cookie set on the
// first visit brings the same id back on the next ones, and is not set
// again.
func TestIDKeptAcrossVisits(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, set := shopper.ID(r, "", true)
		if set != nil {
			http.SetCookie(w, set)
		}
		_, _ = io.WriteString(w, id)
	}))
	defer srv.Close()
	client := srv.Client()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client.Jar = jar
	var first string
	for visit := range 3 {
		resp, err := client.Get(srv.URL + "/product/boot-01")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		setCookie := resp.Header.Get("Set-Cookie")
		if visit == 0 {
			first = string(body)
			if !strings.HasPrefix(setCookie, "__Host-inlay_shopper="+first+";") {
				t.Fatalf("first visit: Set-Cookie %q, want the id %q", setCookie, first)
			}
			continue
		}
		if string(body) != first || setCookie != "" {
			t.Errorf("visit %d: id %q, Set-Cookie %q; want %q and no cookie", visit+1, body, setCookie, first)
		}
	}
}
