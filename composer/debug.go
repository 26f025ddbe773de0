package composer

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/inlayhq/inlay/composer/layout"
)

// DebugParam is the query parameter that asks for the debug view: "1" in
// dev mode, or the configured debug token.
const DebugParam = "inlay-debug"

// debugRequested reports whether r may see the debug view: in dev mode
// with ?inlay-debug=1, or with the configured token anywhere. Without one
// of those, the parameter is ignored.
func (s *Server) debugRequested(r *http.Request) bool {
	if !strings.Contains(r.URL.RawQuery, DebugParam) {
		return false
	}
	v := r.URL.Query().Get(DebugParam)
	switch {
	case v == "":
		return false
	case s.cfg.Dev && v == "1":
		return true
	case s.cfg.DebugToken != "":
		return subtle.ConstantTimeCompare([]byte(v), []byte(s.cfg.DebugToken)) == 1
	}
	return false
}

// debugInfo is what the debug view says about one box.
type debugInfo struct {
	ID       string `json:"id"`
	Service  string `json:"service"`
	Status   string `json:"status"`
	Duration string `json:"duration"`
	Cache    string `json:"cache,omitempty"`
	// Tier is the cache tier that served the box: local, shared or
	// origin.
	Tier    string `json:"tier,omitempty"`
	Breaker string `json:"breaker,omitempty"`
	// Shown says what the box shows instead of the fragment, if it does.
	Shown string `json:"shown,omitempty"`
	// Reason is why the fragment failed: bad markup, too large, status 500.
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
		Tier:     o.report.Tier.String(),
		Breaker:  o.report.Breaker,
		Degraded: o.err != nil,
	}
	if o.report.Cache == 0 {
		d.Cache = ""
	}
	switch {
	case o.resp != nil && !o.fromFallback:
		d.Status = strconv.Itoa(o.resp.Status)
	case o.err != nil:
		d.Status, d.Reason = "failed", o.err.Error()
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
