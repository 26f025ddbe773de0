package fetch

import "sync/atomic"

// CacheStatus says how the cache answered one fetch.
type CacheStatus uint8

// The cache statuses.
const (
	// CacheNone means no cache was consulted.
	CacheNone CacheStatus = iota
	// CacheHit means a fresh stored response was served.
	CacheHit
	// CacheMiss means the response was fetched from the service.
	CacheMiss
	// CacheStale means a stale stored response was served: within
	// stale-while-revalidate, or within stale-if-error after a failure.
	CacheStale
	// CachePass means the key is known to be uncacheable and was fetched
	// without coalescing (hit-for-miss).
	CachePass
)

var cacheStatusNames = [...]string{"none", "hit", "miss", "stale", "pass"}

// String returns the status's name as it appears in logs and Server-Timing.
func (s CacheStatus) String() string {
	if int(s) < len(cacheStatusNames) {
		return cacheStatusNames[s]
	}
	return "unknown"
}

// Tier names the cache tier that served one fetch.
type Tier uint8

// The tiers, nearest first.
const (
	// TierNone means nothing was served: the fetch failed, or no cache
	// was consulted.
	TierNone Tier = iota
	// TierLocal is the replica's own in-process cache.
	TierLocal
	// TierShared is the shared tier, one Valkey or Redis server for every
	// replica.
	TierShared
	// TierOrigin is the team's service.
	TierOrigin
)

var tierNames = [...]string{"", "local", "shared", "origin"}

// String returns the tier's name as it appears in the debug view and in
// Server-Timing: local, shared or origin; empty for TierNone.
func (t Tier) String() string {
	if int(t) < len(tierNames) {
		return tierNames[t]
	}
	return "unknown"
}

// Report is what the fetch layers learnt about one fetch. A caller that
// wants to know passes a Report in [Request.Report]; each layer fills in its
// part. A Report belongs to one fetch and is never shared.
type Report struct {
	// Cache says how the cache answered.
	Cache CacheStatus
	// Breaker is the state of the service's circuit breaker after the fetch:
	// "closed", "half-open" or "open". Empty when no breaker was consulted.
	Breaker string
	// Coalesced is true when the response came from a fetch made for
	// another request with the same key.
	Coalesced bool
	// Tier is the cache tier that served the response.
	Tier Tier
	// Canary is true when the fetch went to the service's canary (see
	// [Request.Shopper]).
	Canary bool
}

// Stats counts what the fetch layers did, across all fetches. Every field
// is safe to read while fetches run.
type Stats struct {
	Fetches     atomic.Int64 // fetches asked of the cache
	CacheHits   atomic.Int64 // fresh hits
	CacheMisses atomic.Int64 // fetched from upstream, or joined a fetch in flight
	StaleServed atomic.Int64 // stale responses served (revalidate or error)
	Coalesced   atomic.Int64 // fetches answered by another request's fetch
	Passes      atomic.Int64 // fetches of keys known to be uncacheable
	Refreshes   atomic.Int64 // background refreshes started
	Stored      atomic.Int64 // responses stored
	Evictions   atomic.Int64 // entries evicted to stay within the byte budget
	BreakerOpen atomic.Int64 // fetches refused because a breaker was open
	Overflows   atomic.Int64 // fetches refused by a service's limit: its wait queue was full, or the wait left too little time
	Queued      atomic.Int64 // fetches that waited for a service's concurrency limit
	Panics      atomic.Int64 // fetches failed by a panic in the fetch code
	// CredentialRefused counts responses fetched with the shopper's
	// credentials and marked shareable that were not stored because
	// their body held one of those credentials.
	CredentialRefused atomic.Int64
	UpstreamGets      atomic.Int64 // requests that reached the upstream fetcher (the origin)
	SentTogether      atomic.Int64 // of those, sent by a page with its others and read on the page's goroutine (Engine.Start)
	Retries           atomic.Int64 // fetches sent once more, to another instance, after failing before any answer
	Hedges            atomic.Int64 // second requests sent to another instance while the first was slower than the service's p95

	// The shared tier's counts; all zero without one.
	SharedHits    atomic.Int64 // fetches answered by the shared tier (fresh, or stale after an origin failure)
	SharedMisses  atomic.Int64 // shared tier lookups that found no usable entry
	SharedStored  atomic.Int64 // entries written to the shared tier
	SharedErrors  atomic.Int64 // shared tier calls that failed or were refused (the fetch went on without it)
	SharedPanics  atomic.Int64 // of those, calls that panicked below the tier (each logged with its stack)
	LeaseWaits    atomic.Int64 // fetches that waited for another replica's lease
	LeaseTimeouts atomic.Int64 // lease waits that ended with their deadline before a result
	Purges        atomic.Int64 // purge-by-tag calls
	Purged        atomic.Int64 // entries those purges dropped from this replica's tiers
}
