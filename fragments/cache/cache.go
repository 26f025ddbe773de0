package cache

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/shared"
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

// Config configures a Cache.
type Config struct {
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
	// Storage keeps the in-process tier's items. If nil, a go-cache
	// ([NewGoCache]).
	Storage Storage
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
	store      Storage
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

// New returns a Cache in front of next.
func New(next fetch.Fetcher, cfg Config) *Cache {
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
	c.store = cfg.Storage
	if c.store == nil {
		c.store = NewGoCache()
	}
	c.store.OnRemoved(func(_ string, v any) { c.bytes.Add(-itemSize(v)) })
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
	if !isClosed(c.closed) {
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
func (c *Cache) Len() int { return c.store.Len() }

// Lookup is what the cache holds for one request, found by
// [Cache.Lookup] before any fetch.
type Lookup struct {
	// Key is the key the request's flight goes under: its variant's key
	// when the cache knows what the fragment varies on, else the primary
	// key.
	Key string
	// Status says what was found: CacheHit (Resp is fresh), CacheStale
	// (Resp is within stale-while-revalidate, and a background refresh
	// is on its way), CachePass (the key is hit-for-miss: fetch from the
	// service, each fetch on its own, nothing stored), or CacheMiss.
	Status fetch.CacheStatus
	// Resp is the stored response of a hit or a stale copy.
	Resp *fetch.Response
	// PassBody is, for CachePass, the body length of the answer that
	// marked the key: what the next answer is likely to weigh.
	PassBody int

	stale *entry // on a miss, a stored copy past its windows but maybe within stale-if-error
}

// Report fills in rep what the lookup says of the fetch.
func (l *Lookup) Report(rep *fetch.Report) {
	rep.Cache = l.Status
	switch l.Status {
	case fetch.CacheHit, fetch.CacheStale:
		rep.Tier = fetch.TierLocal
	case fetch.CachePass:
		rep.Tier = fetch.TierOrigin
	}
}

// Lookup finds req in the cache and counts what it found. A stale copy
// within stale-while-revalidate starts a background refresh of it.
func (c *Cache) Lookup(req *fetch.Request) Lookup {
	c.stats.Fetches.Add(1)
	key, e := c.lookup(req)
	l := Lookup{Key: key, Status: fetch.CacheMiss}
	if e != nil {
		if e.pass { // decided without the clock
			c.stats.Passes.Add(1)
			l.Status, l.PassBody = fetch.CachePass, e.passBody
			return l
		}
		now := time.Now()
		switch {
		case now.Before(e.FreshUntil):
			c.stats.CacheHits.Add(1)
			l.Status, l.Resp = fetch.CacheHit, e.resp
			return l
		case now.Before(e.SWRUntil):
			c.stats.StaleServed.Add(1)
			l.Status, l.Resp = fetch.CacheStale, e.resp
			c.refresh(key, req)
			return l
		}
		l.stale = e
	}
	c.stats.CacheMisses.Add(1)
	return l
}

// Flight is a caller's place in the fetch of a missed key: see
// [Cache.Join].
type Flight struct {
	f      *flight
	leader bool
	asked  time.Time
}

// Join joins the fetch in flight for a missed key (l, from Lookup), or
// starts one on a goroutine of the cache's, under the caller's deadline.
// The caller must end its part with [Cache.Await], once, also when it no
// longer wants the answer: the last one to leave cancels the fetch.
func (c *Cache) Join(ctx context.Context, req *fetch.Request, l Lookup) Flight {
	f, leader := c.join(ctx, l.Key, req, false)
	return Flight{f: f, leader: leader, asked: time.Now()}
}

// Ready reports whether the flight's answer is here: Await would not
// wait for the service.
func (fl Flight) Ready() bool { return isClosed(fl.f.done) }

// Await waits for a flight that req joined, and returns its answer for
// req: the response the flight fetched when it may be shared with req,
// or one fetched again for req alone when it may not. When the fetch
// failed and the cache still had a copy within stale-if-error (l's),
// that copy answers. rep, when not nil, is filled in.
func (c *Cache) Await(ctx context.Context, req *fetch.Request, fl Flight, l Lookup, rep *fetch.Report) (*fetch.Response, error) {
	resp, err := c.await(ctx, req, fl, true, rep)
	if err != nil && l.stale != nil && fetch.KindOf(err) != fetch.KindCanceled && time.Now().Before(l.stale.SIEUntil) {
		c.stats.StaleServed.Add(1)
		if rep != nil {
			rep.Cache, rep.Tier = fetch.CacheStale, fetch.TierLocal
		}
		return l.stale.resp, nil
	}
	return resp, err
}

// Fetch serves req from the cache when it may, and otherwise fetches it
// once for every caller asking for the same key at the same time: Lookup,
// and on a miss Join and Await, in a row. rep, when not nil, is filled
// in.
func (c *Cache) Fetch(ctx context.Context, req *fetch.Request, rep *fetch.Report) (*fetch.Response, error) {
	l := c.Lookup(req)
	if rep != nil {
		l.Report(rep)
	}
	switch l.Status {
	case fetch.CacheHit, fetch.CacheStale:
		return l.Resp, nil
	case fetch.CachePass:
		return c.upstream(ctx, req)
	}
	return c.Await(ctx, req, c.Join(ctx, req, l), l, rep)
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
func (c *Cache) panicked(req *fetch.Request, v any) error {
	return fetch.Panicked(c.stats, c.logger, req, v)
}

// MaxEntry is the largest entry the cache stores: a tenth of its byte
// budget.
func (c *Cache) MaxEntry() int64 { return c.maxEntry }

// Passes reports whether req's key is known not to be stored: a
// hit-for-miss marker. It counts nothing.
func (c *Cache) Passes(req *fetch.Request) bool {
	_, e := c.lookup(req)
	return e != nil && e.pass
}

// HasFresh reports whether the cache holds a fresh response for req. It
// counts nothing.
func (c *Cache) HasFresh(req *fetch.Request) bool {
	_, e := c.lookup(req)
	return e != nil && !e.pass && time.Now().Before(e.FreshUntil)
}

// OnStored sets fn to be called, on the fetch's goroutine, with each
// fragment response the cache stores after fetching it from its service
// (never an asset's). fn must return quickly. nil removes it.
func (c *Cache) OnStored(fn func(req *fetch.Request, resp *fetch.Response)) {
	if fn == nil {
		c.onStored.Store(nil)
		return
	}
	c.onStored.Store(&fn)
}
