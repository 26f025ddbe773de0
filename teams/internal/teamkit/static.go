package teamkit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"time"

	"github.com/labstack/echo/v4"
)

// Cache-Control values for static files: immutable when the request names
// the current content hash in its v query, short-lived otherwise. Both are
// public, so that Inlay's gateway keeps them; the short-lived one may be
// served stale for a day while the team is down (a year-long immutable
// copy needs no grace).
const (
	CacheImmutable = "public, max-age=31536000, immutable"
	CacheStatic    = "public, max-age=300, stale-if-error=86400"
)

// Assets are a team's static files, read once at start-up and each named by
// the first 10 hex characters of the sha256 of its content.
type Assets struct {
	prefix string
	files  map[string]asset
}

type asset struct {
	data        []byte
	hash        string
	contentType string
}

// LoadAssets reads every regular file of fsys. Files are served under
// prefix, which must end in a slash, e.g. "/shell/static/".
func LoadAssets(fsys fs.FS, prefix string) (*Assets, error) {
	a := &Assets{prefix: prefix, files: map[string]asset{}}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = http.DetectContentType(data)
		}
		a.files[name] = asset{data: data, hash: hex.EncodeToString(sum[:])[:10], contentType: ct}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("loading static assets: %w", err)
	}
	return a, nil
}

// MustLoadAssets is LoadAssets for embedded files, which cannot fail to
// read: it panics on error.
func MustLoadAssets(fsys fs.FS, prefix string) *Assets {
	a, err := LoadAssets(fsys, prefix)
	if err != nil {
		panic(err)
	}
	return a
}

// Names lists the files, sorted.
func (a *Assets) Names() []string {
	names := make([]string, 0, len(a.files))
	for n := range a.files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Hash returns the content hash of the named file, or "" if there is none.
func (a *Assets) Hash(name string) string {
	return a.files[name].hash
}

// URL returns the versioned URL of the named file, e.g.
// "/shell/static/shell.css?v=0123456789". It panics if there is no such
// file, since asset names are fixed at build time.
func (a *Assets) URL(name string) string {
	f, ok := a.files[name]
	if !ok {
		panic("teamkit: no static file " + name)
	}
	return a.prefix + name + "?v=" + f.hash
}

// StylesheetLink returns a Link header value declaring the named file as a
// stylesheet: "<URL>; rel=stylesheet".
func (a *Assets) StylesheetLink(name string) string {
	return "<" + a.URL(name) + ">; rel=stylesheet"
}

// Handler serves the file named by the route's "*" parameter. A v query
// equal to the file's hash gets an immutable Cache-Control, any other
// request a short one, so that a stale or guessed version is never cached
// for a year. ETag, If-None-Match and HEAD are handled by http.ServeContent.
func (a *Assets) Handler() echo.HandlerFunc {
	return func(c echo.Context) error {
		f, ok := a.files[c.Param("*")]
		if !ok {
			return echo.ErrNotFound
		}
		h := c.Response().Header()
		if v := c.QueryParam("v"); v != "" && v == f.hash {
			h.Set("Cache-Control", CacheImmutable)
		} else {
			h.Set("Cache-Control", CacheStatic)
		}
		h.Set("Content-Type", f.contentType)
		h.Set("ETag", `"`+f.hash+`"`)
		http.ServeContent(c.Response(), c.Request(), "", time.Time{}, bytes.NewReader(f.data))
		return nil
	}
}
