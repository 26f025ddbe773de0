package fragments

import (
	"testing"

	"github.com/inlayhq/inlay/internal/leaktest"
)

// TestMain fails the run if any test leaves a goroutine behind, with body
// buffers poisoned once given back (see [leaktest.Main]).
func TestMain(m *testing.M) { leaktest.Main(m) }
