package fragments

import (
	"slices"
	"strings"
)

// Per-request headers: Inlay sends them to fragments for tracing, but they
// differ on every request and by contract do not change a fragment's
// content, so they are not part of its cache key.
const (
	HeaderRequestID   = "X-Request-Id"
	HeaderTraceparent = "Traceparent"
	HeaderTracestate  = "Tracestate"
)

func unkeyed(name string) bool {
	return name == HeaderRequestID || name == HeaderTraceparent || name == HeaderTracestate
}

// Key returns the cache and coalescing key of a request: its URL and the
// value of every header sent with it but the per-request ones. Keying on
// every forwarded header, rather than trusting each fragment's Vary, means
// a fragment that reflects a header can never serve one shopper's variant
// to another.
func Key(req *Request) string {
	var names [16]string
	keyed := names[:0]
	n := len(req.URL)
	for name, values := range req.Header {
		if unkeyed(name) {
			continue
		}
		keyed = append(keyed, name)
		n += len(name) + 2
		for _, v := range values {
			n += len(v) + 1
		}
	}
	slices.Sort(keyed)
	var b strings.Builder
	b.Grow(n)
	b.WriteString(req.URL)
	for _, name := range keyed {
		b.WriteByte('\n')
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range req.Header[name] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(v)
		}
	}
	return b.String()
}
