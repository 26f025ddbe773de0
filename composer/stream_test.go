package composer

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inlayhq/inlay/composer/layout"
)

// writesRecorder is a ResponseWriter that keeps every Write apart, to
// count what reaches the shopper's side and in how many writes.
type writesRecorder struct {
	header  http.Header
	status  int
	writes  [][]byte
	flushes int
}

func (w *writesRecorder) Header() http.Header { return w.header }
func (w *writesRecorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}
func (w *writesRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.writes = append(w.writes, bytes.Clone(b))
	return len(b), nil
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
		wantStatus  int // the headers went: a streamed page
		maxBufBytes int // the buffer's capacity stays at most this
	}{
		{name: "streamed small pieces leave in one write per flush",
			pieces: []string{small, small, small, "", small, small, ""}, wantWrites: []int{300, 200}, wantStatus: http.StatusOK, maxBufBytes: streamSendAt},
		{name: "a streamed large piece is not copied",
			pieces: []string{small, large, small, ""}, wantWrites: []int{100, 1 << 20, 100}, wantStatus: http.StatusOK, maxBufBytes: streamSendAt},
		{name: "a held page writes nothing before its end",
			whole: true, pieces: []string{small, small, "", small}, wantWrites: nil, maxBufBytes: maxHeldPage},
		{name: "a held page past maxHeldPage streams",
			whole: true, pieces: []string{small, large, small}, wantWrites: []int{100, 1 << 20}, wantStatus: http.StatusOK, maxBufBytes: maxHeldPage},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := &writesRecorder{header: http.Header{}}
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
			var got []int
			for _, b := range w.writes {
				got = append(got, len(b))
			}
			if !slices.Equal(got, tc.wantWrites) {
				t.Errorf("writes: got %v, want %v", got, tc.wantWrites)
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
