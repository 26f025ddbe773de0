package composer

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"
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
	ID, Service, Status, Duration, Cache, Breaker, Shown, Error string
}

func newDebugInfo(slot *Slot, o *outcome) debugInfo {
	d := debugInfo{
		ID:       slot.ID,
		Service:  slot.Src.Service.Name,
		Duration: o.duration.Round(100 * time.Microsecond).String(),
		Cache:    o.report.Cache.String(),
		Breaker:  o.report.Breaker,
	}
	if o.report.Cache == 0 {
		d.Cache = ""
	}
	switch {
	case o.resp != nil && !o.fromFallback:
		d.Status = strconv.Itoa(o.resp.Status)
	case o.err != nil:
		d.Status, d.Error = "failed", o.err.Error()
	}
	switch {
	case o.fromFallback:
		d.Shown = "fallback-src"
	case o.resp == nil:
		d.Shown = "inline fallback"
	}
	return d
}

func (d debugInfo) title() string {
	t := d.ID + " from " + d.Service
	if d.Error != "" {
		t += ": " + d.Error
	}
	return t
}
