package fragments

import (
	"cmp"
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
// to another. A request given as Fields and the same request given as a
// Header map have the same key.
func Key(req *Request) string {
	var buf [16]Field
	fields := buf[:0]
	if req.Header != nil {
		for name, values := range req.Header {
			fields = append(fields, Field{Name: name, Values: values})
		}
	} else {
		fields = append(fields, req.Fields...)
	}
	n := len(req.URL)
	keyed := fields[:0]
	for _, f := range fields {
		if !unkeyed(f.Name) {
			keyed = append(keyed, f)
			n += len(f.Name) + 2
			for _, v := range f.Values {
				n += len(v) + 1
			}
		}
	}
	slices.SortFunc(keyed, func(a, b Field) int { return cmp.Compare(a.Name, b.Name) })
	var b strings.Builder
	b.Grow(n)
	b.WriteString(req.URL)
	for _, f := range keyed {
		b.WriteByte('\n')
		b.WriteString(f.Name)
		b.WriteByte(':')
		for i, v := range f.Values {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(v)
		}
	}
	return b.String()
}
