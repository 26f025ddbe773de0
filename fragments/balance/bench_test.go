package balance

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkPickDone measures a fetch's cost to the balancer: one Pick and
// its Done.
func BenchmarkPickDone(b *testing.B) {
	for _, n := range []int{4, 32} {
		s, err := NewSet(addrs(n), Config{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("endpoints=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e, _ := s.Pick()
				e.Done(5*time.Millisecond, Success)
			}
		})
		b.Run(fmt.Sprintf("endpoints=%d/parallel", n), func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					e, _ := s.Pick()
					e.Done(5*time.Millisecond, Success)
				}
			})
		})
	}
}
