package shared

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/inlayhq/inlay/fragments/shared/redistest"
)

// BenchmarkRoundTrips measures each call against a local redis-server, one
// caller at a time (latency) and with every P busy (throughput, through
// rueidis's auto-pipelining). The entry is a typical 4 KiB fragment.
func BenchmarkRoundTrips(b *testing.B) {
	srv := redistest.Start(b)
	ctx := context.Background()
	e := entryFor(strings.Repeat("<li>x</li>", 400), time.Hour, time.Hour, "team-a")
	for _, cache := range []struct {
		name  string
		bytes int
	}{{"client-cache", 0}, {"no-client-cache", -1}} {
		// A generous deadline: a benchmark's queue on a busy machine is
		// not the server failing.
		s, err := New(Config{URL: srv.URL(""), Timeout: time.Second, ClientCacheBytes: cache.bytes, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		// Another replica writes the hot key: this one's own writes skip
		// its client-side cache for a moment (bypassWindow).
		w, err := New(Config{URL: srv.URL(""), Timeout: time.Second, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Set(ctx, "hot", e); err != nil {
			b.Fatal(err)
		}
		w.Close()
		calls := []struct {
			name string
			fn   func(i int) error
		}{
			{"Get-hit", func(int) error { _, _, err := s.Get(ctx, "hot"); return err }},
			{"Get-miss", func(i int) error { _, _, err := s.Get(ctx, fmt.Sprint("cold", i)); return err }},
			{"Set", func(i int) error { return s.Set(ctx, fmt.Sprint("k", i%1000), e) }},
			{"Lease+Release", func(i int) error {
				key := fmt.Sprint("l", i)
				if _, err := s.Lease(ctx, key, time.Second); err != nil {
					return err
				}
				return s.Release(ctx, key)
			}},
		}
		for _, c := range calls {
			b.Run(cache.name+"/"+c.name+"/serial", func(b *testing.B) {
				before := s.Stats().ClientCacheHits
				i := 0
				for b.Loop() {
					i++
					if err := c.fn(i); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(s.Stats().ClientCacheHits-before)/float64(b.N), "local/op")
			})
			b.Run(cache.name+"/"+c.name+"/parallel", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						i++
						if err := c.fn(i); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
		s.Close()
	}
}
