// Package shared is the fragment cache's shared tier: one Valkey or Redis
// server that every Inlay replica reads and writes beneath its own
// in-process cache.
//
// A [Store] keeps complete fragment responses ([Entry]) with their
// freshness and stale windows, so that a stale copy outlives the restart of
// every replica until its stale-if-error window ends. It coalesces cold
// fetches across replicas with a short lease per key ([Store.Lease],
// [Store.Wait], [Store.Release]): one replica fetches, the others wait for
// its result, woken over pub/sub with polling as a fallback. It drops every
// entry carrying a Surrogate-Key tag on [Store.Purge] and tells every
// replica which keys to drop from its own in-process tier
// ([Store.OnInvalidate]).
//
// The tier is optional and must never fail a page: every call is bounded by
// a short deadline (20ms by default) and guarded by a circuit breaker, so
// that with the server down or slow each call fails fast with
// [ErrUnavailable] and [Store.Healthy] reports false. The Store reconnects
// by itself.
//
// Key names hold no caller input: the caller's key (service, URL and
// variant) is hashed with SHA-256 into names such as inlay:v1:e:<hex>.
// Reads use RESP3 server-assisted client-side caching (rueidis DoCache): a
// replica that reads the same entry again is answered from memory until the
// server says the entry changed or it expires in the server.
//
// The package does not import its parent, fragments, which decides what is
// stored (only responses that may be shared) and under which key.
package shared
