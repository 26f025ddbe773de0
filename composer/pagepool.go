package composer

import "sync"

// pagePool keeps pages for the next request, with their slots and their
// stream: a page served whole from fresh entries of the local cache then
// allocates none of them (2 KB of the 5.1 KB such a page allocated, with
// four boxes).
var pagePool = sync.Pool{New: func() any { return new(page) }}

// recycle gives pg back to the pool once its page is written and logged,
// when nothing but the page's own goroutine can still hold it or its
// slots: every slot was answered at start from a fresh entry of the local
// cache, and no fetch is held. Any other page is left to the collector: a
// fetch that missed may lead a flight that outlives the page, and a stale
// entry's background refresh keeps a copy of the slot's request, which
// points into the slot (its own field), so a recycled slot would hand that
// refresh another shopper's request. Its slots are cleared here, on the
// page's goroutine: under the race detector, a reader this rule missed
// shows as a race with that write.
func recycle(pg *page) {
	if !pg.recyclable() {
		return
	}
	slots := pg.slots
	clear(slots)
	*pg = page{slots: slots[:0]}
	pagePool.Put(pg)
}

// recyclable reports whether recycle may keep pg: see recycle.
func (pg *page) recyclable() bool {
	return len(pg.slots) > 0 && pg.fresh == len(pg.slots) && pg.fetches == nil
}
