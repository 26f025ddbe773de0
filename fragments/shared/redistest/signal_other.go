//go:build !unix

package redistest

import "os"

// The signals that pause and resume a server: none here, so the tests
// that pause one are skipped.
var sigStop, sigCont os.Signal
