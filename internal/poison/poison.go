// Package poison makes a use of memory after it was given back visible
// in tests: once a test binary turns it on (in TestMain), a buffer given
// back to a pool is overwritten with a byte pattern no fragment sends, so
// that whatever still reads it reads the pattern, not the old bytes, and
// fails its assertions. A header map given back is emptied and left out
// of its pool, holding one field that names it released
// (fetch.PoisonField). It is off in Inlay itself.
package poison

import (
	"flag"
	"sync/atomic"
)

// Byte is the pattern's byte: 0xDB ("dead buffer"), not valid UTF-8 on
// its own and in no HTML a test sends.
const Byte = 0xDB

var on atomic.Bool

// Enable turns poisoning on for the whole process.
func Enable() { on.Store(true) }

// EnableUnlessBenchmarking turns poisoning on, unless the test binary
// runs benchmarks (-test.bench): they measure Inlay as it runs, without
// the pattern's writes. A TestMain calls it after flag.Parse.
func EnableUnlessBenchmarking() {
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		return
	}
	Enable()
}

// Enabled reports whether poisoning is on.
func Enabled() bool { return on.Load() }

// Fill overwrites b with the pattern when poisoning is on.
func Fill(b []byte) {
	if !on.Load() {
		return
	}
	for i := range b {
		b[i] = Byte
	}
}
