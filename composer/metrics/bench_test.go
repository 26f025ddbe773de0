package metrics

import (
	"testing"
	"time"
)

// BenchmarkObservePage records what one page of four fragments tells the
// observer, from every core at once: the metrics' cost per page.
func BenchmarkObservePage(b *testing.B) {
	m := New()
	slots := []string{"header", "search", "basket", "footer"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.PageStarted("/page")
			for _, s := range slots {
				m.FragmentDone("team", s, "ok", false, 0)
			}
			m.PageDone("/page", 200, 3*time.Millisecond, time.Millisecond, 0)
		}
	})
}
