package fetch

import (
	"net/http"
	"strconv"
	"time"

	"github.com/inlayhq/inlay/fragments/contract"
)

// DefaultAssetGrace is how long after it stops being fresh a stored asset
// (a gateway response, see [Request.Asset]) still answers when its team
// fails, when the team gave no stale-if-error of its own and did not
// forbid stale copies (must-revalidate, proxy-revalidate, s-maxage).
// RFC 9111 §4.2.4 lets a cache serve a stale response when it cannot
// reach the origin; a day keeps a shop styled through a team's outage,
// and the cache's byte budget still bounds what is kept.
const DefaultAssetGrace = 24 * time.Hour

// GraceHeader returns the header a stored asset's windows are read from:
// h itself, or, for a 200 without a stale-if-error of its own that does
// not forbid stale copies (must-revalidate, proxy-revalidate, s-maxage),
// a copy that adds the default grace: see [DefaultAssetGrace].
func GraceHeader(status int, h http.Header) http.Header {
	if status != http.StatusOK {
		return h
	}
	cc := contract.ParseCacheControl(h)
	if cc.MustRevalidate || cc.SMaxAge >= 0 || cc.StaleIfError > 0 {
		return h
	}
	g := h.Clone()
	g.Add("Cache-Control", "stale-if-error="+strconv.Itoa(int(DefaultAssetGrace/time.Second)))
	return g
}

// Credentialed reports whether the request carries the shopper's
// credentials: a cookie, an Authorization header or an identity
// assertion.
func (r *Request) Credentialed() bool {
	return r.Get("Cookie") != "" || r.Get("Authorization") != "" || r.Get(HeaderIdentity) != ""
}
