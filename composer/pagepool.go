package composer

import (
	"sync"

	"github.com/inlayhq/inlay/fragments/fetch"
)

// pagePool keeps pages for the next request, with their slots and their
// stream: a page served whole from fresh entries of the local cache then
// allocates none of them (2 KB of the 5.1 KB such a page allocated, with
// four boxes), nor the page context's values and its fetches' shared
// fields, which are arrays of the page.
var pagePool = sync.Pool{New: func() any { return new(page) }}

// recycle gives pg back to the pool once its page is written and logged,
// when nothing but the page's own goroutine can still hold it or its
// slots (see recyclable). Any other page is left to the collector. Its
// slots are cleared here, on the page's goroutine: under the race
// detector, a reader the rule missed shows as a race with that write.
func recycle(pg *page) {
	if !pg.recyclable() {
		return
	}
	slots := pg.slots
	clear(slots)
	*pg = page{slots: slots[:0]}
	pagePool.Put(pg)
}

// recyclable reports whether every slot was answered at the page's start
// (no fetch is held) from a fresh entry of the local cache, with tracing
// off. Nothing else is safe: a fetch that missed may lead a flight that
// outlives the page; a stale entry's background refresh keeps a copy of
// the slot's request, which points into the slot (its own field) and into
// the page (the fields its fetches share, and the page context's values),
// so a recycled page would hand that refresh another shopper's request; and a
// span processor is given each fetch's context, the page's deadline.
func (pg *page) recyclable() bool {
	if len(pg.slots) == 0 || pg.fetches != nil || pg.eng.tracer != nil {
		return false
	}
	for i := range pg.slots {
		o := &pg.slots[i].out
		if o.err != nil || o.fromFallback || o.report.Cache != fetch.CacheHit || o.report.Tier != fetch.TierLocal {
			return false
		}
	}
	return true
}
