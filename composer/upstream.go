package composer

import (
	"log/slog"
	"net/http"
)

// UpstreamRequests returns how many fragment requests reached each
// service so far, across config reloads.
func (s *Server) UpstreamRequests() map[string]int64 { return s.engine.UpstreamRequests() }

// SharedTier reports whether the engine has a shared cache tier, and
// whether it is connected and its breaker closed.
func (s *Server) SharedTier() (configured, healthy bool) { return s.engine.SharedStatus() }

// unknownPath logs and counts a request for a path nothing serves: a
// mistyped link, a page missing from the config, or a scanner.
func (s *Server) unknownPath(r *http.Request) {
	s.observer.UnknownPath()
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
