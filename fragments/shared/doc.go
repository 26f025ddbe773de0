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
// A replica's load of one key, after a miss in its own memory and inside
// its own flight for the key:
//
//	e, ok, err := store.Get(ctx, key)       // fresh? serve it
//	held, err := store.Lease(ctx, key, ttl) // ttl ≤ the fragment's timeout
//	if held {
//		// fetch; on success store.Set(ctx, key, entry)
//		store.Release(ctx, key)          // wakes the waiters, success or not
//	} else {
//		e, ok, err = store.Wait(ctx, key) // fresh: serve it; otherwise
//		                                  // (holder failed or died) lease again
//	}
//
// and on any error, the replica fetches by itself: the tier is an
// optimisation, never a dependency. A stale-while-revalidate refresh takes
// the lease the same way, so that one replica of the fleet refreshes; a
// replica that does not get it serves its stale copy without waiting.
//
// The tier must never fail a page: every call is bounded by a short
// deadline (20ms by default) and guarded by a circuit breaker. With the
// server down or slow, calls give up at their deadline, and once the
// breaker opens they fail at once with [ErrUnavailable] while
// [Store.Healthy] reports false. The Store reconnects by itself, and logs
// one WARN line when it goes and one when it comes back.
//
// The server is one primary (with replicas and Sentinel for failover, if
// need be), not a Redis Cluster: an entry and the sets of its tags are
// written together, keys a cluster would keep on different nodes. [New]
// refuses a cluster node with [ErrCluster], and a Store that finds one only
// once it reaches the server logs the refusal and stays unavailable; the
// client never runs in cluster mode. A panic below the Store (the Redis
// client, the codec) fails only its call, with a [*PanicError] carrying
// the stack, for the caller to log once; the breaker counts it as a
// failure.
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
