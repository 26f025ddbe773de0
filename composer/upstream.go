package composer

import (
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

// upstreamCounter counts the fragment requests that reach each team
// service, for inlay_upstream_requests_total{service}. It sits at the
// bottom of the fetch stack, so a cache hit or a coalesced fetch is never
// counted, and a background refresh is.
type upstreamCounter struct {
	next     http.RoundTripper
	prefixes []servicePrefix // longest first
	other    atomic.Int64    // requests to no configured service's url
}

// servicePrefix is a service's base URL and its counter.
type servicePrefix struct {
	prefix string // scheme://host/basepath
	name   string
	n      *atomic.Int64
}

// countUpstream wraps the fragments' transport in a counter per service.
func (s *Server) countUpstream(rt http.RoundTripper) http.RoundTripper {
	c := &upstreamCounter{next: rt}
	for name, svc := range s.cfg.Services {
		if svc.BaseURL != nil {
			c.prefixes = append(c.prefixes, servicePrefix{prefix: svc.BaseURL.Scheme + "://" + svc.BaseURL.Host + svc.BaseURL.Path, name: name, n: new(atomic.Int64)})
		}
	}
	sort.Slice(c.prefixes, func(i, j int) bool { return len(c.prefixes[i].prefix) > len(c.prefixes[j].prefix) })
	s.upstream = c
	return c
}

// RoundTrip counts the request against its service and passes it on.
func (c *upstreamCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	u := r.URL.Scheme + "://" + r.URL.Host + r.URL.Path
	for i := range c.prefixes {
		if p := &c.prefixes[i]; strings.HasPrefix(u, p.prefix) {
			p.n.Add(1)
			return c.next.RoundTrip(r)
		}
	}
	c.other.Add(1)
	return c.next.RoundTrip(r)
}

// UpstreamRequests returns how many fragment requests reached each service
// so far. It is empty when Options.Fetcher was given.
func (s *Server) UpstreamRequests() map[string]int64 {
	out := map[string]int64{}
	if s.upstream == nil {
		return out
	}
	for _, p := range s.upstream.prefixes {
		out[p.name] = p.n.Load()
	}
	return out
}

// durationMS turns a duration into milliseconds for logs, to the
// microsecond: log fields carry the unit in their name (duration_ms).
func durationMS(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// unknownPath logs and counts a request for a path nothing serves: a
// mistyped link, a page missing from the config, or a scanner.
func (s *Server) unknownPath(r *http.Request) {
	s.stats.UnknownPaths.Add(1)
	path := r.URL.Path
	if len(path) > 256 {
		path = path[:256] + "…"
	}
	s.logger.LogAttrs(r.Context(), slog.LevelInfo, "unknown path",
		slog.String("request_id", r.Header.Get(HeaderRequestID)),
		slog.String("method", r.Method),
		slog.String("path", path),
		slog.Int("status", http.StatusNotFound))
}
