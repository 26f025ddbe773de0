package composer

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inlayhq/inlay/composer/layout"
)

// writesRecorder is the benchmarks' discardWriter that also notes the
// length of every Write and counts the flushes, to count what reaches the
// shopper's side and in how many writes.
type writesRecorder struct {
	discardWriter
	writes  []int
	flushes int
}

func (w *writesRecorder) Write(b []byte) (int, error) {
	w.writes = append(w.writes, len(b))
	return w.discardWriter.Write(b)
}
func (w *writesRecorder) Flush() { w.flushes++ }

// The page's one buffer: a streamed page leaves in one write per flush,
// however many pieces it has; a large piece goes straight to the shopper
// rather than through the buffer; a held page writes nothing until it is
// done, and one that grows past maxHeldPage streams from there, its
// headers first.
func TestStreamWritesThePageInFewWritesAndCopiesNoLargePiece(t *testing.T) {
	l, problems := layout.Parse("p.html", []byte("<p>static</p>"), nil)
	if err := problems.Err(); err != nil {
		t.Fatal(err)
	}
	small := strings.Repeat("s", 100)
	large := strings.Repeat("L", 1<<20)
	cases := []struct {
		name   string
		whole  bool
		pieces []string // written in turn; "" flushes
		// wantWrites are the lengths of the writes that reached the
		// shopper's side before the page's end.
		wantWrites  []int
		wantFlushes int // to the shopper: none while the page is held
		wantStatus  int // the headers went: a streamed page
		maxBufBytes int // the buffer's capacity stays at most this
	}{
		{name: "streamed small pieces leave in one write per flush",
			pieces: []string{small, small, small, "", small, small, ""}, wantWrites: []int{300, 200}, wantFlushes: 2, wantStatus: http.StatusOK, maxBufBytes: streamSendAt},
		{name: "a streamed large piece is not copied",
			pieces: []string{small, large, small, ""}, wantWrites: []int{100, 1 << 20, 100}, wantFlushes: 1, wantStatus: http.StatusOK, maxBufBytes: streamSendAt},
		{name: "a held page writes nothing before its end",
			whole: true, pieces: []string{small, small, "", small}, wantWrites: nil, maxBufBytes: maxHeldPage},
		{name: "a held page past maxHeldPage streams",
			whole: true, pieces: []string{small, large, small}, wantWrites: []int{100, 1 << 20}, wantStatus: http.StatusOK, maxBufBytes: maxHeldPage},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := &writesRecorder{discardWriter: discardWriter{h: http.Header{}}}
			pg := &page{layout: l, eng: &pageEngine{writeIdle: time.Second}}
			s := newStream(pg, w, http.StatusOK, tc.whole)
			defer s.release()
			pooled := s.page.Cap() // a buffer from an earlier page may come grown
			for _, p := range tc.pieces {
				if p == "" {
					s.flush()
					continue
				}
				s.writeString(p)
			}
			if s.err != nil {
				t.Fatal(s.err)
			}
			if !slices.Equal(w.writes, tc.wantWrites) {
				t.Errorf("writes: got %v, want %v", w.writes, tc.wantWrites)
			}
			if w.flushes != tc.wantFlushes {
				t.Errorf("flushes: got %d, want %d", w.flushes, tc.wantFlushes)
			}
			if w.status != tc.wantStatus {
				t.Errorf("status sent: got %d, want %d (0: the headers have not left)", w.status, tc.wantStatus)
			}
			if c := s.page.Cap(); c > max(pooled, tc.maxBufBytes*2) {
				t.Errorf("buffer capacity %d, want at most about %d: a large piece went through it", c, tc.maxBufBytes)
			}
		})
	}
}
