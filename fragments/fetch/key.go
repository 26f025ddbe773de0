package fetch

import (
	"strings"

	"github.com/inlayhq/inlay/fragments/contract"
)

// Per-request headers: Inlay sends them to fragments for tracing. They
// differ on every request and by contract never change a fragment's
// content.
const (
	HeaderRequestID   = "X-Request-Id"
	HeaderTraceparent = "Traceparent"
	HeaderTracestate  = "Tracestate"
)

// HeaderFragmentID names, on a fragment request, the slot the fragment
// fills.
const HeaderFragmentID = "X-Inlay-Fragment"

// HeaderIdentity carries, on a request to a team, the signed-in shopper's
// identity assertion: such a request is credentialed for the cache.
const HeaderIdentity = "X-Inlay-Identity"

// PrimaryKey returns req's primary key: req.Key, or made from its service
// and URL.
func PrimaryKey(req *Request) string {
	if req.Key != "" {
		return req.Key
	}
	return contract.PrimaryKey(req.Service, req.URL)
}

// SecondaryKey is what tells apart the variants of one primary key: the
// normalised values of the request headers that the response's Vary
// names, as Varnish's secondary keys do. Two requests with the same
// secondary key may share one stored response.
func SecondaryKey(req *Request, names []string) string {
	var b strings.Builder
	for _, name := range names {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(normalizeVaried(name, req.Values(name)))
		b.WriteByte('\n')
	}
	return b.String()
}

// normalizeVaried folds the values of a varied-on header to what can
// change a response, so that equivalent requests share one variant:
// Accept-Language to its first language tag, Accept-Encoding to whether
// gzip is accepted (Inlay decompresses every response itself), any other
// header to its values joined with white space trimmed.
func normalizeVaried(name string, values []string) string {
	switch name {
	case "Accept-Language":
		if len(values) == 0 {
			return ""
		}
		first, _, _ := strings.Cut(values[0], ",")
		first, _, _ = strings.Cut(first, ";")
		return strings.ToLower(strings.TrimSpace(first))
	case "Accept-Encoding":
		for _, v := range values {
			if strings.Contains(strings.ToLower(v), "gzip") {
				return "gzip"
			}
		}
		return ""
	}
	if len(values) == 1 {
		return strings.TrimSpace(values[0])
	}
	trimmed := make([]string, len(values))
	for i, v := range values {
		trimmed[i] = strings.TrimSpace(v)
	}
	return strings.Join(trimmed, ",")
}
