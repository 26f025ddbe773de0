package balance

import (
	"sync"
	"sync/atomic"
	"time"
)

// window counts events over a sliding window of a fixed length, cheaply:
// two slots, the current window and the one before, aligned on multiples
// of the length. A read weighs the previous slot by the part of it that
// still lies within one length of now, as a sliding window would. Adding
// is an atomic increment; a slot is cleared when its window begins, under
// a lock taken once per window. An event added by a goroutine that read
// the clock just before a window turned may land in the slot being
// cleared: the counts are exact to within such stragglers.
type window struct {
	size  int64 // nanoseconds
	epoch atomic.Int64
	mu    sync.Mutex
	cells [2][]atomic.Uint64
}

func newWindow(size time.Duration, cells int) *window {
	w := &window{size: max(int64(size), 1)}
	w.cells[0] = make([]atomic.Uint64, cells)
	w.cells[1] = make([]atomic.Uint64, cells)
	return w
}

// turn makes the slot of the window that holds now the current one.
func (w *window) turn(now int64) int64 {
	e := now / w.size
	if e <= w.epoch.Load() {
		return e
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	cur := w.epoch.Load()
	if e <= cur {
		return e
	}
	w.clear(int(e % 2))
	if e > cur+1 {
		w.clear(int((e + 1) % 2))
	}
	w.epoch.Store(e)
	return e
}

func (w *window) clear(slot int) {
	for i := range w.cells[slot] {
		w.cells[slot][i].Store(0)
	}
}

// add counts delta events in cell i at now.
func (w *window) add(now int64, i int, delta uint64) {
	e := w.turn(now)
	w.cells[e%2][i].Add(delta)
}

// weights returns, for a read at now, the slot of the current window and
// the weight of each slot: 1 for the current one, the part still inside
// the sliding window for the previous one. A window that has seen nothing
// for two lengths has both weights 0.
func (w *window) weights(now int64) (cur int, wCur, wPrev float64) {
	e := now / w.size
	stored := w.epoch.Load()
	frac := float64(now%w.size) / float64(w.size)
	switch {
	case e <= stored:
		return int(stored % 2), 1, 1 - frac
	case e == stored+1:
		// Nothing was added in this window yet: the stored current slot
		// is the previous one.
		return int(e % 2), 0, 1 - frac
	default:
		return 0, 0, 0
	}
}

// sums writes into dst the events of each cell within one length of now,
// all weighed alike, and returns their total. dst has one entry per cell.
func (w *window) sums(now int64, dst []float64) (total float64) {
	cur, wCur, wPrev := w.weights(now)
	for i := range dst {
		dst[i] = wCur*float64(w.cells[cur][i].Load()) + wPrev*float64(w.cells[1-cur][i].Load())
		total += dst[i]
	}
	return total
}

// reset forgets every event.
func (w *window) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.clear(0)
	w.clear(1)
}
