package metrics

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestChildrenMakesEachChildOnce asks for the children of eight keys from
// sixteen goroutines at once: each key's child is made once, and every
// caller gets that one.
func TestChildrenMakesEachChildOnce(t *testing.T) {
	var made atomic.Int64
	c := children[slotKey, *int]{make: func(slotKey) *int {
		made.Add(1)
		return new(int)
	}}
	keys := []slotKey{
		{"shop", "header"}, {"shop", "search"}, {"shop", "basket"}, {"shop", "footer"},
		{"team", "header"}, {"team", "search"}, {"team", "basket"}, {"team", "footer"},
	}
	got := make([][]*int, 16)
	var wg sync.WaitGroup
	for g := range got {
		wg.Go(func() {
			for _, k := range keys {
				got[g] = append(got[g], c.of(k))
			}
		})
	}
	wg.Wait()
	if n := made.Load(); n != int64(len(keys)) {
		t.Errorf("children made: got %d, want %d, one a key", n, len(keys))
	}
	for g := range got {
		for i, k := range keys {
			if got[g][i] != got[0][i] {
				t.Errorf("goroutine %d got another child for %v than goroutine 0", g, k)
			}
			if got[g][i] != c.of(k) {
				t.Errorf("goroutine %d's child for %v is not the one kept", g, k)
			}
		}
	}
}
