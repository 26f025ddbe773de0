package fetch

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/inlayhq/inlay/fragments/contract"
)

// Request describes one fragment fetch. A Request is immutable once it is
// passed to a fetch: the fetch layers read it from several goroutines (a
// coalesced flight, a background refresh, early hints), so whatever a
// caller wants to add, trace context included, it adds before.
type Request struct {
	// ID is the fragment's id in its layout. It appears in logs and errors.
	ID string
	// Service is the name of the registered service the fragment comes from.
	Service string
	// Endpoint names the fragment's endpoint for per-endpoint circuit
	// breakers: the src as the layout wrote it, before interpolation, like
	// /search/fragments/product/{sku}. Empty means the URL's path.
	Endpoint string
	// URL is the absolute URL to GET, already interpolated and escaped.
	URL string
	// Key, when set, is contract.PrimaryKey(Service, URL), made once by a caller
	// that fetches the same URL on every page. Empty means it is made on
	// use.
	Key string
	// Fields are the request headers, in canonical form, each name once,
	// already filtered by the caller's header policy. The fetcher does not
	// modify them. A list rather than a map: a page builds many requests,
	// and a cache hit never needs a map.
	Fields []Field
	// PageFields are more request headers, as Fields, that several
	// requests share: the ones a page sends alike with every fetch to one
	// service. They go before Fields; a name is in one of the two only.
	PageFields []Field
	// NoCache sends the fetch to the service past the cache, and stores
	// nothing of its answer: a dev-mode hard reload.
	NoCache bool
	// Asset marks a gateway fetch: a file (CSS, JS, a font, an image) a
	// team serves through a gateway route, cached like a fragment. It goes
	// over the service's gateway pool with its fields as they are, and
	// any status is returned. An answer a shared cache may store, within
	// the cache's entry cap ([Engine.MaxAssetBytes]), is read whole and
	// kept as the team sent it, coded or not; a 5xx is an [*Error] that
	// carries the answer; anything else is handed on live
	// (Response.Live), and its key marked so that its next requests
	// stream past the cache ([Engine.Passes]). Timeout bounds the wait
	// for the answer's headers, IdleTimeout each pause of its body.
	Asset bool
	// IdleTimeout bounds each pause of an asset's body (Asset). Zero
	// means none.
	IdleTimeout time.Duration
	// Shopper is the stable, anonymous id of the shopper the fetch is
	// for: which version of a service with a canary they get. Empty for
	// none.
	Shopper string
	// Canary is set by the engine, never by a caller: the fetch goes to
	// its service's canary, and is cached apart from the stable version's
	// answers.
	Canary bool
	// Timeout bounds the whole fetch, from connect to the last body byte.
	// Zero means no limit beyond the context's own deadline.
	Timeout time.Duration
}

// Field is one request header.
type Field struct {
	Name   string // canonical form, like Accept-Language
	Values []string
}

// Get returns the first value of the named header (canonical form), or "".
func (r *Request) Get(name string) string {
	for _, fields := range r.FieldLists() {
		for _, f := range fields {
			if f.Name == name {
				if len(f.Values) > 0 {
					return f.Values[0]
				}
				return ""
			}
		}
	}
	return ""
}

// Values returns every value of the named header, whatever its case: a
// Vary list's names come in canonical form, and X-Inlay-Base-URL, as the
// composer spells it, is not (its canonical form is X-Inlay-Base-Url).
func (r *Request) Values(name string) []string {
	for _, fields := range r.FieldLists() {
		for _, f := range fields {
			if f.Name == name || strings.EqualFold(f.Name, name) {
				return f.Values
			}
		}
	}
	return nil
}

// Header returns the request's headers as a new map, for sending.
func (r *Request) Header() http.Header {
	h := make(http.Header, len(r.PageFields)+len(r.Fields))
	for _, fields := range r.FieldLists() {
		for _, f := range fields {
			h[f.Name] = f.Values
		}
	}
	return h
}

// HasFields reports whether the request has any header field.
func (r *Request) HasFields() bool { return len(r.PageFields)+len(r.Fields) > 0 }

// Remaining returns the request with its timeout cut to what is left of
// it since asked, for a second try of the same fetch, or an [*Error] of
// kind [KindTimeout] when nothing is. A request without a timeout is
// returned as it is.
func (r *Request) Remaining(asked time.Time) (*Request, error) {
	if r.Timeout <= 0 {
		return r, nil
	}
	left := r.Timeout - time.Since(asked)
	if left <= 0 {
		return nil, &Error{Kind: KindTimeout, ID: r.ID, Service: r.Service, Err: context.DeadlineExceeded}
	}
	cut := *r
	cut.Timeout = left
	return &cut, nil
}

// FieldLists are the request's two lists of fields, in sending order:
// the page's, then its own. A client sends every field of both.
func (r *Request) FieldLists() [2][]Field { return [2][]Field{r.PageFields, r.Fields} }

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
	Assets []contract.Asset
	// Instance is the address (ip:port) of the instance of the service
	// that answered, when the service has several; empty otherwise.
	Instance string
	// Live is, for an asset answer that is not stored (Request.Asset),
	// the team's answer with its body unread: Body is empty. Only the
	// caller that got it reads it, and closes its body; Release closes
	// it too.
	Live *http.Response

	hold hold // what the body reserved from the in-flight budget; see Release
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
