package teamkit

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"
)

func TestAssets(t *testing.T) {
	css := []byte(".x-a { color: red }\n")
	sum := sha256.Sum256(css)
	hash := hex.EncodeToString(sum[:])[:10]
	a, err := LoadAssets(fstest.MapFS{"x.css": {Data: css}, "img/y.svg": {Data: []byte("<svg/>")}}, "/x/static/")
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Hash("x.css"); got != hash {
		t.Errorf("Hash = %q, want %q", got, hash)
	}
	if got, want := a.URL("x.css"), "/x/static/x.css?v="+hash; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	if got, want := a.StylesheetLink("x.css"), "</x/static/x.css?v="+hash+">; rel=stylesheet"; got != want {
		t.Errorf("StylesheetLink = %q, want %q", got, want)
	}
	if got := a.Names(); len(got) != 2 || got[0] != "img/y.svg" || got[1] != "x.css" {
		t.Errorf("Names = %q", got)
	}

	e := NewEcho(discard())
	e.GET("/x/static/*", a.Handler())
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	tests := []struct {
		name, path, wantCache, wantType, wantBody string
		wantStatus                                int
	}{
		{"current version", "/x/static/x.css?v=" + hash, CacheImmutable, "text/css; charset=utf-8", string(css), 200},
		{"no version", "/x/static/x.css", CacheStatic, "text/css; charset=utf-8", string(css), 200},
		{"stale version", "/x/static/x.css?v=0000000000", CacheStatic, "text/css; charset=utf-8", string(css), 200},
		{"nested file", "/x/static/img/y.svg", CacheStatic, "image/svg+xml", "<svg/>", 200},
		{"unknown file", "/x/static/nope.css", "no-store", "text/plain; charset=utf-8", "Not Found\n", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if got := resp.Header.Get("Cache-Control"); got != tt.wantCache {
				t.Errorf("Cache-Control = %q, want %q", got, tt.wantCache)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			if string(body) != tt.wantBody {
				t.Errorf("body = %q, want %q", body, tt.wantBody)
			}
		})
	}

	t.Run("etag revalidation", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/x/static/x.css", nil)
		req.Header.Set("If-None-Match", `"`+hash+`"`)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("status = %d, want 304", resp.StatusCode)
		}
	})
}

func TestURLPanicsOnUnknownFile(t *testing.T) {
	a := MustLoadAssets(fstest.MapFS{}, "/x/static/")
	defer func() {
		if recover() == nil {
			t.Error("URL of a missing file did not panic")
		}
	}()
	_ = a.URL("missing.css")
}
