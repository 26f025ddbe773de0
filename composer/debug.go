package composer

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/inlayhq/inlay/composer/layout"
	"github.com/inlayhq/inlay/fragments/fetch"
)

// DebugParam is the query parameter that asks for the debug view: "1" in
// dev mode, or the configured debug token.
const DebugParam = "inlay-debug"

// DebugCookie keeps the debug view on across links in dev mode: set by
// ?inlay-debug=1, cleared by ?inlay-debug=0. It is ignored outside dev
// mode, where only the token shows the view.
const DebugCookie = "inlay-debug"

// debugRequested reports whether r may see the debug view: in dev mode
// with ?inlay-debug=1 or the debug cookie, or with the configured token
// anywhere. Without one of those, the parameter is ignored. In dev mode
// it also returns the cookie to set: on for ?inlay-debug=1, cleared for
// ?inlay-debug=0, nil otherwise.
func (s *Server) debugRequested(r *http.Request) (bool, *http.Cookie) {
	var v string
	if strings.Contains(r.URL.RawQuery, DebugParam) {
		v = r.URL.Query().Get(DebugParam)
	}
	if s.cfg.Dev {
		switch v {
		case "1":
			return true, debugCookie(true)
		case "0":
			return false, debugCookie(false)
		}
		if c, err := r.Cookie(DebugCookie); err == nil && c.Value == "1" {
			return true, nil
		}
	}
	if v != "" && s.cfg.DebugToken != "" {
		return subtle.ConstantTimeCompare([]byte(v), []byte(s.cfg.DebugToken)) == 1, nil
	}
	return false, nil
}

// debugCookie is the dev-mode cookie that turns the debug view on for
// the pages that follow, or clears it. It lives as long as the browser
// session; the page's script never reads it.
func debugCookie(on bool) *http.Cookie {
	c := &http.Cookie{Name: DebugCookie, Value: "1", Path: "/", SameSite: http.SameSiteLaxMode}
	if !on {
		c.Value, c.MaxAge = "", -1
	}
	return c
}

// debugData is what the debug view knows about a page: the server's own
// timing, for the page summary, and every box.
type debugData struct {
	// Composed is how long the server had worked on the page when it
	// wrote this, its last part: about the whole composition.
	Composed string `json:"composed"`
	// TTFB is how long the page took to send its headers, when it sent
	// them before this part; empty for a page sent whole.
	TTFB  string      `json:"ttfb,omitempty"`
	Boxes []debugInfo `json:"boxes"`
}

// debugInfo is what the debug view says about one box.
type debugInfo struct {
	ID       string `json:"id"`
	Service  string `json:"service"`
	Status   string `json:"status"`
	Duration string `json:"duration"`
	Cache    string `json:"cache,omitempty"`
	// Tier is the cache tier that served the box: memory (the
	// replica's in-process cache, "local" in Server-Timing and metrics),
	// shared or origin.
	Tier    string `json:"tier,omitempty"`
	Breaker string `json:"breaker,omitempty"`
	// Instance is the address of the service's instance that answered,
	// when the service has several.
	Instance string `json:"instance,omitempty"`
	// Canary is true when the box came from the service's canary.
	Canary bool `json:"canary,omitempty"`
	// Shown says what the box shows instead of the fragment, if it does.
	Shown string `json:"shown,omitempty"`
	// Reason is why the fragment failed: bad markup, too large, status
	// 500. It leaves out the fragment and service, which the view names.
	Reason string `json:"reason,omitempty"`
	// Version is the version the team's service says it is, from one of
	// versionHeaders.
	Version string `json:"version,omitempty"`
	// Degraded is true when the box does not show its fragment.
	Degraded bool `json:"degraded,omitempty"`
}

// versionHeaders are the response headers a team may name its fragment's
// version in, in order of preference.
var versionHeaders = []string{"X-Fragment-Version", "X-Version", "X-App-Version"}

func newDebugInfo(slot *layout.Slot, o *outcome) debugInfo {
	d := debugInfo{
		ID:       slot.ID,
		Service:  slot.Src.Service.Name,
		Duration: o.duration.Round(100 * time.Microsecond).String(),
		Cache:    o.report.Cache.String(),
		Tier:     tierLabel(o.report.Tier),
		Breaker:  o.report.Breaker,
		Canary:   o.report.Canary,
		Degraded: o.err != nil,
	}
	if o.resp != nil {
		d.Instance = o.resp.Instance
	}
	if o.report.Cache == 0 {
		d.Cache = ""
	}
	switch {
	case o.resp != nil && !o.fromFallback:
		d.Status = strconv.Itoa(o.resp.Status)
	case o.err != nil:
		d.Status, d.Reason = "failed", failureText(o.err)
		if fetch.KindOf(o.err) == fetch.KindTimeout {
			d.Status = "timeout"
		}
	}
	switch {
	case o.fromFallback:
		d.Shown = "fallback-src"
	case o.resp == nil:
		d.Shown = "inline fallback"
	}
	if o.resp != nil && !o.fromFallback {
		for _, h := range versionHeaders {
			if v := o.resp.Header.Get(h); v != "" {
				d.Version = v
				break
			}
		}
	}
	return d
}

// tierLabel names a tier as the debug view shows it: the in-process
// cache is "memory", which cannot be read as "my local service".
func tierLabel(t fetch.Tier) string {
	if t == fetch.TierLocal {
		return "memory"
	}
	return t.String()
}

// failureText is why a fetch failed, without the fragment and service a
// [fetch.Error] names first: the debug view shows those already.
func failureText(err error) string {
	msg := err.Error()
	var fe *fetch.Error
	if errors.As(err, &fe) {
		msg = strings.TrimPrefix(msg, fmt.Sprintf("fragment %q (service %s): ", fe.ID, fe.Service))
	}
	return msg
}
