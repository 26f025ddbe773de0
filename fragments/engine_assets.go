package fragments

import (
	"github.com/inlayhq/inlay/fragments/fetch"
)

// MaxAssetBytes is the largest asset body the engine stores: the cache's
// entry cap, a tenth of its byte budget. A larger asset is not read into
// memory: it is handed on live, and its key marked to stream past the
// cache ([Engine.Passes]).
func (e *Engine) MaxAssetBytes() int64 { return e.cache.MaxEntry() }

// Passes reports whether req's key is known not to be stored (a
// hit-for-miss marker: an answer that may not be shared, or an asset over
// the entry cap), so that a gateway streams it past the cache.
func (e *Engine) Passes(req *fetch.Request) bool {
	if e.bypass(req) {
		return true
	}
	return e.cache.Passes(req)
}

// HasFresh reports whether the cache holds a fresh response for req,
// counting nothing.
func (e *Engine) HasFresh(req *fetch.Request) bool {
	if e.bypass(req) {
		return false
	}
	return e.cache.HasFresh(req)
}

// CachesAssets reports whether the engine caches the gateway answers of
// service: not when the cache is off or the service is never cached.
func (e *Engine) CachesAssets(service string) bool {
	return !e.bypass(&fetch.Request{Service: service})
}

// OnStored sets fn to be called, on the fetch's goroutine, with each
// fragment response the cache stores after fetching it from its service
// (never an asset's): the gateway preloads the assets it declares. fn
// must return quickly. nil removes it.
func (e *Engine) OnStored(fn func(req *fetch.Request, resp *fetch.Response)) {
	e.cache.OnStored(fn)
}
