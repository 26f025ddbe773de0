package composer

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/inlayhq/inlay/fragments/contract"
	"github.com/inlayhq/inlay/fragments/fetch"
)

// passCookies adds the Set-Cookie headers of fragments whose services may
// set cookies and which answered before the headers leave.
func (pg *page) passCookies(h http.Header) {
	for i, slot := range pg.layout.Slots {
		if slot.Primary || !slot.Src.Service.SetCookies || !isDone(pg.slots[i].done) {
			continue
		}
		if o := &pg.slots[i].out; o.resp != nil && !o.fromFallback {
			h["Set-Cookie"] = append(h["Set-Cookie"], o.resp.Header["Set-Cookie"]...)
		}
	}
}

// serverTiming describes every fragment that finished before the headers
// leave: its duration, cache result, tier and breaker state, and whether
// a canary answered or the box degraded.
func (pg *page) serverTiming() string {
	var b strings.Builder
	b.Grow(48 * len(pg.layout.Slots))
	for i, slot := range pg.layout.Slots {
		if !isDone(pg.slots[i].done) {
			continue
		}
		o := &pg.slots[i].out
		if o.resp == nil && o.err == nil {
			continue // not fetched: a HEAD request
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(slot.ID)
		b.WriteString(";dur=")
		b.WriteString(strconv.FormatFloat(float64(o.duration.Microseconds())/1000, 'f', -1, 64))
		b.WriteString(`;desc="`)
		b.WriteString(o.report.Cache.String())
		if o.report.Tier != fetch.TierNone {
			b.WriteByte(' ')
			b.WriteString(o.report.Tier.String())
		}
		if o.report.Breaker != "" {
			b.WriteByte(' ')
			b.WriteString(o.report.Breaker)
		}
		// No instance's address: every shopper sees this header, and a
		// pod's address is the shop's inside. The debug view and the
		// access log name it.
		if o.report.Canary {
			b.WriteString(" canary")
		}
		if o.err != nil {
			b.WriteString(" degraded")
		}
		b.WriteByte('"')
	}
	return b.String()
}

// earlyHints sends a 103 announcing the stylesheets of the page's cached
// fragments while the primary is still being fetched, so the browser
// loads them meanwhile. It looks the slots up with the requests the
// page's start built, so nothing is built twice.
func (pg *page) earlyHints(w http.ResponseWriter) {
	if !pg.eng.earlyHints || isDone(pg.slots[pg.layout.Primary].done) {
		return
	}
	h := w.Header()
	var seen []string
	for i := range pg.layout.Slots {
		var resp *fetch.Response
		if isDone(pg.slots[i].done) {
			resp = pg.slots[i].out.resp
		} else {
			resp, _ = pg.eng.fetch.Peek(&pg.slots[i].req)
		}
		if resp == nil {
			continue
		}
		for _, a := range resp.Assets {
			if a.Kind == contract.Stylesheet && !slices.Contains(seen, a.URL) {
				seen = append(seen, a.URL)
				h.Add("Link", "<"+a.URL+">; rel=preload; as=style")
			}
		}
	}
	if len(seen) == 0 {
		return
	}
	// Past echo's Response, which would take a 1xx for the final status.
	if u, ok := w.(interface{ Unwrap() http.ResponseWriter }); ok {
		w = u.Unwrap()
	}
	w.WriteHeader(http.StatusEarlyHints)
	h.Del("Link") // the final response announces the primary's own
}

// newNonce returns a fresh CSP nonce.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawStdEncoding.EncodeToString(b[:])
}

// primaryHeaders copies what the primary fragment may say about the page:
// its redirect target and its cookies. It reports false when the Location
// is not a safe, same-site target.
func primaryHeaders(h http.Header, r *http.Request, resp *fetch.Response) bool {
	if contract.IsRedirect(resp.Status) {
		loc, ok := contract.SafeLocation(resp.Header.Get("Location"), r.Host)
		if !ok {
			return false
		}
		h.Set("Location", loc)
	}
	if cookies := resp.Header["Set-Cookie"]; len(cookies) > 0 {
		h["Set-Cookie"] = cookies
	}
	for _, a := range resp.Assets {
		h.Add("Link", preloadLink(a))
	}
	return true
}

// preloadLink announces an asset in a Link header so the browser fetches
// it before it meets the tag.
func preloadLink(a contract.Asset) string {
	switch a.Kind {
	case contract.ModuleScript:
		return "<" + a.URL + ">; rel=modulepreload"
	case contract.Script:
		return "<" + a.URL + ">; rel=preload; as=script"
	}
	return "<" + a.URL + ">; rel=preload; as=style"
}
