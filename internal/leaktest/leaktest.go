// Package leaktest is the TestMain of the packages that fetch fragments
// and compose pages, and a count of the goroutines running. Only tests
// import it.
package leaktest

import (
	"flag"
	"runtime"
	"strings"
	"testing"

	"github.com/inlayhq/inlay/internal/poison"
	"go.uber.org/goleak"
)

// Main runs m's tests and fails the run if any test leaves a goroutine
// behind: a blocked handler, a transport connection nobody closed, a fetch
// that never returned or outlived its page, a stub handler nobody
// released, a cache goroutine nobody stopped. The shared tier's
// reconnection backoff (rueidis's (*call).DelayDo) is ignored: it ends by
// itself.
//
// Body buffers and header maps given back are poisoned (see package
// poison), so that a test that reads a body or a header after its
// release fails; benchmarks run without it.
func Main(m *testing.M) {
	flag.Parse()
	poison.EnableUnlessBenchmarking()
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/redis/rueidis.(*call).DelayDo.func1"))
}

// Count returns how many goroutines there are now whose stack trace, as
// runtime.Stack writes it (the header line included), holds s: a
// function's qualified name followed by "(", or ", synctest bubble " for
// the goroutines in a synctest bubble, which the header names.
func Count(s string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, s) {
			count++
		}
	}
	return count
}
