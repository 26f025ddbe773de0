package fragments

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/shared"
	gocache "github.com/patrickmn/go-cache"
)

// Defaults of a Cache.
const (
	DefaultCacheBytes      = 64 << 20
	DefaultHitForMiss      = 30 * time.Second
	DefaultCleanupInterval = time.Minute
	// DefaultRefreshTimeout bounds a background refresh whose request had
	// no timeout.
	DefaultRefreshTimeout = 5 * time.Second
	// DefaultNegativeTTL is how long a 404 or 410 without caching headers
	// of its own is kept.
	DefaultNegativeTTL = 5 * time.Second
)

// CacheConfig configures a Cache.
type CacheConfig struct {
	// MaxBytes is the budget for stored bodies, keys and headers. Zero
	// means DefaultCacheBytes. A response larger than a tenth of it is
	// never stored.
	MaxBytes int64
	// HitForMiss is how long a key whose response may not be shared is
	// fetched without coalescing. Zero means DefaultHitForMiss.
	HitForMiss time.Duration
	// CleanupInterval is how often expired entries are dropped. Zero means
	// DefaultCleanupInterval; negative means never, as tests under
	// testing/synctest want.
	CleanupInterval time.Duration
	// NegativeTTL is how long a 404 or 410 that gives no freshness of its
	// own is kept, so that a burst of requests for a missing fragment
	// costs one fetch. Zero means DefaultNegativeTTL; negative means such
	// responses are not kept.
	NegativeTTL time.Duration
	// Stats receives counts. If nil, the cache keeps its own.
	Stats *fetch.Stats
	// Logger receives the cache's logs. If nil, slog.Default() is used.
	Logger *slog.Logger
}

// Cache is a [Fetcher] that stores responses by their own caching headers
// (RFC 9111 for a shared cache, with RFC 5861's stale-while-revalidate and
// stale-if-error), in a go-cache bounded in bytes, and coalesces concurrent
// misses on one key into one upstream fetch.
//
// Keys follow RFC 9111 §4.1: the primary key is the service and the URL;
// a response whose Vary names request headers is stored as one variant
// per normalised value of those headers (see [SecondaryKey]), as Varnish
// does. Headers the response does not vary on never split the cache.
//
// The fetch a miss starts belongs to no single caller: it runs on a
// goroutine of its own, under a context with the first caller's deadline,
// which is cancelled when the last caller waiting for it has gone. A
// failure is shared by all callers; a success that may not be stored is
// handed only to the caller that started the fetch, and the others fetch
// for themselves. A panic below the cache fails that fetch, never the
// process.
type Cache struct {
	next       fetch.Fetcher
	store      *gocache.Cache
	maxBytes   int64
	maxEntry   int64
	hitForMiss time.Duration
	negative   time.Duration
	stats      *fetch.Stats
	logger     *slog.Logger

	bytes   atomic.Int64 // accounted size of the stored entries
	storeMu sync.Mutex   // serializes writes so that byte accounting stays exact

	mu         sync.Mutex         // protects flights and refreshing
	flights    map[string]*flight // fetches in flight, by key
	refreshing map[string]bool    // keys with a background refresh running
	background sync.WaitGroup     // background refreshes and the cleanup loop
	closed     chan struct{}

	tier atomic.Pointer[shared.Store] // the shared tier beneath; nil for none

	onStored atomic.Pointer[func(*fetch.Request, *fetch.Response)] // see Engine.OnStored
}

var _ fetch.Fetcher = (*Cache)(nil)

// entry is what the cache stores for a key.
type entry struct {
	resp *fetch.Response
	freshness
	size int64
	pass bool // hit-for-miss marker: fetch without coalescing
	// passBody is, on a hit-for-miss marker, the body length of the
	// answer that made it: what the next answer is likely to weigh.
	passBody int
}

// variants is what the cache stores under a primary key whose response
// varies on request headers: the names it varies on. Each variant is an
// entry of its own under the primary key plus its secondary key.
type variants struct {
	names []string
	until time.Time // when the last variant stored so far expires
	size  int64
}

// NewCache returns a Cache in front of next.
func NewCache(next fetch.Fetcher, cfg CacheConfig) *Cache {
	c := &Cache{
		next:       next,
		maxBytes:   cfg.MaxBytes,
		hitForMiss: cfg.HitForMiss,
		stats:      cfg.Stats,
		logger:     cfg.Logger,
		flights:    map[string]*flight{},
		refreshing: map[string]bool{},
		closed:     make(chan struct{}),
	}
	if c.maxBytes <= 0 {
		c.maxBytes = DefaultCacheBytes
	}
	c.maxEntry = c.maxBytes / 10
	if c.hitForMiss <= 0 {
		c.hitForMiss = DefaultHitForMiss
	}
	switch c.negative = cfg.NegativeTTL; {
	case c.negative == 0:
		c.negative = DefaultNegativeTTL
	case c.negative < 0:
		c.negative = 0
	}
	if c.stats == nil {
		c.stats = &fetch.Stats{}
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	cleanup := cfg.CleanupInterval
	switch {
	case cleanup == 0:
		cleanup = DefaultCleanupInterval
	case cleanup < 0:
		cleanup = 0
	}
	// go-cache's own janitor can only be stopped by the garbage collector,
	// so the cache runs its own, which Close stops.
	c.store = gocache.New(gocache.NoExpiration, 0)
	c.store.OnEvicted(func(_ string, v any) { c.bytes.Add(-itemSize(v)) })
	if cleanup > 0 {
		c.background.Go(func() { c.cleanup(cleanup) })
	}
	return c
}

// cleanup drops expired entries every interval until the cache is closed.
func (c *Cache) cleanup(interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			c.storeMu.Lock()
			c.store.DeleteExpired()
			c.storeMu.Unlock()
		case <-c.closed:
			return
		}
	}
}

// Close stops the periodic cleanup, waits for background refreshes to end
// and stops new ones.
func (c *Cache) Close() {
	c.mu.Lock()
	select {
	case <-c.closed:
	default:
		close(c.closed)
	}
	c.mu.Unlock()
	c.background.Wait()
}

// Stats returns the cache's counters.
func (c *Cache) Stats() *fetch.Stats { return c.stats }

// Bytes returns the accounted size of the stored entries.
func (c *Cache) Bytes() int64 { return c.bytes.Load() }

// Len returns the number of stored entries, hit-for-miss markers included.
func (c *Cache) Len() int { return c.store.ItemCount() }

// Fetch serves req from the cache when it may, and otherwise fetches it
// once for every caller asking for the same key at the same time.
func (c *Cache) Fetch(ctx context.Context, req *fetch.Request) (*fetch.Response, error) {
	c.stats.Fetches.Add(1)
	key, e := c.lookup(req)
	now := time.Now()
	var stale *entry
	if e != nil {
		switch {
		case e.pass:
			c.stats.Passes.Add(1)
			report(req, func(r *fetch.Report) { r.Cache, r.Tier = fetch.CachePass, fetch.TierOrigin })
			return c.upstream(ctx, req)
		case now.Before(e.FreshUntil):
			c.stats.CacheHits.Add(1)
			report(req, func(r *fetch.Report) { r.Cache, r.Tier = fetch.CacheHit, fetch.TierLocal })
			return e.resp, nil
		case now.Before(e.SWRUntil):
			c.stats.StaleServed.Add(1)
			report(req, func(r *fetch.Report) { r.Cache, r.Tier = fetch.CacheStale, fetch.TierLocal })
			c.refresh(key, req)
			return e.resp, nil
		}
		stale = e
	}
	c.stats.CacheMisses.Add(1)
	report(req, func(r *fetch.Report) { r.Cache = fetch.CacheMiss })
	resp, err := c.coalesce(ctx, key, req, true, false)
	if err != nil && stale != nil && fetch.KindOf(err) != fetch.KindCanceled && time.Now().Before(stale.SIEUntil) {
		c.stats.StaleServed.Add(1)
		report(req, func(r *fetch.Report) { r.Cache, r.Tier = fetch.CacheStale, fetch.TierLocal })
		return stale.resp, nil
	}
	return resp, err
}

// passesSmall reports whether req's key is marked hit-for-miss (its
// fetches go to the service, each on its own, with nothing stored) by an
// answer whose body was at most maxBody bytes.
func (c *Cache) passesSmall(req *fetch.Request, maxBody int) bool {
	_, e := c.lookup(req)
	return e != nil && e.pass && e.passBody <= maxBody
}

// countPass counts a fetch of a hit-for-miss key that went to the
// service without Fetch: see [Engine.Start].
func (c *Cache) countPass(req *fetch.Request) {
	c.stats.Fetches.Add(1)
	c.stats.Passes.Add(1)
	c.stats.UpstreamGets.Add(1)
	report(req, func(r *fetch.Report) { r.Cache, r.Tier = fetch.CachePass, fetch.TierOrigin })
}

// Fresh returns req's stored response when it is fresh, counted as a hit,
// so that a caller can serve it without starting a fetch. Otherwise it
// returns false and counts nothing: the caller fetches as usual.
func (c *Cache) Fresh(req *fetch.Request) (*fetch.Response, bool) {
	_, e := c.lookup(req)
	if e == nil || e.pass || !time.Now().Before(e.FreshUntil) {
		return nil, false
	}
	c.stats.Fetches.Add(1)
	c.stats.CacheHits.Add(1)
	report(req, func(r *fetch.Report) { r.Cache, r.Tier = fetch.CacheHit, fetch.TierLocal })
	return e.resp, true
}

// Peek returns the stored response for req, fresh or still within a stale
// window, without fetching and without counting a hit. It serves
// placeholders and early hints, which want what is known now or nothing.
func (c *Cache) Peek(req *fetch.Request) (*fetch.Response, bool) {
	_, e := c.lookup(req)
	if e == nil || e.pass || !time.Now().Before(e.Expires()) {
		return nil, false
	}
	return e.resp, true
}

// lookup finds what the cache holds for req. key is the key its flight
// goes under: the variant's key when the cache knows what the fragment
// varies on, else the primary key.
func (c *Cache) lookup(req *fetch.Request) (key string, e *entry) {
	key = fetch.PrimaryKey(req)
	v, ok := c.store.Get(key)
	if !ok {
		return key, nil
	}
	switch v := v.(type) {
	case *entry:
		return key, v
	case *variants:
		key = variantKey(key, req, v.names)
		if v, ok := c.store.Get(key); ok {
			if e, ok := v.(*entry); ok {
				return key, e
			}
		}
	}
	return key, nil
}

// variantKey is the key of one variant of a primary key.
func variantKey(primary string, req *fetch.Request, names []string) string {
	return primary + "\n" + fetch.SecondaryKey(req, names)
}

func report(req *fetch.Request, fill func(*fetch.Report)) {
	if req.Report != nil {
		fill(req.Report)
	}
}

// upstream fetches req from the next layer, with a panic there turned
// into this fetch's failure.
func (c *Cache) upstream(ctx context.Context, req *fetch.Request) (resp *fetch.Response, err error) {
	defer func() {
		if v := recover(); v != nil {
			resp, err = nil, c.panicked(req, v)
		}
	}()
	c.stats.UpstreamGets.Add(1)
	return c.next.Fetch(ctx, req)
}

// panicked logs and counts a panic below the cache and returns it as the
// fetch's error.
func (c *Cache) panicked(req *fetch.Request, v any) error { return panicked(c.stats, c.logger, req, v) }
