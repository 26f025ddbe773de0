package main

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

const (
	// heapFloorBytes is the heap below which no cycle starts.
	heapFloorBytes = 24 << 20
	// heapFloorPoll is how often the live heap is read.
	heapFloorPoll = 250 * time.Millisecond
	// defaultGCPercent is Go's own GOGC, the least the floor sets.
	defaultGCPercent = 100
	// maxGCPercent bounds GOGC while the live heap is tiny. Go's least
	// heap goal, 4 MiB, grows with GOGC: at 600 it is the floor.
	maxGCPercent = heapFloorBytes / (4 << 20) * 100
)

// liveHeapMetric is the heap the last cycle found live.
const liveHeapMetric = "/gc/heap/live:bytes"

// gcPercentFor returns the GOGC that puts the next cycle's goal at floor
// bytes for a live heap of live bytes, from defaultGCPercent to
// maxGCPercent; Go's default before the first cycle, which measures the
// live heap.
func gcPercentFor(live, floor uint64) int {
	if live == 0 || live >= floor { // no cycle yet, or past the floor
		return defaultGCPercent
	}
	return min(max(int(floor*100/live)-100, defaultGCPercent), maxGCPercent)
}

// heapFloorOn reports whether the heap floor runs: not when the operator
// set GOGC.
func heapFloorOn(getenv func(string) string) bool {
	return getenv("GOGC") == ""
}

// heapFloor sets GOGC from the live heap.
//
// Go's collector starts a cycle once the heap has grown by GOGC percent
// (100) of what the last cycle found live. A page served from the cache
// allocates about 5 KB and leaves nothing live, so with Inlay's small
// live heap (8 MB) a busy server collects 20 to 40 times a second, and
// each cycle's marking and stops delay every page in flight.
//
// The heap floor lets the heap grow to heapFloorBytes before a cycle
// while the live heap is small: it raises GOGC so that the next cycle's
// goal is the floor, and leaves it at Go's 100 once the live heap is half
// the floor or more. The heap's goal is then max(floor, twice the live
// heap): past the floor, Go's default. Setting GOGC in the environment
// turns it off; GOMEMLIMIT still caps the heap as Go says.
type heapFloor struct {
	floor   uint64
	sample  []metrics.Sample
	percent int // the GOGC last set; 0 before the first
}

func newHeapFloor(floor uint64) *heapFloor {
	return &heapFloor{floor: floor, sample: []metrics.Sample{{Name: liveHeapMetric}}}
}

// adjust reads the live heap and sets GOGC for it, when that changes it
// by a tenth or more (a change recomputes the collector's pacing), and
// returns the GOGC in force.
func (h *heapFloor) adjust() int {
	metrics.Read(h.sample)
	var live uint64
	if v := h.sample[0].Value; v.Kind() == metrics.KindUint64 {
		live = v.Uint64()
	}
	p := gcPercentFor(live, h.floor)
	if h.percent == 0 || 10*abs(p-h.percent) >= h.percent {
		debug.SetGCPercent(p)
		h.percent = p
	}
	return h.percent
}

// run adjusts GOGC every heapFloorPoll until ctx ends, then gives Go its
// default back.
func (h *heapFloor) run(ctx context.Context) {
	t := time.NewTicker(heapFloorPoll)
	defer t.Stop()
	for {
		h.adjust()
		select {
		case <-ctx.Done():
			debug.SetGCPercent(defaultGCPercent)
			return
		case <-t.C:
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
