package fragments

import (
	"slices"
	"time"
)

// put stores resp if its headers allow, and returns the entry it stored
// (nil for none), with the header names it varies on. A success that may
// not be shared leaves a hit-for-miss marker instead.
func (c *Cache) put(req *Request, resp *Response) (stored *entry, vary []string) {
	now := time.Now()
	f, vary, ok, pass := storability(req, resp, now, c.negative)
	pk := primaryKey(req)
	if !ok {
		if pass {
			c.set(pk, &entry{pass: true, passBody: len(resp.Body), size: int64(len(pk)) + entryOverhead}, c.hitForMiss)
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
	ttl := f.Expires().Sub(now)
	if len(vary) > 0 {
		c.index(pk, vary, f.Expires(), now)
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
