package composer

import "sync/atomic"

// Stats counts what the composer did. Every field is safe to read while
// pages are served.
type Stats struct {
	Pages           atomic.Int64 // pages composed
	Degraded        atomic.Int64 // boxes that showed a fallback instead of their fragment
	PrimaryFailures atomic.Int64 // pages answered with an error because the primary failed
	DroppedCookies  atomic.Int64 // Set-Cookie headers of non-primary fragments dropped
	UnknownPaths    atomic.Int64 // requests for paths no page, gateway or Inlay route serves (404)
}
