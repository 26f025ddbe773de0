package shared

import "sync/atomic"

// Stats counts a Store's outcomes since it was made.
type Stats struct {
	// Hits and Misses count Get calls that found an entry or none.
	Hits, Misses int64
	// ClientCacheHits counts the Hits answered from the connection's
	// client-side cache, without a round trip.
	ClientCacheHits int64
	// Sets counts entries written.
	Sets int64
	// Leases counts leases taken; LeaseWaits counts Wait calls, and
	// LeaseTimeouts those that ended with their context before a result.
	Leases, LeaseWaits, LeaseTimeouts int64
	// Errors counts calls that failed at the server or in flight
	// (timeouts included); Unavailable counts calls refused at once
	// because the server is unreachable or the breaker open.
	Errors, Unavailable int64
	// Panics counts calls that panicked below the Store (counted in
	// Errors too), each failed with a *PanicError.
	Panics int64
	// Purges counts Purge calls, Purged the entries they dropped.
	Purges, Purged int64
	// Invalidations counts keys announced by purges (from any replica)
	// and handed to the OnInvalidate functions.
	Invalidations int64
}

// counters are the live counts behind Stats.
type counters struct {
	hits, clientCacheHits, misses, sets, leases, leaseWaits, leaseTimeouts atomic.Int64
	errors, unavailable, panics, purges, purged, invalidations             atomic.Int64
}

// Stats returns a snapshot of the Store's counts.
func (s *Store) Stats() Stats {
	c := &s.stats
	return Stats{
		Hits: c.hits.Load(), ClientCacheHits: c.clientCacheHits.Load(), Misses: c.misses.Load(), Sets: c.sets.Load(),
		Leases: c.leases.Load(), LeaseWaits: c.leaseWaits.Load(), LeaseTimeouts: c.leaseTimeouts.Load(),
		Errors: c.errors.Load(), Unavailable: c.unavailable.Load(), Panics: c.panics.Load(),
		Purges: c.purges.Load(), Purged: c.purged.Load(), Invalidations: c.invalidations.Load(),
	}
}
