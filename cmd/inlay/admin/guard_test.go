package admin_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/inlayhq/inlay/cmd/inlay/admin"
)

const token = "0123456789abcdef0123"

// S8, I4: Guard answers 403 to browsers and 401 without the token before
// the route runs, and lets the open paths through without a token.
func TestGuard(t *testing.T) {
	var ran atomic.Int64
	var current atomic.Value
	current.Store(token)
	srv := httptest.NewServer(admin.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran.Add(1)
		io.WriteString(w, "ran")
	}), func() string { return current.Load().(string) }, "/metrics"))
	defer srv.Close()
	cases := []struct {
		name, path string
		header     map[string]string
		want       int
	}{
		{"the token", "/-/purge", map[string]string{"Authorization": "Bearer " + token}, 200},
		{"the token, spaces around", "/-/purge", map[string]string{"Authorization": "  BEARER   " + token + " "}, 200},
		{"no token", "/-/purge", nil, 401},
		{"an empty bearer", "/-/purge", map[string]string{"Authorization": "Bearer "}, 401},
		{"a prefix of the token", "/-/purge", map[string]string{"Authorization": "Bearer " + token[:10]}, 401},
		{"the token, no scheme", "/-/purge", map[string]string{"Authorization": token}, 401},
		{"an open path", "/metrics", nil, 200},
		{"an open path, one slash more", "/metrics/", nil, 401},
		{"the token from a cross-site page", "/-/purge", map[string]string{"Authorization": "Bearer " + token, "Origin": "https://evil.example"}, 403},
		{"an open path from a same-site page", "/metrics", map[string]string{"Sec-Fetch-Site": "Same-Site"}, 403},
		{"an open path, same-origin", "/metrics", map[string]string{"Sec-Fetch-Site": "same-origin"}, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := ran.Load()
			req, _ := http.NewRequest("POST", srv.URL+tc.path, nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%d %q, want %d", resp.StatusCode, body, tc.want)
			}
			if ranNow := ran.Load() > before; ranNow != (tc.want == 200) {
				t.Errorf("the route ran: %t, want %t", ranNow, tc.want == 200)
			}
			if tc.want != 200 && (resp.Header.Get("Content-Type") != "application/json" || !strings.HasPrefix(string(body), `{"error":`)) {
				t.Errorf("refusal %s %q, want a JSON error", resp.Header.Get("Content-Type"), body)
			}
			if tc.want == 401 && resp.Header.Get("WWW-Authenticate") != `Bearer realm="inlay-admin"` {
				t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	// Without a token, only browsers are refused.
	current.Store("")
	resp, err := http.Post(srv.URL+"/-/purge", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("no token configured: %d, want 200", resp.StatusCode)
	}
}
