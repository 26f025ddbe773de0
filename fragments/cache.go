package fragments

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

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
	Stats *Stats
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
// per normalised value of those headers (see [secondaryKey]), as Varnish
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
	next       Fetcher
	store      *gocache.Cache
	maxBytes   int64
	maxEntry   int64
	hitForMiss time.Duration
	negative   time.Duration
	stats      *Stats
	logger     *slog.Logger

	bytes   atomic.Int64 // accounted size of the stored entries
	storeMu sync.Mutex   // serializes writes so that byte accounting stays exact

	mu         sync.Mutex         // protects flights and refreshing
	flights    map[string]*flight // fetches in flight, by key
	refreshing map[string]bool    // keys with a background refresh running
	background sync.WaitGroup     // background refreshes and the cleanup loop
	closed     chan struct{}

	tier atomic.Pointer[shared.Store] // the shared tier beneath; nil for none
}

var _ Fetcher = (*Cache)(nil)

// entry is what the cache stores for a key.
type entry struct {
	resp *Response
	freshness
	size int64
	pass bool // hit-for-miss marker: fetch without coalescing
}

// variants is what the cache stores under a primary key whose response
// varies on request headers: the names it varies on. Each variant is an
// entry of its own under the primary key plus its secondary key.
type variants struct {
	names []string
	until time.Time // when the last variant stored so far expires
	size  int64
}

// flight is one upstream fetch shared by the callers waiting on it.
type flight struct {
	key     string // the key the flight goes under
	refresh bool   // a stale-while-revalidate refresh: never answered stale
	ctx     context.Context
	cancel  context.CancelFunc
	req     *Request      // the request of the caller that started it
	waiters int           // callers still waiting; guarded by Cache.mu
	done    chan struct{} // closed once res is set
	res     flightResult
}

// flightResult is what a shared fetch hands to its callers.
type flightResult struct {
	resp      *Response
	err       error
	shareable bool     // stored, so safe to hand to every caller it fits
	vary      []string // the header names the stored response varies on
	breaker   string   // the breaker state the fetch left behind
	tier      Tier     // the tier that answered
	stale     bool     // a stale copy from the shared tier
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
	switch c.negative = cfg.NegativeTTL; {
	case c.negative == 0:
		c.negative = DefaultNegativeTTL
	case c.negative < 0:
		c.negative = 0
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
func (c *Cache) Stats() *Stats { return c.stats }

// Bytes returns the accounted size of the stored entries.
func (c *Cache) Bytes() int64 { return c.bytes.Load() }

// Len returns the number of stored entries, hit-for-miss markers included.
func (c *Cache) Len() int { return c.store.ItemCount() }

// Fetch serves req from the cache when it may, and otherwise fetches it
// once for every caller asking for the same key at the same time.
func (c *Cache) Fetch(ctx context.Context, req *Request) (*Response, error) {
	c.stats.Fetches.Add(1)
	key, e := c.lookup(req)
	now := time.Now()
	var stale *entry
	if e != nil {
		switch {
		case e.pass:
			c.stats.Passes.Add(1)
			report(req, func(r *Report) { r.Cache, r.Tier = CachePass, TierOrigin })
			return c.upstream(ctx, req)
		case now.Before(e.freshUntil):
			c.stats.CacheHits.Add(1)
			report(req, func(r *Report) { r.Cache, r.Tier = CacheHit, TierLocal })
			return e.resp, nil
		case now.Before(e.swrUntil):
			c.stats.StaleServed.Add(1)
			report(req, func(r *Report) { r.Cache, r.Tier = CacheStale, TierLocal })
			c.refresh(key, req)
			return e.resp, nil
		}
		stale = e
	}
	c.stats.CacheMisses.Add(1)
	report(req, func(r *Report) { r.Cache = CacheMiss })
	resp, err := c.coalesce(ctx, key, req, true, false)
	if err != nil && stale != nil && KindOf(err) != KindCanceled && time.Now().Before(stale.sieUntil) {
		c.stats.StaleServed.Add(1)
		report(req, func(r *Report) { r.Cache, r.Tier = CacheStale, TierLocal })
		return stale.resp, nil
	}
	return resp, err
}

// Fresh returns req's stored response when it is fresh, counted as a hit,
// so that a caller can serve it without starting a fetch. Otherwise it
// returns false and counts nothing: the caller fetches as usual.
func (c *Cache) Fresh(req *Request) (*Response, bool) {
	_, e := c.lookup(req)
	if e == nil || e.pass || !time.Now().Before(e.freshUntil) {
		return nil, false
	}
	c.stats.Fetches.Add(1)
	c.stats.CacheHits.Add(1)
	report(req, func(r *Report) { r.Cache, r.Tier = CacheHit, TierLocal })
	return e.resp, true
}

// Peek returns the stored response for req, fresh or still within a stale
// window, without fetching and without counting a hit. It serves
// placeholders and early hints, which want what is known now or nothing.
func (c *Cache) Peek(req *Request) (*Response, bool) {
	_, e := c.lookup(req)
	if e == nil || e.pass || !time.Now().Before(e.expires()) {
		return nil, false
	}
	return e.resp, true
}

// lookup finds what the cache holds for req. key is the key its flight
// goes under: the variant's key when the cache knows what the fragment
// varies on, else the primary key.
func (c *Cache) lookup(req *Request) (key string, e *entry) {
	key = primaryKey(req)
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
func variantKey(primary string, req *Request, names []string) string {
	return primary + "\n" + secondaryKey(req, names)
}

func report(req *Request, fill func(*Report)) {
	if req.Report != nil {
		fill(req.Report)
	}
}

// upstream fetches req from the next layer, with a panic there turned
// into this fetch's failure.
func (c *Cache) upstream(ctx context.Context, req *Request) (resp *Response, err error) {
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
func (c *Cache) panicked(req *Request, v any) error { return panicked(c.stats, c.logger, req, v) }

// coalesce makes one upstream fetch for all concurrent callers of a key.
// A caller whose key was only the primary one (the cache did not know
// the fragment's Vary yet) and whose variant turns out to differ from the
// fetched one tries once more under its variant's key, when again is set.
// refresh marks a stale-while-revalidate refresh, which a stale copy in
// the shared tier does not answer.
func (c *Cache) coalesce(ctx context.Context, key string, req *Request, again, refresh bool) (*Response, error) {
	f, leader := c.join(ctx, key, req, refresh)
	defer c.leave(key, f)
	select {
	case <-f.done:
	case <-ctx.Done():
		kind := KindCanceled
		if ctx.Err() == context.DeadlineExceeded {
			kind = KindTimeout
		}
		return nil, &Error{Kind: kind, ID: req.ID, Service: req.Service, Err: context.Cause(ctx)}
	}
	res := &f.res
	report(req, func(r *Report) {
		r.Breaker = res.breaker
		if res.err == nil {
			r.Tier = res.tier
		}
		if res.stale {
			r.Cache = CacheStale
		}
	})
	if res.stale {
		c.stats.StaleServed.Add(1)
	}
	if leader {
		return res.resp, res.err
	}
	c.stats.Coalesced.Add(1)
	report(req, func(r *Report) { r.Coalesced = true })
	switch {
	case res.err != nil:
		return nil, res.err
	case !res.shareable:
		// Never hand one shopper's unshareable response to another.
		report(req, func(r *Report) { r.Tier = TierOrigin })
		return c.upstream(ctx, req)
	case len(res.vary) > 0 && secondaryKey(req, res.vary) != secondaryKey(f.req, res.vary):
		// The response is another variant than this caller's.
		if again {
			return c.coalesce(ctx, variantKey(primaryKey(req), req, res.vary), req, false, false)
		}
		report(req, func(r *Report) { r.Tier = TierOrigin })
		return c.upstream(ctx, req)
	}
	return res.resp, nil
}

// join registers a caller with the flight for key, starting it with the
// caller's deadline if there is none. leader reports that it started it.
func (c *Cache) join(ctx context.Context, key string, req *Request, refresh bool) (f *flight, leader bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f = c.flights[key]
	if f == nil {
		deadline, ok := ctx.Deadline()
		if req.Timeout > 0 && (!ok || time.Until(deadline) > req.Timeout) {
			deadline, ok = time.Now().Add(req.Timeout), true
		}
		fctx := context.WithoutCancel(ctx)
		f = &flight{key: key, refresh: refresh, req: req, done: make(chan struct{})}
		if ok {
			f.ctx, f.cancel = context.WithDeadline(fctx, deadline)
		} else {
			f.ctx, f.cancel = context.WithCancel(fctx)
		}
		c.flights[key] = f
		leader = true
		go c.fly(f)
	}
	f.waiters++
	return f, leader
}

// fly makes a flight's upstream fetch and stores what may be stored.
func (c *Cache) fly(f *flight) {
	defer close(f.done)
	defer func() {
		if v := recover(); v != nil {
			f.res = flightResult{err: c.panicked(f.req, v)}
		}
	}()
	// A caller that missed just before another flight stored the key, and
	// joined after that flight ended, finds the stored response here
	// instead of fetching it again.
	if _, e := c.lookup(f.req); e != nil && !e.pass && time.Now().Before(e.freshUntil) {
		f.res = flightResult{resp: e.resp, shareable: true, tier: TierLocal}
		return
	}
	// The upstream request runs under the flight's context, not the
	// caller's, and reports into no caller's Report.
	up := *f.req
	up.Report = &Report{}
	if st := c.tier.Load(); st != nil {
		c.flyShared(f, st, &up)
		return
	}
	c.origin(f, &up, nil, nil)
}

// origin fetches a flight's request from the service and stores what may
// be stored, in both tiers when st is not nil. When the fetch fails and
// the shared tier had a copy still within its stale-if-error window
// (stale), that copy answers instead.
func (c *Cache) origin(f *flight, up *Request, st *shared.Store, stale *shared.Entry) {
	resp, err := c.upstream(f.ctx, up)
	f.res = flightResult{resp: resp, err: err, breaker: up.Report.Breaker, tier: TierOrigin}
	if err == nil {
		e, vary := c.put(up, resp)
		f.res.shareable, f.res.vary = e != nil, vary
		if e != nil && st != nil {
			c.share(f.ctx, st, up, resp, e.freshness, vary)
		}
		return
	}
	if stale != nil && KindOf(err) != KindCanceled && time.Now().Before(stale.SIEUntil) {
		c.fromShared(f, up, stale, true)
		f.res.breaker = up.Report.Breaker
	}
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
		if _, err := c.coalesce(ctx, key, &up, false, true); err != nil {
			c.logger.LogAttrs(ctx, slog.LevelWarn, "background refresh failed, stale copy kept",
				slog.String("fragment", up.ID), slog.String("service", up.Service), slog.String("error", err.Error()))
		}
	})
}

// put stores resp if its headers allow, and returns the entry it stored
// (nil for none), with the header names it varies on. A success that may
// not be shared leaves a hit-for-miss marker instead.
func (c *Cache) put(req *Request, resp *Response) (stored *entry, vary []string) {
	now := time.Now()
	f, vary, ok, pass := storability(req, resp, now, c.negative)
	pk := primaryKey(req)
	if !ok {
		if pass {
			c.set(pk, &entry{pass: true, size: int64(len(pk)) + entryOverhead}, c.hitForMiss)
		}
		return nil, nil
	}
	key := pk
	if len(vary) > 0 {
		key = variantKey(pk, req, vary)
	}
	e := &entry{resp: resp, freshness: f, size: responseSize(key, resp)}
	if e.size > c.maxEntry {
		return nil, nil
	}
	ttl := f.expires().Sub(now)
	if len(vary) > 0 {
		c.index(pk, vary, f.expires(), now)
	}
	c.set(key, e, ttl)
	resp.keep() // the cache's own budget holds it now
	c.stats.Stored.Add(1)
	return e, vary
}

// index records under a primary key the header names its responses vary
// on, kept as long as the longest-lived variant.
func (c *Cache) index(pk string, names []string, until, now time.Time) {
	if v, ok := c.store.Get(pk); ok {
		if old, ok := v.(*variants); ok && slices.Equal(old.names, names) && !until.After(old.until) {
			return
		}
	}
	v := &variants{names: names, until: until, size: int64(len(pk)) + entryOverhead}
	for _, n := range names {
		v.size += int64(len(n))
	}
	c.set(pk, v, until.Sub(now))
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

// itemSize is the accounted size of a stored item.
func itemSize(v any) int64 {
	switch v := v.(type) {
	case *entry:
		return v.size
	case *variants:
		return v.size
	}
	return 0
}

// set stores v for ttl, evicting entries first if the budget needs it.
func (c *Cache) set(key string, v any, ttl time.Duration) {
	size := itemSize(v)
	c.storeMu.Lock()
	defer c.storeMu.Unlock()
	c.store.Delete(key) // accounts for the item it replaces, expired or not
	if c.bytes.Load()+size > c.maxBytes {
		c.evict(size)
	}
	c.store.Set(key, v, ttl)
	c.bytes.Add(size)
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
