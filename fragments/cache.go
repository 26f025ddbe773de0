package fragments

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	gocache "github.com/patrickmn/go-cache"
	"golang.org/x/sync/singleflight"
)

// Defaults of a Cache.
const (
	DefaultCacheBytes      = 64 << 20
	DefaultHitForMiss      = 30 * time.Second
	DefaultCleanupInterval = time.Minute
	// DefaultRefreshTimeout bounds a background refresh whose request had
	// no timeout.
	DefaultRefreshTimeout = 5 * time.Second
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
	// Stats receives counts. If nil, the cache keeps its own.
	Stats *Stats
	// Logger receives the cache's logs. If nil, slog.Default() is used.
	Logger *slog.Logger
}

// Cache is a [Fetcher] that stores responses by their own caching headers
// (RFC 9111 for a shared cache, with RFC 5861's stale-while-revalidate and
// stale-if-error), in a go-cache bounded in bytes, and coalesces concurrent
// misses on one key into one upstream fetch.
//
// The fetch a miss starts belongs to no single caller: it runs under a
// context of its own, with the first caller's deadline, which is cancelled
// when the last caller waiting for it has gone. A failure is shared by all
// callers; a success that may not be stored is handed only to the caller
// that started the fetch, and the others fetch for themselves.
type Cache struct {
	next       Fetcher
	store      *gocache.Cache
	maxBytes   int64
	maxEntry   int64
	hitForMiss time.Duration
	stats      *Stats
	logger     *slog.Logger

	bytes   atomic.Int64 // accounted size of the stored entries
	storeMu sync.Mutex   // serializes writes so that byte accounting stays exact

	group      singleflight.Group
	mu         sync.Mutex         // protects flights and refreshing
	flights    map[string]*flight // fetches in flight, by key
	refreshing map[string]bool    // keys with a background refresh running
	background sync.WaitGroup     // background refreshes and the cleanup loop
	closed     chan struct{}
}

var _ Fetcher = (*Cache)(nil)

// entry is what the cache stores for a key.
type entry struct {
	resp *Response
	freshness
	size int64
	pass bool // hit-for-miss marker: fetch without coalescing
}

// flight is one upstream fetch shared by the callers waiting on it.
type flight struct {
	ctx     context.Context
	cancel  context.CancelFunc
	waiters int // callers still waiting; guarded by Cache.mu
}

// flightResult is what a shared fetch hands to its callers.
type flightResult struct {
	leader    *byte // identifies the caller whose fetch this was
	resp      *Response
	err       error
	shareable bool   // stored, so safe to hand to every caller
	breaker   string // the breaker state the fetch left behind
}

// NewCache returns a Cache in front of next.
func NewCache(next Fetcher, cfg CacheConfig) *Cache {
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
	if c.stats == nil {
		c.stats = &Stats{}
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
	c.store.OnEvicted(func(_ string, v any) { c.bytes.Add(-v.(*entry).size) })
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
func (c *Cache) Stats() *Stats { return c.stats }

// Bytes returns the accounted size of the stored entries.
func (c *Cache) Bytes() int64 { return c.bytes.Load() }

// Len returns the number of stored entries, hit-for-miss markers included.
func (c *Cache) Len() int { return c.store.ItemCount() }

// Fetch serves req from the cache when it may, and otherwise fetches it
// once for every caller asking for the same key at the same time.
func (c *Cache) Fetch(ctx context.Context, req *Request) (*Response, error) {
	c.stats.Fetches.Add(1)
	key := req.cacheKey()
	now := time.Now()
	var stale *entry
	if e := c.lookup(key); e != nil {
		switch {
		case e.pass:
			c.stats.Passes.Add(1)
			report(req, func(r *Report) { r.Cache = CachePass })
			c.stats.UpstreamGets.Add(1)
			return c.next.Fetch(ctx, req)
		case now.Before(e.freshUntil):
			c.stats.CacheHits.Add(1)
			report(req, func(r *Report) { r.Cache = CacheHit })
			return e.resp, nil
		case now.Before(e.swrUntil):
			c.stats.StaleServed.Add(1)
			report(req, func(r *Report) { r.Cache = CacheStale })
			c.refresh(key, req)
			return e.resp, nil
		}
		stale = e
	}
	c.stats.CacheMisses.Add(1)
	report(req, func(r *Report) { r.Cache = CacheMiss })
	resp, err := c.coalesce(ctx, key, req)
	if err != nil && stale != nil && KindOf(err) != KindCanceled && time.Now().Before(stale.sieUntil) {
		c.stats.StaleServed.Add(1)
		report(req, func(r *Report) { r.Cache = CacheStale })
		return stale.resp, nil
	}
	return resp, err
}

// Fresh returns req's stored response when it is fresh, counted as a hit,
// so that a caller can serve it without starting a fetch. Otherwise it
// returns false and counts nothing: the caller fetches as usual.
func (c *Cache) Fresh(req *Request) (*Response, bool) {
	e := c.lookup(req.cacheKey())
	if e == nil || e.pass || !time.Now().Before(e.freshUntil) {
		return nil, false
	}
	c.stats.Fetches.Add(1)
	c.stats.CacheHits.Add(1)
	report(req, func(r *Report) { r.Cache = CacheHit })
	return e.resp, true
}

// Peek returns the stored response for req, fresh or still within a stale
// window, without fetching and without counting a hit. It serves
// placeholders and early hints, which want what is known now or nothing.
func (c *Cache) Peek(req *Request) (*Response, bool) {
	e := c.lookup(req.cacheKey())
	if e == nil || e.pass || !time.Now().Before(e.expires()) {
		return nil, false
	}
	return e.resp, true
}

// lookup returns the entry stored under key, or nil.
func (c *Cache) lookup(key string) *entry {
	if v, ok := c.store.Get(key); ok {
		return v.(*entry)
	}
	return nil
}

func report(req *Request, fill func(*Report)) {
	if req.Report != nil {
		fill(req.Report)
	}
}

// coalesce makes one upstream fetch for all concurrent callers of a key.
func (c *Cache) coalesce(ctx context.Context, key string, req *Request) (*Response, error) {
	me := new(byte)
	f := c.join(ctx, key, req.Timeout)
	defer c.leave(key, f)
	ch := c.group.DoChan(key, func() (any, error) {
		// A caller that missed just before another flight stored the key,
		// and joined after that flight ended, finds the stored response
		// here instead of fetching it again.
		if e := c.fresh(key); e != nil {
			return &flightResult{leader: me, resp: e.resp, shareable: true}, nil
		}
		// The upstream request runs under the flight's context, not the
		// caller's, and reports into no caller's Report.
		up := *req
		up.Report = &Report{}
		c.stats.UpstreamGets.Add(1)
		resp, err := c.next.Fetch(f.ctx, &up)
		res := &flightResult{leader: me, resp: resp, err: err, breaker: up.Report.Breaker}
		if err == nil {
			res.shareable = c.put(key, &up, resp)
		}
		return res, nil
	})
	select {
	case v := <-ch:
		res := v.Val.(*flightResult)
		report(req, func(r *Report) { r.Breaker = res.breaker })
		if res.leader == me {
			return res.resp, res.err
		}
		c.stats.Coalesced.Add(1)
		report(req, func(r *Report) { r.Coalesced = true })
		if res.err == nil && !res.shareable {
			// Never hand one shopper's unshareable response to another.
			c.stats.UpstreamGets.Add(1)
			return c.next.Fetch(ctx, req)
		}
		return res.resp, res.err
	case <-ctx.Done():
		kind := KindCanceled
		if ctx.Err() == context.DeadlineExceeded {
			kind = KindTimeout
		}
		return nil, &Error{Kind: kind, ID: req.ID, Service: req.Service, Err: context.Cause(ctx)}
	}
}

// fresh returns the stored entry for key if it is fresh, else nil.
func (c *Cache) fresh(key string) *entry {
	if e := c.lookup(key); e != nil && !e.pass && time.Now().Before(e.freshUntil) {
		return e
	}
	return nil
}

// join registers a caller with the flight for key, creating it with the
// caller's deadline if there is none.
func (c *Cache) join(ctx context.Context, key string, timeout time.Duration) *flight {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.flights[key]
	if f == nil {
		deadline, ok := ctx.Deadline()
		if timeout > 0 && (!ok || time.Until(deadline) > timeout) {
			deadline, ok = time.Now().Add(timeout), true
		}
		fctx := context.WithoutCancel(ctx)
		f = &flight{}
		if ok {
			f.ctx, f.cancel = context.WithDeadline(fctx, deadline)
		} else {
			f.ctx, f.cancel = context.WithCancel(fctx)
		}
		c.flights[key] = f
	}
	f.waiters++
	return f
}

// leave unregisters a caller. The last one to leave cancels the upstream
// fetch if it is still running, and makes later callers start a new one.
func (c *Cache) leave(key string, f *flight) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f.waiters--
	if f.waiters > 0 {
		return
	}
	f.cancel()
	if c.flights[key] == f {
		delete(c.flights, key)
		c.group.Forget(key)
	}
}

// refresh starts one background fetch of key, unless one is running.
func (c *Cache) refresh(key string, req *Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.closed:
		return
	default:
	}
	if c.refreshing[key] {
		return
	}
	c.refreshing[key] = true
	c.stats.Refreshes.Add(1)
	up := *req
	up.Report = nil
	timeout := up.Timeout
	if timeout <= 0 {
		timeout = DefaultRefreshTimeout
	}
	c.background.Go(func() {
		defer func() {
			c.mu.Lock()
			delete(c.refreshing, key)
			c.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if _, err := c.coalesce(ctx, key, &up); err != nil {
			c.logger.LogAttrs(ctx, slog.LevelWarn, "background refresh failed, stale copy kept",
				slog.String("fragment", up.ID), slog.String("service", up.Service), slog.String("error", err.Error()))
		}
	})
}

// put stores resp if its headers allow, and reports whether it did. A
// success that may not be shared leaves a hit-for-miss marker instead.
func (c *Cache) put(key string, req *Request, resp *Response) bool {
	now := time.Now()
	f, ok, pass := storability(req, resp, now)
	if !ok {
		if pass {
			c.set(key, &entry{pass: true, size: int64(len(key)) + entryOverhead}, c.hitForMiss)
		}
		return false
	}
	e := &entry{resp: resp, freshness: f, size: responseSize(key, resp)}
	if e.size > c.maxEntry {
		return false
	}
	c.set(key, e, f.expires().Sub(now))
	c.stats.Stored.Add(1)
	return true
}

// entryOverhead approximates the bookkeeping bytes of one entry.
const entryOverhead = 256

func responseSize(key string, resp *Response) int64 {
	n := int64(len(key)+len(resp.Body)) + entryOverhead
	for k, vs := range resp.Header {
		n += int64(len(k))
		for _, v := range vs {
			n += int64(len(v))
		}
	}
	return n
}

// set stores e for ttl, evicting entries first if the budget needs it.
func (c *Cache) set(key string, e *entry, ttl time.Duration) {
	c.storeMu.Lock()
	defer c.storeMu.Unlock()
	c.store.Delete(key) // accounts for the entry it replaces, expired or not
	if c.bytes.Load()+e.size > c.maxBytes {
		c.evict(e.size)
	}
	c.store.Set(key, e, ttl)
	c.bytes.Add(e.size)
}

// evict drops expired entries and then, if need be, others until the new
// entry fits with a tenth of the budget to spare, so that a full cache does
// not evict on every store.
func (c *Cache) evict(need int64) {
	c.store.DeleteExpired()
	target := c.maxBytes - c.maxBytes/10 - need
	if c.bytes.Load() <= target {
		return
	}
	for k := range c.store.Items() {
		c.store.Delete(k)
		c.stats.Evictions.Add(1)
		if c.bytes.Load() <= target {
			return
		}
	}
}
