package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/inlayhq/inlay/fragments/contract"
	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/shared"
)

// HeaderSurrogateKey is the response header in which a team tags its
// fragment for purges, space-separated, as Fastly and Varnish xkey do.
const HeaderSurrogateKey = "Surrogate-Key"

// surrogateKeys returns the tags a response's Surrogate-Key headers list,
// sorted and without duplicates.
func surrogateKeys(h http.Header) []string {
	var tags []string
	for _, line := range h.Values(HeaderSurrogateKey) {
		tags = append(tags, strings.Fields(line)...)
	}
	slices.Sort(tags)
	return slices.Compact(tags)
}

// flyShared runs a flight's miss through the shared tier, beneath the
// in-process one and inside the in-process flight, so that one replica
// asks once:
//
//  1. a fresh entry in the shared tier answers;
//  2. otherwise the flight takes the key's lease: the holder fetches the
//     origin, stores the response in both tiers and releases the lease;
//     a replica that does not get it waits for the holder's result within
//     the flight's deadline, and fetches the origin itself when nothing
//     comes.
//
// A stale copy within its stale-while-revalidate window answers a page
// (not a refresh) at once; one within its stale-if-error window answers
// when the origin fails. Any failure of the tier is counted and the flight
// goes on to the origin.
func (c *Cache) flyShared(f *flight, st *shared.Store, up *fetch.Request) {
	ctx := f.ctx
	key, se, found, err := c.sharedLookup(ctx, st, up, f.key)
	if err != nil {
		c.sharedFailed(up, "looking up", err)
		c.origin(f, up, nil, nil)
		return
	}
	now := time.Now()
	switch {
	case found && se.Fresh(now):
		c.fromShared(f, up, &se, false)
		return
	case found && !f.refresh && now.Before(se.SWRUntil):
		// Served stale; the next fetch of the in-process copy, stale
		// too, refreshes it under the lease.
		c.fromShared(f, up, &se, true)
		return
	}
	var stale *shared.Entry
	if found {
		stale = &se
	}
	c.stats.SharedMisses.Add(1)
	held, err := st.Lease(ctx, key, leaseTTL(f))
	switch {
	case err != nil:
		c.sharedFailed(up, "taking the lease", err)
	case held:
		defer func() {
			if err := st.Release(context.WithoutCancel(ctx), key); err != nil {
				c.sharedFailed(up, "releasing the lease", err)
			}
		}()
		// The entry may have been stored between the lookup and the
		// lease, by a holder that has released it since.
		if _, e, ok, err := c.sharedLookup(ctx, st, up, key); err == nil && ok && e.Fresh(time.Now()) {
			c.fromShared(f, up, &e, false)
			return
		}
	default:
		c.stats.LeaseWaits.Add(1)
		e, ok, err := st.Wait(ctx, key)
		switch {
		case err != nil && ctx.Err() != nil:
			c.stats.LeaseTimeouts.Add(1)
		case err != nil:
			c.sharedFailed(up, "waiting for the lease", err)
		case ok:
			if _, e, ok, err = c.resolve(ctx, st, up, key, e); err != nil {
				c.sharedFailed(up, "looking up", err)
			} else if ok && e.Fresh(time.Now()) {
				c.fromShared(f, up, &e, false)
				return
			} else if ok {
				stale = &e
			}
		}
		if ctx.Err() != nil {
			f.res = flightResult{err: &fetch.Error{Kind: fetch.KindTimeout, ID: up.ID, Service: up.Service, Err: fmt.Errorf("waiting for another replica's fetch: %w", context.Cause(ctx))}}
			if stale != nil && time.Now().Before(stale.SIEUntil) {
				c.fromShared(f, up, stale, true)
			}
			return
		}
	}
	c.origin(f, up, st, stale)
}

// leaseTTL is how long a flight holds its key's lease at most: the
// fragment's timeout, and no longer than the flight's own deadline, so
// that a holder that dies frees the key when its fetch would have ended.
func leaseTTL(f *flight) time.Duration {
	ttl := f.req.Timeout
	if ttl <= 0 {
		ttl = DefaultRefreshTimeout
	}
	if dl, ok := f.ctx.Deadline(); ok {
		ttl = min(ttl, time.Until(dl))
	}
	return max(ttl, time.Millisecond)
}

// sharedLookup reads what the shared tier holds for req under key (the
// flight's key): a response, or a Vary index that points at the variant
// req wants. It returns the key the response is (or would be) stored
// under.
func (c *Cache) sharedLookup(ctx context.Context, st *shared.Store, req *fetch.Request, key string) (string, shared.Entry, bool, error) {
	pk := fetch.PrimaryKey(req)
	e, ok, err := st.Get(ctx, pk)
	if err != nil || !ok {
		return key, e, false, err
	}
	return c.resolve(ctx, st, req, pk, e)
}

// resolve follows a Vary index entry (no status, only the header names
// the responses vary on) to the variant req wants.
func (c *Cache) resolve(ctx context.Context, st *shared.Store, req *fetch.Request, key string, e shared.Entry) (string, shared.Entry, bool, error) {
	if e.Status != 0 {
		return key, e, true, nil
	}
	if len(e.Vary) == 0 {
		return key, shared.Entry{}, false, nil
	}
	vk := variantKey(fetch.PrimaryKey(req), req, e.Vary)
	v, ok, err := st.Get(ctx, vk)
	if err != nil || !ok || v.Status == 0 {
		return vk, shared.Entry{}, false, err
	}
	return vk, v, true, nil
}

// fromShared answers a flight with an entry of the shared tier, and keeps
// an in-process copy that lives no longer than the entry's own windows.
func (c *Cache) fromShared(f *flight, req *fetch.Request, se *shared.Entry, stale bool) {
	h := se.Header
	if h == nil {
		h = http.Header{}
	}
	resp := &fetch.Response{Status: se.Status, Header: h, Body: se.Body, Assets: contract.ParseAssets(h)}
	fr := freshness{FreshUntil: se.FreshUntil, SWRUntil: se.SWRUntil, SIEUntil: se.SIEUntil}
	now := time.Now()
	pk := fetch.PrimaryKey(req)
	key := pk
	if len(se.Vary) > 0 {
		key = variantKey(pk, req, se.Vary)
	}
	if e := (&entry{resp: resp, freshness: fr, size: responseSize(key, resp)}); e.size <= c.maxEntry && fr.Expires().After(now) {
		if len(se.Vary) > 0 {
			c.index(pk, se.Vary, fr.Expires(), now)
		}
		c.set(key, e, fr.Expires().Sub(now))
	}
	c.stats.SharedHits.Add(1)
	f.res = flightResult{resp: resp, shareable: true, vary: se.Vary, tier: fetch.TierShared, stale: stale}
}

// share writes a response stored in-process to the shared tier too, with
// its windows and tags, and with a Vary index under the primary key when
// the response varies. It runs before the lease is released, so that the
// replicas waiting for it find it.
func (c *Cache) share(ctx context.Context, st *shared.Store, req *fetch.Request, resp *fetch.Response, fr freshness, vary []string) {
	ctx = context.WithoutCancel(ctx) // bounded by the tier's own deadline
	now := time.Now()
	pk := fetch.PrimaryKey(req)
	key := pk
	if len(vary) > 0 {
		key = variantKey(pk, req, vary)
	}
	e := shared.Entry{
		Status: resp.Status, Header: resp.Header, Body: resp.Body, Stored: now,
		FreshUntil: fr.FreshUntil, SWRUntil: fr.SWRUntil, SIEUntil: fr.SIEUntil,
		Vary: vary, Tags: surrogateKeys(resp.Header),
	}
	if err := st.Set(ctx, key, e); err != nil {
		c.sharedFailed(req, "storing", err)
		return
	}
	c.stats.SharedStored.Add(1)
	if len(vary) > 0 {
		index := shared.Entry{Stored: now, FreshUntil: fr.FreshUntil, SWRUntil: fr.SWRUntil, SIEUntil: fr.SIEUntil, Vary: vary}
		if err := st.Set(ctx, pk, index); err != nil {
			c.sharedFailed(req, "storing the Vary index", err)
		}
	}
}

// sharedFailed counts and logs (at debug level: the Store logs one WARN
// per change of health) a failed call to the shared tier. A call that
// panicked below the tier is a bug: counted apart and logged once, at
// ERROR, with the stack of the goroutine that panicked; the fetch goes on
// without the tier all the same.
func (c *Cache) sharedFailed(req *fetch.Request, doing string, err error) {
	if errors.Is(err, shared.ErrTooLarge) {
		return // a property of the response, not a failure of the tier
	}
	c.stats.SharedErrors.Add(1)
	if pe, ok := errors.AsType[*shared.PanicError](err); ok {
		c.stats.SharedPanics.Add(1)
		c.logger.LogAttrs(context.Background(), slog.LevelError, "panic in the shared cache tier: "+doing+" failed, going on without it",
			slog.String("fragment", req.ID), slog.String("service", req.Service),
			slog.String("error", err.Error()), slog.String("stack", string(pe.Stack)))
		return
	}
	c.logger.LogAttrs(context.Background(), slog.LevelDebug, "shared cache tier: "+doing+" failed, going on without it",
		slog.String("fragment", req.ID), slog.String("service", req.Service), slog.String("error", err.Error()))
}

// SetShared puts st beneath the in-process tier (nil for none) and returns
// the tier it replaces, which the caller closes. Keys a purge drops from
// st, on any replica, are dropped from the in-process tier too.
func (c *Cache) SetShared(st *shared.Store) *shared.Store {
	if st != nil {
		st.OnInvalidate(func(keys []string) { c.drop(keys) })
	}
	return c.tier.Swap(st)
}

// drop removes keys from the in-process tier and returns how many it held.
func (c *Cache) drop(keys []string) int {
	c.storeMu.Lock()
	defer c.storeMu.Unlock()
	n := 0
	for _, k := range keys {
		if _, ok := c.store.Get(k); ok {
			c.store.Delete(k)
			n++
		}
	}
	return n
}

// purgeLocal drops from the in-process tier every response whose
// Surrogate-Key header lists one of tags, and returns how many it dropped.
func (c *Cache) purgeLocal(tags []string) int {
	c.storeMu.Lock()
	defer c.storeMu.Unlock()
	n := 0
	c.store.Range(func(k string, v any) bool {
		e, ok := v.(*entry)
		if ok && e.resp != nil && slices.ContainsFunc(surrogateKeys(e.resp.Header), func(t string) bool { return slices.Contains(tags, t) }) {
			c.store.Delete(k)
			n++
		}
		return true
	})
	return n
}

// ErrBadTag is returned by Purge for a tag no response could carry.
var ErrBadTag = errors.New("bad tag")

// maxTagLen bounds a purge tag.
const maxTagLen = 256

// Purge drops every cached response tagged with one of tags (in its
// Surrogate-Key header) and returns how many entries it dropped. With a
// shared tier, the tier drops them and tells every replica to drop them
// from its in-process tier; without, or when the tier fails, this
// replica's in-process tier is purged alone (and the error says so).
func (c *Cache) Purge(ctx context.Context, tags ...string) (int, error) {
	if len(tags) == 0 {
		return 0, fmt.Errorf("purging: %w: none given", ErrBadTag)
	}
	for _, t := range tags {
		if t == "" || len(t) > maxTagLen || strings.ContainsFunc(t, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return 0, fmt.Errorf("purging: %w %q: a tag is 1 to %d bytes with no white space or control characters", ErrBadTag, t, maxTagLen)
		}
	}
	c.stats.Purges.Add(1)
	n := c.purgeLocal(tags)
	if st := c.tier.Load(); st != nil {
		m, err := st.Purge(ctx, tags...)
		if err != nil {
			c.stats.SharedErrors.Add(1)
			if pe, ok := errors.AsType[*shared.PanicError](err); ok {
				c.stats.SharedPanics.Add(1)
				c.logger.LogAttrs(ctx, slog.LevelError, "panic in the shared cache tier: purging failed",
					slog.String("error", err.Error()), slog.String("stack", string(pe.Stack)))
			}
			c.stats.Purged.Add(int64(n))
			return n, fmt.Errorf("purging the shared tier (this replica's own tier was purged): %w", err)
		}
		n = max(n, m)
	}
	c.stats.Purged.Add(int64(n))
	return n, nil
}

// Shared returns the shared tier beneath the in-process one, or nil.
func (c *Cache) Shared() *shared.Store { return c.tier.Load() }
