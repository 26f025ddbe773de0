package composer

import (
	"testing"
	"time"
)

// One line per key a second: the lines in between are folded, and the
// next line written says how many.
func TestLogFolderLetsOneLinePerKeyASecond(t *testing.T) {
	var f logFolder
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		key        string
		at         time.Duration
		wantOK     bool
		wantFolded int
	}{
		{"search timeout", 0, true, 0},
		{"search timeout", 10 * time.Millisecond, false, 0},
		{"search timeout", 500 * time.Millisecond, false, 0},
		{"basket timeout", 500 * time.Millisecond, true, 0}, // another key
		{"search status", 600 * time.Millisecond, true, 0},  // another reason
		{"search timeout", time.Second, true, 2},
		{"search timeout", 1500 * time.Millisecond, false, 0},
		{"search timeout", 5 * time.Second, true, 1},
	}
	for i, s := range steps {
		ok, folded := f.allow(s.key, t0.Add(s.at))
		if ok != s.wantOK || folded != s.wantFolded {
			t.Errorf("step %d (%s at %v): got %v, %d; want %v, %d", i, s.key, s.at, ok, folded, s.wantOK, s.wantFolded)
		}
	}
}
