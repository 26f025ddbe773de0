package composer

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any test leaves a goroutine behind: a fetch
// that outlived its page, a stub handler nobody released, a cache
// goroutine nobody stopped.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
