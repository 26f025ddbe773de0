package guard

import (
	"flag"
	"testing"

	"github.com/inlayhq/inlay/internal/poison"
	"go.uber.org/goleak"
)

// TestMain fails the run if any test leaves a goroutine behind: a blocked
// handler, a transport connection nobody closed, a fetch that never returned.
//
// Body buffers given back are poisoned (see package poison), so that a
// test that reads a body after its release fails; benchmarks run
// without it.
func TestMain(m *testing.M) {
	flag.Parse()
	poison.EnableUnlessBenchmarking()
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/redis/rueidis.(*call).DelayDo.func1")) // the shared tier's reconnection backoff, which ends by itself
}
