package composer

import "sync"

// pagePool keeps pages for the next request, with their slots, their
// fetches and their stream: a page whose fetches all ended on its own
// goroutine then allocates none of them (2.3 KB of the 9.5 KB a no-store
// page with four boxes allocated, 2 KB of the 5.1 KB of a page served
// from fresh entries), nor the page context's values and its fetches'
// shared fields, which are arrays of the page.
var pagePool = sync.Pool{New: func() any { return new(page) }}

// recycle gives pg back to the pool once its page is written and logged,
// when nothing but the page's own goroutine can still hold it or its
// slots (see recyclable). Any other page is left to the collector. Its
// slots and fetches are cleared here, on the page's goroutine: under the
// race detector, a reader the rule missed shows as a race with that
// write. testHookRecycled, when set, is told of every page: its request
// id and whether it was recycled.
func recycle(pg *page) {
	ok := pg.recyclable()
	if testHookRecycled != nil {
		testHookRecycled(pg.requestID, ok)
	}
	if !ok {
		return
	}
	slots, fetches := pg.slots, pg.fetches
	clear(slots)
	clear(fetches)
	*pg = page{slots: slots[:0], fetches: fetches[:0]}
	pagePool.Put(pg)
}

// testHookRecycled is set only by tests, before any page is served.
var testHookRecycled func(requestID string, recycled bool)

// recyclable reports whether every slot's fetch is quiet
// (fragments.Pending.Quiet: answered at the page's start from a fresh
// entry of the local cache, or sent then and read on the page's
// goroutine, with no retry) and answered, the page's deadline left no
// goroutine behind (its shopper did not leave first, and no fetch was cut
// at its end), and tracing is off. Nothing else is safe: a fetch that
// missed may lead a flight that outlives the page; a stale entry's
// background refresh keeps a copy of the slot's request, which points
// into the slot (its own field) and into the page (the fields its
// fetches share, and the page context's values), so a recycled page
// would hand that refresh another shopper's request; a fetch on a
// goroutine of its own, a retry and a cut may still run with the page's
// deadline, which is a part of the page; and a span processor is given
// each fetch's context, the page's deadline.
func (pg *page) recyclable() bool {
	if len(pg.slots) == 0 || !pg.quiet || pg.eng.tracer != nil {
		return false
	}
	for i := range pg.slots {
		o := &pg.slots[i].out
		if o.err != nil || o.fromFallback || !o.quiet {
			return false
		}
	}
	return true
}
