package fetch

import (
	"testing"

	"github.com/inlayhq/inlay/internal/leaktest"
)

// TestMain fails the run if any test leaves a goroutine behind, with body
// buffers and header maps poisoned once given back (see [leaktest.Main]).
func TestMain(m *testing.M) { leaktest.Main(m) }
