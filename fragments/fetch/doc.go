// Package fetch is the fetch engine's vocabulary: the [Request] for one
// fragment or asset, the complete [Response], the [Error] and its [Kind],
// the [Report] of how one fetch was served, the engine's [Stats], the
// cache keys of a request, and the [Budget] of body bytes in flight.
//
// It is a leaf: every stage of the engine (the cache, the guards, the
// transport) speaks it, and it imports none of them.
package fetch
