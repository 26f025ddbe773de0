package composer

import (
	"sync"
	"time"
)

// logFolder lets at most one log line per key through per interval, and
// counts the lines it held back so that the next line can say how many it
// stands for. When a service dies under load, every page degrades its
// boxes at once: the log gets a line a second per service and reason, not
// a line per box. Metrics still count every box.
type logFolder struct {
	mu   sync.Mutex // protects keys
	keys map[string]*foldState
}

// foldInterval is how often one key may log.
const foldInterval = time.Second

type foldState struct {
	last   time.Time
	folded int
}

// allow reports whether a line for key may be written now, and how many
// lines for key were folded since the last one written.
func (f *logFolder) allow(key string, now time.Time) (ok bool, folded int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.keys == nil {
		f.keys = map[string]*foldState{}
	}
	st := f.keys[key]
	if st == nil {
		st = &foldState{}
		f.keys[key] = st
	}
	if !st.last.IsZero() && now.Sub(st.last) < foldInterval {
		st.folded++
		return false, 0
	}
	folded, st.folded, st.last = st.folded, 0, now
	return true, folded
}
