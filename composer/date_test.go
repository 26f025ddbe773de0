package composer

import (
	"net/http"
	"testing"
	"time"
)

func TestDateHeader(t *testing.T) {
	at := time.Date(2026, 11, 30, 4, 5, 6, 0, time.FixedZone("CET", 3600))
	first := dateHeader(at)
	if want := "Mon, 30 Nov 2026 03:05:06 GMT"; len(first) != 1 || first[0] != want {
		t.Fatalf("dateHeader = %q, want [%q]", first, want)
	}
	if again := dateHeader(at.Add(900 * time.Millisecond)); &again[0] != &first[0] {
		t.Errorf("a page in the same second formatted a new Date: %q", again)
	}
	if next := dateHeader(at.Add(time.Second)); next[0] != "Mon, 30 Nov 2026 03:05:07 GMT" {
		t.Errorf("next second: got %q", next[0])
	}
	if _, err := http.ParseTime(first[0]); err != nil {
		t.Errorf("Date %q does not parse: %v", first[0], err)
	}
}

// The Date header of every page, three ways: the per-second cache, a
// fresh one formatted per page, and one appended into a buffer.
func BenchmarkDateHeader(b *testing.B) {
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = dateHeader(time.Now())
		}
	})
	b.Run("format", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = []string{time.Now().UTC().Format(http.TimeFormat)}
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		var buf [len(http.TimeFormat) + 8]byte
		for b.Loop() {
			_ = time.Now().UTC().AppendFormat(buf[:0], http.TimeFormat)
		}
	})
}
