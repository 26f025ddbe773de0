package main

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestGCPercentFor(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name        string
		live, floor uint64
		want        int
	}{
		{"no cycle yet: Go's default", 0, 24 * mib, defaultGCPercent},
		{"tiny heap: the ceiling", 1 * mib, 24 * mib, maxGCPercent},
		{"a cached page's heap", 8 * mib, 24 * mib, 200},
		{"a third of the floor", 6 * mib, 24 * mib, 300},
		{"half the floor: Go's default", 12 * mib, 24 * mib, defaultGCPercent},
		{"past half the floor", 18 * mib, 24 * mib, defaultGCPercent},
		{"past the floor", 48 * mib, 24 * mib, defaultGCPercent},
	} {
		if got := gcPercentFor(tc.live, tc.floor); got != tc.want {
			t.Errorf("%s: gcPercentFor(%d MiB, %d MiB) = %d, want %d", tc.name, tc.live/mib, tc.floor/mib, got, tc.want)
		}
	}
}

func TestHeapFloorOn(t *testing.T) {
	for _, tc := range []struct {
		gogc string
		want bool
	}{{"", true}, {"100", false}, {"off", false}} {
		getenv := func(k string) string {
			if k == "GOGC" {
				return tc.gogc
			}
			return ""
		}
		if got := heapFloorOn(getenv); got != tc.want {
			t.Errorf("GOGC=%q: heap floor on %t, want %t", tc.gogc, got, tc.want)
		}
	}
}

// TestHeapFloorSetsGOGC: adjust sets the runtime's GOGC to the one its
// floor asks for the live heap; a floor far past the heap asks for the
// ceiling, and one under it for Go's default.
func TestHeapFloorSetsGOGC(t *testing.T) {
	prev := debug.SetGCPercent(defaultGCPercent)
	defer debug.SetGCPercent(prev)
	runtime.GC() // a cycle, so that the live heap is known
	for _, tc := range []struct {
		floor uint64
		want  int
	}{{1 << 40, maxGCPercent}, {1, defaultGCPercent}} {
		h := newHeapFloor(tc.floor)
		if got := h.adjust(); got != tc.want {
			t.Errorf("floor %d: adjust = %d, want %d", tc.floor, got, tc.want)
		}
		if got := debug.SetGCPercent(defaultGCPercent); got != tc.want {
			t.Errorf("floor %d: the runtime's GOGC is %d, want %d", tc.floor, got, tc.want)
		}
	}
}
