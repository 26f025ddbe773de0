package cache

import (
	"sync"
	"time"

	gocache "github.com/patrickmn/go-cache"
)

// Storage is where the in-process tier keeps its items: a key to an
// entry, each with its own expiry. The cache above it bounds it in bytes,
// decides what to store and what to evict, and serializes its writes;
// reads run concurrently with them.
type Storage interface {
	// Get returns the item under key, unless it has expired.
	Get(key string) (any, bool)
	// Set stores v under key for ttl (none when ttl is not positive),
	// replacing what was there.
	Set(key string, v any, ttl time.Duration)
	// Delete removes the item under key, expired or not.
	Delete(key string)
	// DeleteExpired removes every expired item.
	DeleteExpired()
	// Len returns the number of items, expired ones included until they
	// are removed.
	Len() int
	// Oldest calls fn with the keys of the items from the least recently
	// stored on, until fn returns false: eviction walks it, and a walk
	// copies nothing.
	Oldest(fn func(key string) bool)
	// Range calls fn with every item, in no order, until fn returns
	// false. A purge walks it.
	Range(fn func(key string, v any) bool)
	// OnRemoved sets fn to be called with every item that leaves the
	// storage: deleted, replaced or expired.
	OnRemoved(fn func(key string, v any))
}

// goCache is the [Storage] of go-cache (github.com/patrickmn/go-cache),
// with the order items were stored in kept beside it, so that eviction
// walks the oldest first without copying the map.
type goCache struct {
	c *gocache.Cache

	mu    sync.Mutex
	order []string       // keys as they were stored, oldest first; a key stored again appears again
	last  map[string]int // where in order each key was stored last
}

// NewGoCache returns an empty go-cache storage. Its expired items are
// removed by DeleteExpired, which the cache calls: go-cache's own janitor
// can only be stopped by the garbage collector.
func NewGoCache() Storage {
	return &goCache{c: gocache.New(gocache.NoExpiration, 0), last: map[string]int{}}
}

func (s *goCache) Get(key string) (any, bool) { return s.c.Get(key) }

func (s *goCache) Set(key string, v any, ttl time.Duration) {
	if ttl <= 0 {
		ttl = gocache.NoExpiration
	}
	s.c.Set(key, v, ttl)
	s.mu.Lock()
	s.last[key] = len(s.order)
	s.order = append(s.order, key)
	s.mu.Unlock()
}

func (s *goCache) Delete(key string) { s.c.Delete(key) }

func (s *goCache) DeleteExpired() { s.c.DeleteExpired() }

func (s *goCache) Len() int { return s.c.ItemCount() }

func (s *goCache) Oldest(fn func(key string) bool) {
	s.mu.Lock()
	// Keys stored again, or gone, leave stale places in order: when they
	// outnumber the items, order is made anew from what is stored.
	if len(s.order) > 2*s.c.ItemCount()+64 {
		s.compact()
	}
	keys := s.order
	s.mu.Unlock()
	for i, k := range keys {
		s.mu.Lock()
		latest := s.last[k] == i
		s.mu.Unlock()
		if !latest {
			continue // stored again since: its later place counts
		}
		if _, ok := s.c.Get(k); !ok {
			continue
		}
		if !fn(k) {
			return
		}
	}
}

// compact keeps in order only the last place of each key still stored.
// The caller holds s.mu.
func (s *goCache) compact() {
	kept := make([]string, 0, s.c.ItemCount())
	last := make(map[string]int, s.c.ItemCount())
	for i, k := range s.order {
		if s.last[k] != i {
			continue
		}
		if _, ok := s.c.Get(k); ok {
			last[k] = len(kept)
			kept = append(kept, k)
		}
	}
	s.order, s.last = kept, last
}

func (s *goCache) Range(fn func(key string, v any) bool) {
	s.Oldest(func(k string) bool {
		v, ok := s.c.Get(k)
		return !ok || fn(k, v)
	})
}

func (s *goCache) OnRemoved(fn func(key string, v any)) {
	s.c.OnEvicted(fn)
}
