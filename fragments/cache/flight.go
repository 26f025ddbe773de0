package cache

import (
	"context"
	"log/slog"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/shared"
)

// flight is one upstream fetch shared by the callers waiting on it.
type flight struct {
	key     string // the key the flight goes under
	refresh bool   // a stale-while-revalidate refresh: never answered stale
	ctx     context.Context
	cancel  context.CancelFunc
	req     *fetch.Request // the request of the caller that started it
	waiters int            // callers still waiting; guarded by Cache.mu
	taken   bool           // the leader took res.resp; guarded by Cache.mu
	done    chan struct{}  // closed once res is set
	res     flightResult
}

// flightResult is what a shared fetch hands to its callers.
type flightResult struct {
	resp      *fetch.Response
	err       error
	shareable bool       // stored, so safe to hand to every caller it fits
	vary      []string   // the header names the stored response varies on
	tier      fetch.Tier // the tier that answered
	stale     bool       // a stale copy from the shared tier
}

// coalesce makes one upstream fetch for all concurrent callers of a key:
// join, then await. refresh marks a stale-while-revalidate refresh,
// which a stale copy in the shared tier does not answer.
func (c *Cache) coalesce(ctx context.Context, key string, req *fetch.Request, again, refresh bool, rep *fetch.Report) (*fetch.Response, error) {
	asked := time.Now()
	f, leader := c.join(ctx, key, req, refresh)
	return c.await(ctx, req, Flight{f: f, leader: leader, asked: asked}, again, rep)
}

// await waits for a flight req joined. A caller whose key was only the
// primary one (the cache did not know the fragment's Vary yet) and whose
// variant turns out to differ from the fetched one tries once more
// under its variant's key, when again is set.
//
// A caller that fetches again gets what is left of its own timeout, not
// a new one: its deadline runs from when it asked, whoever fetched.
func (c *Cache) await(ctx context.Context, req *fetch.Request, fl Flight, again bool, rep *fetch.Report) (*fetch.Response, error) {
	f := fl.f
	defer c.leave(f.key, f)
	select {
	case <-f.done:
	case <-ctx.Done():
		kind := fetch.KindCanceled
		if ctx.Err() == context.DeadlineExceeded {
			kind = fetch.KindTimeout
		}
		return nil, &fetch.Error{Kind: kind, ID: req.ID, Service: req.Service, Err: context.Cause(ctx)}
	}
	if rep == nil {
		rep = &fetch.Report{} // written, never read
	}
	res := &f.res
	if res.err == nil {
		rep.Tier = res.tier
	}
	if res.stale {
		rep.Cache = fetch.CacheStale
		c.stats.StaleServed.Add(1)
	}
	if fl.leader {
		c.mu.Lock()
		f.taken = true
		c.mu.Unlock()
		return res.resp, res.err
	}
	c.stats.Coalesced.Add(1)
	rep.Coalesced = true
	switch {
	case res.err != nil:
		return nil, res.err
	case !res.shareable:
		// Never hand one shopper's unshareable response to another.
		rep.Tier = fetch.TierOrigin
		return c.again(ctx, req, fl.asked)
	case len(res.vary) > 0 && fetch.SecondaryKey(req, res.vary) != fetch.SecondaryKey(f.req, res.vary):
		// The response is another variant than this caller's.
		if again {
			left, err := req.Remaining(fl.asked)
			if err != nil {
				return nil, err
			}
			return c.coalesce(ctx, variantKey(fetch.PrimaryKey(req), req, res.vary), left, false, false, rep)
		}
		rep.Tier = fetch.TierOrigin
		return c.again(ctx, req, fl.asked)
	}
	return res.resp, nil
}

// again fetches req from the service for a caller that asked at asked and
// could not use the flight's answer, within what is left of its timeout.
func (c *Cache) again(ctx context.Context, req *fetch.Request, asked time.Time) (*fetch.Response, error) {
	left, err := req.Remaining(asked)
	if err != nil {
		return nil, err
	}
	return c.upstream(ctx, left)
}

// join registers a caller with the flight for key, starting it with the
// caller's deadline if there is none. leader reports that it started it.
func (c *Cache) join(ctx context.Context, key string, req *fetch.Request, refresh bool) (f *flight, leader bool) {
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
	defer c.unclaimed(f)
	defer close(f.done)
	defer func() {
		if v := recover(); v != nil {
			f.res = flightResult{err: c.panicked(f.req, v)}
		}
	}()
	// A caller that missed just before another flight stored the key, and
	// joined after that flight ended, finds the stored response here
	// instead of fetching it again.
	if _, e := c.lookup(f.req); e != nil && !e.pass && time.Now().Before(e.FreshUntil) {
		f.res = flightResult{resp: e.resp, shareable: true, tier: fetch.TierLocal}
		return
	}
	// The upstream request runs under the flight's context, not the
	// caller's.
	up := *f.req
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
func (c *Cache) origin(f *flight, up *fetch.Request, st *shared.Store, stale *shared.Entry) {
	resp, err := c.upstream(f.ctx, up)
	f.res = flightResult{resp: resp, err: err, tier: fetch.TierOrigin}
	if err == nil {
		e, vary := c.put(up, resp)
		f.res.shareable, f.res.vary = e != nil, vary
		if e != nil && st != nil {
			c.share(f.ctx, st, up, resp, e.freshness, vary)
		}
		if fn := c.onStored.Load(); e != nil && fn != nil && !up.Asset {
			(*fn)(up, resp)
		}
		return
	}
	if stale != nil && fetch.KindOf(err) != fetch.KindCanceled && time.Now().Before(stale.SIEUntil) {
		c.fromShared(f, up, stale, true)
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
	if isClosed(f.done) && !f.taken {
		f.res.resp.Release()
	}
}

// unclaimed gives back, once the flight is done, the budget of a response
// nobody will take: every caller left before it came. Without this, a
// response arriving just as the last shopper hangs up would hold its
// bytes of the in-flight budget for good.
func (c *Cache) unclaimed(f *flight) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.waiters == 0 && !f.taken {
		f.res.resp.Release()
	}
}

// isClosed reports whether ch is closed.
func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// refresh starts one background fetch of key, unless one is running or
// the cache is closed.
func (c *Cache) refresh(key string, req *fetch.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if isClosed(c.closed) || c.refreshing[key] {
		return
	}
	c.refreshing[key] = true
	c.stats.Refreshes.Add(1)
	up := *req
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
		resp, err := c.coalesce(ctx, key, &up, false, true, nil)
		if err != nil {
			c.logger.LogAttrs(ctx, slog.LevelWarn, "background refresh failed, stale copy kept",
				slog.String("fragment", up.ID), slog.String("service", up.Service), slog.String("error", err.Error()))
		}
		// Stored, the response is the cache's; if it may not be, nobody
		// reads it: either way its in-flight bytes go back.
		resp.Release()
	})
}
