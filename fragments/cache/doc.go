// Package cache is the fetch engine's cache stage: fragment and asset
// responses stored by their own caching headers (RFC 9111 for a shared
// cache, with RFC 5861's stale-while-revalidate and stale-if-error), in
// process and, when one is configured, in the shared tier beneath
// (package shared), with concurrent misses of one key coalesced into one
// fetch.
//
// [Cache.Lookup] says what the cache holds for a request before any
// fetch; a miss joins the key's flight ([Cache.Join]) and waits for it
// ([Cache.Await]). [Cache.Fetch] runs the three in a row.
package cache
