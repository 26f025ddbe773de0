package composer

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any test leaves a goroutine behind: a fetch
// that outlived its page, a stub handler nobody released, a cache
// goroutine nobody stopped.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/redis/rueidis.(*call).DelayDo.func1")) // the shared tier's reconnection backoff, which ends by itself
}
