package composer

// Rows G1, G2 and G3 of docs/fault-matrix.md: the gateway passes a team's
// answer on as the team sent it.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inlayhq/inlay/teams/teamtest"
)

// zeroBomb is a gzip body of 64 concatenated members, each 1 MiB of
// zeros: about 65 KB that inflate to 64 MiB.
var zeroBomb = sync.OnceValue(func() []byte {
	var one bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&one, gzip.BestCompression)
	zw.Write(make([]byte, 1<<20))
	zw.Close()
	return bytes.Repeat(one.Bytes(), 64)
})

// G1: the gateway passes Accept-Encoding and the team's Content-Encoding
// through untouched. It never asks the team for gzip on its own, and never
// inflates what the team sent: a shopper who did not ask for gzip gets what
// the team chose to send, and one who did gets the team's bytes with their
// Content-Length.
func TestGatewayPassesContentCodingsUntouched(t *testing.T) {
	bomb := zeroBomb()
	var mu sync.Mutex
	var seen [][]string // the Accept-Encoding of each team request
	team := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Values("Accept-Encoding"))
		mu.Unlock()
		always := r.URL.Path == "/gw/always"
		if !always && !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "identity")
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", strconv.Itoa(len(bomb)))
		w.Write(bomb)
	})
	url, _, _ := gatewayShop(t, team, "", "", time.Minute)
	// A client that sends exactly the headers it is given and inflates
	// nothing.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 30 * time.Second}
	t.Cleanup(client.CloseIdleConnections)

	cases := []struct {
		name, path, acceptEncoding string
		wantBody                   []byte
		wantEncoding               string
	}{
		{"no Accept-Encoding, the team sends identity", "/gw/negotiate", "", []byte("identity"), ""},
		{"Accept-Encoding gzip", "/gw/negotiate", "gzip", bomb, "gzip"},
		{"no Accept-Encoding, the team gzips anyway", "/gw/always", "", bomb, "gzip"},
		{"a list passes as it is", "/gw/negotiate", "br;q=1, gzip;q=0.5", bomb, "gzip"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			req, _ := http.NewRequest(http.MethodGet, url+tc.path, nil)
			if tc.acceptEncoding != "" {
				req.Header.Set("Accept-Encoding", tc.acceptEncoding)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			// Read at most one byte more than the team sent: an inflated
			// body is seen without holding 64 MiB.
			got, err := io.ReadAll(io.LimitReader(resp.Body, int64(len(tc.wantBody))+1))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.wantBody) {
				t.Errorf("body: got %d bytes starting %q, want the team's %d bytes", len(got), got[:min(len(got), 16)], len(tc.wantBody))
			}
			if ce := resp.Header.Get("Content-Encoding"); ce != tc.wantEncoding {
				t.Errorf("Content-Encoding %q, want %q", ce, tc.wantEncoding)
			}
			if tc.wantEncoding != "" && resp.ContentLength != int64(len(bomb)) {
				t.Errorf("Content-Length %d, want the team's %d", resp.ContentLength, len(bomb))
			}
			mu.Lock()
			defer mu.Unlock()
			var want []string
			if tc.acceptEncoding != "" {
				want = []string{tc.acceptEncoding}
			}
			if len(seen) != 1 || !slices.Equal(seen[0], want) {
				t.Errorf("the team got Accept-Encoding %q, want %q", seen, want)
			}
		})
	}
}

// G2: every final status a team sends reaches the shopper as sent, 499
// included, though Inlay logs 499 for a shopper who left. (1xx answers
// are interim: the final one follows them.)
func TestGatewayPassesEveryStatus(t *testing.T) {
	team := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/gw/status/"))
		if err != nil {
			code = http.StatusTeapot
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("X-Team", "yes")
		w.WriteHeader(code)
		fmt.Fprintf(w, "the team's %d", code)
	})
	url, obs, _ := gatewayShop(t, team, "", "", time.Minute)
	codes := []int{200, 201, 202, 203, 204, 206, 226, 299, 300, 304, 399, 400, 404, 418, 451, 499, 500, 502, 503, 504, 599}
	var want []string
	for _, code := range codes {
		resp, err := http.Get(fmt.Sprintf("%s/gw/status/%d", url, code))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != code || resp.Header.Get("X-Team") != "yes" {
			t.Errorf("team status %d: the shopper got %d (X-Team %q)", code, resp.StatusCode, resp.Header.Get("X-Team"))
		}
		if wantBody := fmt.Sprintf("the team's %d", code); code != 204 && code != 304 && string(body) != wantBody {
			t.Errorf("team status %d: body %q, want %q", code, body, wantBody)
		}
		want = append(want, fmt.Sprintf("/gw/ %d", code))
	}
	teamtest.WaitUntil(t, "every request is observed", func() bool { return len(obs.seen()) == len(want) })
	if got := obs.seen(); !slices.Equal(got, want) {
		t.Errorf("observer got %v, want %v", got, want)
	}
}

// methodRecorder is a team that records the method of each request.
type methodRecorder struct {
	mu      sync.Mutex
	methods []string
}

func (m *methodRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.methods = append(m.methods, r.Method)
	m.mu.Unlock()
	io.WriteString(w, "ok")
}

func (m *methodRecorder) take() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	got := m.methods
	m.methods = nil
	return got
}

// exchangeRaw sends one request with a verbatim method and target and
// returns the response, its body read and closed.
func exchangeRaw(t *testing.T, base, method, target string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n", method, target)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	req, _ := http.NewRequest(method, "http://shop.example"+target, nil)
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// G3: every method but TRACE and CONNECT reaches the team, extension
// methods included (RFC 9110 §16.1: the set is open).
func TestGatewayPassesExtensionMethods(t *testing.T) {
	team := &methodRecorder{}
	url, _, _ := gatewayShop(t, team, "", "", time.Minute)
	methods := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
		"PROPFIND", "REPORT", "MKCOL", "M-SEARCH", "PURGE", "LINK", "QUERY", "BREW"}
	for _, method := range methods {
		if resp := exchangeRaw(t, url, method, "/gw/x"); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d, want the team's 200", method, resp.StatusCode)
		}
	}
	if got := team.take(); !slices.Equal(got, methods) {
		t.Errorf("the team got %v, want %v", got, methods)
	}
}

// G3: a 405 that Inlay writes has an Allow header, and every method it
// lists is let through: on a gateway route it reaches the team, on a page
// route it is answered. TRACE and CONNECT are refused on every route and
// never reach the team; a page route refuses all but GET, HEAD and
// OPTIONS.
func TestAllowListsOnlyWhatIsLetThrough(t *testing.T) {
	team := &methodRecorder{}
	url, _, _ := gatewayShop(t, team, "", "", time.Minute)
	cases := []struct {
		method, target string
		refused        bool
	}{
		{"TRACE", "/gw/x", true}, {"CONNECT", "/gw/x", true},
		{"M-SEARCH", "/gw/x", false}, {"PURGE", "/gw/x", false},
		{"POST", "/", true}, {"PURGE", "/", true}, {"M-SEARCH", "/", true}, {"TRACE", "/", true},
	}
	for _, tc := range cases {
		resp := exchangeRaw(t, url, tc.method, tc.target)
		if refused := resp.StatusCode == http.StatusMethodNotAllowed; refused != tc.refused {
			t.Errorf("%s %s: status %d, want refused %v", tc.method, tc.target, resp.StatusCode, tc.refused)
		}
		if resp.StatusCode != http.StatusMethodNotAllowed {
			continue
		}
		allow := resp.Header.Get("Allow")
		if allow == "" {
			t.Errorf("%s %s: a 405 without Allow", tc.method, tc.target)
		}
		for m := range strings.SplitSeq(allow, ",") {
			m = strings.TrimSpace(m)
			if got := exchangeRaw(t, url, m, tc.target); got.StatusCode == http.StatusMethodNotAllowed {
				t.Errorf("%s %s: Allow %q lists %s, which is refused", tc.method, tc.target, allow, m)
			}
		}
	}
	if got := team.take(); slices.Contains(got, "TRACE") || slices.Contains(got, "CONNECT") {
		t.Errorf("the team got %v", got)
	}
}
