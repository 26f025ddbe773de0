//go:build !race

package canary

import (
	"testing"
	"time"
)

// Chooses and Observe run for every fetch of a service with a canary:
// neither allocates.
func TestHotPathAllocatesNothing(t *testing.T) {
	c := mustNew(t, Config{Service: "basket", Weight: 10})
	id := shoppers(1)[0]
	cases := []struct {
		name string
		f    func()
	}{
		{"Chooses", func() { c.Chooses(id) }},
		{"Observe stable", func() { c.Observe(false, 12*time.Millisecond, false) }},
		{"Observe canary", func() { c.Observe(true, 12*time.Millisecond, true) }},
	}
	for _, tc := range cases {
		if n := testing.AllocsPerRun(1000, tc.f); n != 0 {
			t.Errorf("%s: %v allocations a call, want 0", tc.name, n)
		}
	}
}
