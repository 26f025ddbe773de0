package fragments

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any test leaves a goroutine behind: a blocked
// handler, a transport connection nobody closed, a fetch that never returned.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/redis/rueidis.(*call).DelayDo.func1")) // the shared tier's reconnection backoff, which ends by itself
}
