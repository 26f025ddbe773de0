package resolve_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any test leaves a goroutine behind: a watch
// that Stop did not end, a lookup nobody cancelled, a DNS server still
// serving.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
