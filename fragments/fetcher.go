package fragments

import (
	"context"
	"net/http"
	"time"
)

// Request describes one fragment fetch.
type Request struct {
	// ID is the fragment's id in its layout. It appears in logs and errors.
	ID string
	// Service is the name of the registered service the fragment comes from.
	Service string
	// URL is the absolute URL to GET, already interpolated and escaped.
	URL string
	// Header holds the request headers to send, already filtered by the
	// caller's header policy. The fetcher does not modify it. When nil,
	// Fields are the headers.
	Header http.Header
	// Fields are the request headers as a list, in canonical form, each
	// name once: a caller that builds many requests per page sends them
	// this way, and the map is only made if the request goes out (a cache
	// hit needs none).
	Fields []Field
	// Timeout bounds the whole fetch, from connect to the last body byte.
	// Zero means no limit beyond the context's own deadline.
	Timeout time.Duration
	// Report, when not nil, is filled in by the fetch layers.
	Report *Report

	key string // Key(r), computed on first use
}

// Field is one request header.
type Field struct {
	Name   string // canonical form, like Accept-Language
	Values []string
}

// Headers returns the request's headers as a map, made from Fields on
// first use.
func (r *Request) Headers() http.Header {
	if r.Header == nil {
		r.Header = make(http.Header, len(r.Fields))
		for _, f := range r.Fields {
			r.Header[f.Name] = f.Values
		}
	}
	return r.Header
}

// cacheKey returns Key(r), computing it once.
func (r *Request) cacheKey() string {
	if r.key == "" {
		r.key = Key(r)
	}
	return r.key
}

// Response is a complete fragment response: the body has been read whole.
type Response struct {
	// Status is the HTTP status code. Fetchers return a Response only for
	// statuses below 500; a 5xx is an [*Error] of kind [KindStatus].
	Status int
	// Header holds the response headers.
	Header http.Header
	// Body is the complete body, valid UTF-8 with any leading BOM removed.
	// It may be shared between pages (for example from a cache) and must not
	// be modified.
	Body []byte
	// Assets lists the stylesheets and scripts the fragment declared in its
	// Link headers, in the order it declared them.
	Assets []Asset
}

// Fetcher fetches fragments. Implementations are safe for concurrent use.
type Fetcher interface {
	// Fetch returns the fragment's complete response, or an error that is an
	// [*Error] whenever the failure came from the fetch itself.
	Fetch(ctx context.Context, req *Request) (*Response, error)
}

// FetcherFunc adapts a function to the [Fetcher] interface.
type FetcherFunc func(ctx context.Context, req *Request) (*Response, error)

// Fetch calls f(ctx, req).
func (f FetcherFunc) Fetch(ctx context.Context, req *Request) (*Response, error) {
	return f(ctx, req)
}
