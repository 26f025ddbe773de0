package composer

import (
	"testing"

	"github.com/inlayhq/inlay/fragments/shared/redistest"
)

// BenchmarkPageCacheHitSharedTier composes the page of
// BenchmarkPageCacheHit, six fragments fresh in memory, with the shared
// tier off and on: a hit in the in-process tier never asks the shared one,
// so the two cost the same. The numbers are in docs/benchmarks.md.
func BenchmarkPageCacheHitSharedTier(b *testing.B) {
	rs := redistest.Start(b)
	for _, tc := range []struct{ name, extra string }{
		{"off", ""},
		{"on", "cache:\n  shared:\n    url: " + rs.URL("") + "\n"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, team := sixFragmentShopWith(b, "max-age=3600", tc.extra)
			benchPages(b, s)
			if n := team.Hits(); n != 6 {
				b.Errorf("fragment requests: got %d, want 6 (all hits after the first page)", n)
			}
			if configured, _ := s.inlay.SharedTier(); configured != (tc.extra != "") {
				b.Errorf("shared tier configured: %v", configured)
			}
		})
	}
}
