package transport

import (
	"bytes"
	"compress/gzip"
	"errors"
	"net/http"
	"testing"

	"github.com/inlayhq/inlay/fragments/fetch"
)

// B13: which Content-Encoding values a fetch decodes, and how deep.
func TestGzipLayers(t *testing.T) {
	cases := []struct {
		lines []string
		want  int
		ok    bool
	}{
		{nil, 0, true},
		{[]string{"gzip"}, 1, true},
		{[]string{"GZIP"}, 1, true},
		{[]string{"x-gzip"}, 1, true},
		{[]string{"identity"}, 0, true},
		{[]string{"gzip, identity"}, 1, true},
		{[]string{"gzip,"}, 1, true},
		{[]string{"gzip, gzip"}, 2, true},
		{[]string{"gzip", "X-Gzip"}, 2, true},
		{[]string{"gzip, gzip, gzip"}, 0, false},
		{[]string{"deflate"}, 0, false},
		{[]string{"br"}, 0, false},
		{[]string{"compress"}, 0, false},
		{[]string{"x-compress"}, 0, false},
		{[]string{"zstd"}, 0, false},
		{[]string{"gzip, deflate"}, 0, false},
		{[]string{"gzip;q=1"}, 0, false},
	}
	for _, tc := range cases {
		got, err := gzipLayers(http.Header{"Content-Encoding": tc.lines})
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("%q: got %d, %v; want %d, ok %v", tc.lines, got, err, tc.want, tc.ok)
		}
	}
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// B13: the layers of a stack share one budget: what the outer layer
// produces counts too, so a stack is no more work than one body.
func TestInflateCountsEveryLayer(t *testing.T) {
	body := bytes.Repeat([]byte("<p>x</p>"), 1000) // 8000 bytes
	twice := gz(gz(body))
	inner := len(gz(body))
	for _, tc := range []struct {
		limit int64
		fits  bool
	}{
		{int64(len(body) + inner), true},
		{int64(len(body) + inner - 1), false},
	} {
		r, _, err := inflate(bytes.NewReader(twice), 2, tc.limit, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fetch.ReadBody(r, -1, tc.limit)
		if tc.fits && (err != nil || !bytes.Equal(got, body)) {
			t.Errorf("limit %d: got %d bytes, %v; want the body", tc.limit, len(got), err)
		}
		if !tc.fits && !errors.Is(err, fetch.ErrTooLarge) {
			t.Errorf("limit %d: got %d bytes, %v; want ErrTooLarge", tc.limit, len(got), err)
		}
	}
}

// DecodeBody gives a tool the body a fetch would read.
func TestDecodeBody(t *testing.T) {
	h := func(v string) http.Header { return http.Header{"Content-Encoding": {v}} }
	if got, ok := DecodeBody(h("x-gzip"), gz([]byte("<p>x</p>")), 1<<20); !ok || string(got) != "<p>x</p>" {
		t.Errorf("x-gzip: got %q, %v", got, ok)
	}
	if got, ok := DecodeBody(h("br"), []byte("raw"), 1<<20); ok || string(got) != "raw" {
		t.Errorf("br: got %q, %v; want the raw bytes, not ok", got, ok)
	}
	if got, ok := DecodeBody(nil, []byte("plain"), 1<<20); !ok || string(got) != "plain" {
		t.Errorf("none: got %q, %v", got, ok)
	}
}
