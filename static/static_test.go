package static

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
)

func TestHashedNamesAreImmutable(t *testing.T) {
	p := Path("inlay.css")
	if !regexp.MustCompile(`^/-/static/inlay\.[0-9a-f]{10}\.css$`).MatchString(p) {
		t.Fatalf("Path(inlay.css) = %q, want a hashed name", p)
	}
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	cases := []struct {
		path, ifNoneMatch string
		status            int
		cacheControl      string
	}{
		{p, "", 200, "public, max-age=31536000, immutable"},
		{"/-/static/inlay.css", "", 200, "public, max-age=300"},
		{"/-/static/inlay.0000000000.css", "", 404, ""},
		{"/-/static/../static.go", "", 404, ""},
		{p, assets["inlay.css"].etag, 304, "public, max-age=31536000, immutable"},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
		if tc.ifNoneMatch != "" {
			req.Header.Set("If-None-Match", tc.ifNoneMatch)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.path, resp.StatusCode, tc.status)
		}
		if tc.status != 404 && resp.Header.Get("Cache-Control") != tc.cacheControl {
			t.Errorf("%s: Cache-Control %q, want %q", tc.path, resp.Header.Get("Cache-Control"), tc.cacheControl)
		}
		if tc.status == 200 && resp.Header.Get("Content-Type") != "text/css; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", tc.path, resp.Header.Get("Content-Type"))
		}
	}
	if Path("nope.css") != "" {
		t.Error("Path of a missing asset is not empty")
	}
}

func TestFavicon(t *testing.T) {
	srv := httptest.NewServer(FaviconHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + FaviconPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Errorf("favicon: status %d, Content-Type %q; want 200 image/svg+xml", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// TestDevScriptAndShopStylesheetAreServed: the live-reload script and the
// shop's site-wide stylesheet are embedded and named by their hash.
func TestDevScriptAndShopStylesheetAreServed(t *testing.T) {
	for _, name := range []string{"inlay-dev.js", "shop.css"} {
		if Path(name) == "" {
			t.Errorf("%s is not embedded", name)
		}
	}
}
