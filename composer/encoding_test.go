package composer

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/inlayhq/inlay/teams/teamtest"
)

// gzipped returns b compressed with gzip.
func gzipped(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// B13: a fragment's content codings. gzip and x-gzip (its old name) are
// decoded, and so are two stacked gzip codings, under the one body cap
// counted across both layers; any other coding, or a deeper stack, is a
// body failure: the fallback shows and nothing is stored. Both classes of
// client (the lean HTTP/1.1 one and net/http's, here over h2c) ask for
// gzip alone, the one coding they decode.
func TestFragmentContentCodings(t *testing.T) {
	const html = "<p>coded</p>"
	var deflated bytes.Buffer
	zw := zlib.NewWriter(&deflated)
	zw.Write([]byte(html))
	zw.Close()
	// 4 MiB of markup, twice gzipped: a few KB that pass the 64 KiB cap
	// only once inflated.
	big := gzipped(gzipped(bytes.Repeat([]byte("<p>big</p>"), 400<<10)))

	cases := []struct {
		name     string
		encoding []string // Content-Encoding header lines
		body     []byte
		want     string // the box's content; "" for the fallback
		reason   string // the degraded record's reason, with the fallback
	}{
		{"gzip", []string{"gzip"}, gzipped([]byte(html)), html, ""},
		{"x-gzip", []string{"x-gzip"}, gzipped([]byte(html)), html, ""},
		{"X-GZip", []string{"X-GZip"}, gzipped([]byte(html)), html, ""},
		{"gzip, gzip", []string{"gzip, gzip"}, gzipped(gzipped([]byte(html))), html, ""},
		{"gzip on two lines", []string{"gzip", "x-gzip"}, gzipped(gzipped([]byte(html))), html, ""},
		{"identity", []string{"identity"}, []byte(html), html, ""},
		{"gzip, gzip over the cap", []string{"gzip, gzip"}, big, "", "too_large"},
		{"gzip, gzip, gzip", []string{"gzip, gzip, gzip"}, gzipped(gzipped(gzipped([]byte(html)))), "", "body"},
		{"deflate", []string{"deflate"}, deflated.Bytes(), "", "body"},
		{"br", []string{"br"}, []byte("\x1b\x0b\x00\xf8\xa5\x10\x2d\x49\x0c"), "", "body"},
		{"compress", []string{"compress"}, []byte("\x1f\x9d\x90<p>"), "", "body"},
		{"zstd", []string{"zstd"}, []byte("\x28\xb5\x2f\xfd"), "", "body"},
		{"unknown", []string{"snappy"}, []byte(html), "", "body"},
		{"gzip, deflate", []string{"gzip, deflate"}, gzipped(deflated.Bytes()), "", "body"},
	}
	for _, class := range []string{"HTTP/1.1", "h2c"} {
		for _, tc := range cases {
			t.Run(class+"/"+tc.name, func(t *testing.T) {
				var mu sync.Mutex
				var asked []string // the Accept-Encoding of each request
				route := teamtest.Route{Handler: func(w http.ResponseWriter, r *http.Request) {
					mu.Lock()
					asked = append(asked, strings.Join(r.Header.Values("Accept-Encoding"), ", "))
					mu.Unlock()
					w.Header().Set("Content-Type", "text/html")
					w.Header().Set("Cache-Control", "max-age=60")
					w.Header()["Content-Encoding"] = tc.encoding
					w.Write(tc.body)
				}}
				shell := teamtest.NewRoutes(t, map[string]teamtest.Route{"/main": {Body: "<h1>main</h1>"}})
				sc := shopConfig{
					services: map[string]*teamtest.Team{"shell": shell},
					layouts:  map[string]string{"p.html": strings.Replace(faultLayout, "%s", "", 1)},
					pages:    "  - path: /\n    layout: p.html",
					extra:    "max_fragment_bytes: 65536\n",
				}
				var box *teamtest.Team
				if class == "h2c" {
					box = newH2CStub(t, map[string]teamtest.Route{"/box": route})
					sc.serviceYAML = map[string]string{"box": "    h2c: true\n"}
				} else {
					box = teamtest.NewRoutes(t, map[string]teamtest.Route{"/box": route})
				}
				sc.services["box"] = box
				s := newShop(t, sc)

				want, wantHits := faultPage, int64(2) // a failure is never stored
				if tc.want != "" {
					want, wantHits = boxPage(tc.want), 1
				}
				for range 2 {
					resp, body := s.get(t, "/")
					if resp.StatusCode != http.StatusOK || body != want {
						t.Fatalf("page: got %d %q, want 200 %q", resp.StatusCode, body, want)
					}
				}
				if tc.reason != "" {
					wantLog(t, s.logText(), "fragment", "box", "reason", tc.reason)
				}
				if n := box.Hits(); n != wantHits {
					t.Errorf("the service was asked %d times for two pages, want %d", n, wantHits)
				}
				mu.Lock()
				defer mu.Unlock()
				for _, ae := range asked {
					if ae != "gzip" {
						t.Errorf("the fragment request asked for Accept-Encoding %q, want %q", ae, "gzip")
					}
				}
			})
		}
	}
}
