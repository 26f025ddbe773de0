// Package fragments fetches the HTML fragments that team services contribute to
// a page.
//
// A [Fetcher] turns a [Request] into a complete [Response] or an [*Error] that
// says what went wrong. The [Client] is the HTTP fetcher at the bottom of the
// stack: one total deadline from connect to the last body byte, a body size
// cap, no redirects followed, only text/html accepted. Caching, request
// coalescing and circuit breaking wrap a Fetcher and keep the same interface.
//
// The [Engine] is the whole stack, made once per process. Besides Fetch it
// offers [Engine.Start]: a fetch sent now and read later, with
// [Pending.Wait], on the caller's goroutine, which is how a page sends all
// its uncacheable boxes at once and reads them in order.
//
// The package is plain net/http: it knows nothing of layouts, echo or templ.
package fragments
