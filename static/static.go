// Package static serves Inlay's own browser assets, embedded in the
// binary, under content-hashed names that may be cached forever.
package static

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// Prefix is the URL path under which the assets are served.
const Prefix = "/-/static/"

//go:embed *.css *.js *.svg
var files embed.FS

// asset is one embedded file.
type asset struct {
	data        []byte
	contentType string
	etag        string
	hashedName  string // like inlay.3f2a1b9c0d.css
}

// assets maps plain and hashed names to their files; built once at start-up.
var assets = load()

func load() map[string]*asset {
	m := map[string]*asset{}
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		panic(err) // the embedded folder is part of the binary
	}
	for _, e := range entries {
		data, err := fs.ReadFile(files, e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(data)
		hash := hex.EncodeToString(sum[:])[:10]
		ext := path.Ext(e.Name())
		a := &asset{
			data:        data,
			contentType: mime.TypeByExtension(ext),
			etag:        `"` + hash + `"`,
			hashedName:  strings.TrimSuffix(e.Name(), ext) + "." + hash + ext,
		}
		m[e.Name()] = a
		m[a.hashedName] = a
	}
	return m
}

// Path returns the content-hashed URL path of an embedded asset, such as
// /-/static/inlay.3f2a1b9c0d.css, or "" if there is no such asset.
func Path(name string) string {
	if a, ok := assets[name]; ok {
		return Prefix + a.hashedName
	}
	return ""
}

// Handler serves the assets under [Prefix]. A hashed name is immutable and
// cached for a year; a plain name (for hand-written layouts) is cached for
// five minutes and revalidated with its ETag.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, Prefix)
		a, ok := assets[name]
		if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			http.NotFound(w, r)
			return
		}
		cache := "public, max-age=300"
		if name == a.hashedName {
			cache = "public, max-age=31536000, immutable"
		}
		serveAsset(w, r, a, cache)
	})
}

// FaviconPath is where browsers look for a site's icon when a page names
// none.
const FaviconPath = "/favicon.ico"

// FaviconHandler serves the shop's icon (favicon.svg) at [FaviconPath],
// cached for a day. Browsers take an SVG icon whatever the name.
func FaviconHandler() http.Handler {
	a := assets["favicon.svg"]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveAsset(w, r, a, "public, max-age=86400")
	})
}

// serveAsset writes an asset with its type, ETag and caching; conditional
// requests, HEAD and ranges are http.ServeContent's.
func serveAsset(w http.ResponseWriter, r *http.Request, a *asset, cacheControl string) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", a.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.data))
}
