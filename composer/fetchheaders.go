package composer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"

	"github.com/inlayhq/inlay/composer/auth"
	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/composer/layout"
	"github.com/inlayhq/inlay/fragments/fetch"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/net/http/httpguts"
)

// Headers Inlay sets on every fragment request.
const (
	// HeaderRequestID carries the page request's id to every fragment.
	HeaderRequestID = fetch.HeaderRequestID
	// HeaderFragmentID names the slot the fragment fills.
	HeaderFragmentID = fetch.HeaderFragmentID
	// HeaderPagePath is the path of the page the fragment is for.
	HeaderPagePath = "X-Inlay-Page-Path"
	// HeaderPageRoute is the page's route pattern, like /product/{sku}.
	HeaderPageRoute = "X-Inlay-Page-Route"
	// HeaderRouteParams holds the page's route parameters as a query
	// string, like sku=shoe-1.
	HeaderRouteParams = "X-Inlay-Route-Params"
	// HeaderBaseURL is the shop's public base URL, like https://shop.example.
	HeaderBaseURL = "X-Inlay-Base-URL"
)

// maxForwardedValue caps a forwarded header's value; longer ones are dropped.
const maxForwardedValue = 1024

// pageContext is what every fragment request of one page shares, as
// header values. Fragment requests share these slices: nothing that sends a
// request modifies its header values.
type pageContext struct {
	requestID, path, route, params, baseURL []string
	traceparent, tracestate                 []string       // nil unless valid
	identity                                *auth.Identity // the signed-in shopper; nil when anonymous
	shopper                                 string         // the shopper's anonymous id, for canaries; empty while no service has one
	// hostKeyed is set when baseURL is made from the request's Host (no
	// public_url): then it is part of the cache key of every fragment
	// sent it.
	hostKeyed bool
}

// pageContextValues is the number of header values a page context holds.
const pageContextValues = 7

// newPageContext makes the page context of r. Its header values are kept
// in vals, an array of the page's own, so that a recycled page makes
// none.
func newPageContext(vals *[pageContextValues]string, r *http.Request, requestID, route string, names, values []string, publicURL string) pageContext {
	hostKeyed := publicURL == ""
	if hostKeyed {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		publicURL = scheme + "://" + r.Host
	}
	// One backing array for all: the escaped path, since a decoded one may
	// hold bytes no header may carry.
	*vals = [pageContextValues]string{requestID, r.URL.EscapedPath(), route, publicURL}
	pc := pageContext{requestID: vals[0:1:1], path: vals[1:2:2], route: vals[2:3:3], baseURL: vals[3:4:4], hostKeyed: hostKeyed}
	if tp, ts := shopperTrace(r.Header); tp != "" {
		vals[4] = tp
		pc.traceparent = vals[4:5:5]
		if ts != "" && len(ts) <= 512 {
			vals[5] = ts
			pc.tracestate = vals[5:6:6]
		}
	}
	if len(names) > 0 {
		var b strings.Builder
		for i, name := range names {
			if i > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(name))
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(values[i]))
		}
		vals[6] = b.String()
		pc.params = vals[6:7:7]
	}
	return pc
}

// withSpan returns a copy of the page context whose trace context names
// the span in ctx as the parent, for the requests made under that span.
func (pc *pageContext) withSpan(ctx context.Context) pageContext {
	c := *pc
	c.traceparent, c.tracestate = nil, nil
	var carrier propagation.MapCarrier = map[string]string{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	if tp := carrier["traceparent"]; tp != "" {
		c.traceparent = []string{tp}
		if ts := carrier["tracestate"]; ts != "" {
			c.tracestate = []string{ts}
		}
	}
	return c
}

// fragmentFields appends the request headers of one fragment fetch to dst.
// Only what is listed here is sent: the service's allowlisted shopper
// headers, valid trace context, Inlay's own headers, and credentials only
// where the service is configured for them. Hop-by-hop, conditional and
// range headers never pass, and neither does anything the shopper names in
// Connection.
func fragmentFields(dst []fetch.Field, r *http.Request, svc *config.Service, pc *pageContext, slot *layout.Slot) []fetch.Field {
	return append(pageFields(dst, r, svc, pc), slotField(slot))
}

// slotField is the one field of a fragment fetch that is the slot's own:
// its fragment id.
func slotField(slot *layout.Slot) fetch.Field {
	return fetch.Field{Name: HeaderFragmentID, Values: slot.IDHeader()}
}

// pageFields appends to dst the fields of fragmentFields that every fetch
// of the page to svc sends alike: all but the slot's own. With tracing
// on, pc must be the slot's, whose trace context names the slot's span.
func pageFields(dst []fetch.Field, r *http.Request, svc *config.Service, pc *pageContext) []fetch.Field {
	dst = append(dst, fetch.Field{Name: "Accept", Values: acceptHTML})
	// A header the shopper names in Connection is hop-by-hop for that
	// connection only and never passed on (RFC 9110 §7.6.1).
	connection := r.Header["Connection"]
	for _, name := range svc.ForwardedHeaders() {
		if v := r.Header[name]; len(v) > 0 && v[0] != "" && len(v[0]) <= maxForwardedValue && !httpguts.HeaderValuesContainsToken(connection, name) {
			dst = append(dst, fetch.Field{Name: name, Values: v[:1:1]})
		}
	}
	if pc.traceparent != nil {
		dst = append(dst, fetch.Field{Name: "Traceparent", Values: pc.traceparent})
		if pc.tracestate != nil {
			dst = append(dst, fetch.Field{Name: "Tracestate", Values: pc.tracestate})
		}
	}
	dst = append(dst, fetch.Field{Name: HeaderRequestID, Values: pc.requestID})
	if svc.SendsContext() {
		dst = append(dst,
			fetch.Field{Name: HeaderPagePath, Values: pc.path},
			fetch.Field{Name: HeaderPageRoute, Values: pc.route},
			fetch.Field{Name: HeaderBaseURL, Values: pc.baseURL})
		if pc.params != nil {
			dst = append(dst, fetch.Field{Name: HeaderRouteParams, Values: pc.params})
		}
	}
	if svc.Cookies.Any() {
		if v := svc.Cookies.Filter(r.Header["Cookie"]); len(v) > 0 {
			dst = append(dst, fetch.Field{Name: "Cookie", Values: v})
		}
	}
	if svc.Authorization {
		if v := r.Header["Authorization"]; len(v) > 0 && v[0] != "" {
			dst = append(dst, fetch.Field{Name: "Authorization", Values: v[:1:1]})
		}
	}
	if pc.identity != nil && svc.Identity != "" {
		dst = identityField(dst, pc.identity, svc)
	}
	return dst
}

var acceptHTML = []string{"text/html"}

// shopperTrace returns the shopper's W3C trace context as OpenTelemetry's
// propagator reads it: a valid traceparent (re-encoded), and the
// tracestate that goes with it, or "" for none.
func shopperTrace(h http.Header) (traceparent, tracestate string) {
	if h.Get("Traceparent") == "" {
		return "", "" // the common case, without a context
	}
	ctx := propagation.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(h))
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return "", ""
	}
	out := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, out)
	return out["traceparent"], out["tracestate"]
}

// requestID returns the shopper's X-Request-ID when it is a sane token, or
// a new random id.
func requestID(r *http.Request) string {
	if id := r.Header.Get(HeaderRequestID); validRequestID(id) {
		return id
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
