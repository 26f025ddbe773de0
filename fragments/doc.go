// Package fragments fetches the HTML fragments that team services contribute to
// a page.
//
// A [Fetcher] turns a [Request] into a complete [Response] or an [*Error] that
// says what went wrong. The [Client] is the HTTP fetcher at the bottom of the
// stack: one total deadline from connect to the last body byte, a body size
// cap, no redirects followed, only text/html accepted. Caching, request
// coalescing and circuit breaking wrap a Fetcher and keep the same interface.
//
// The package is plain net/http: it knows nothing of layouts, echo or templ.
package fragments
