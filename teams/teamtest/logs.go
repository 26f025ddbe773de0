package teamtest

import (
	"bytes"
	"sync"
)

// Logs is a log sink safe for concurrent writers: the servers a test
// starts log into it, and the test reads what they wrote. A slog handler
// writes each record with one Write.
type Logs struct {
	mu  sync.Mutex // protects buf
	buf bytes.Buffer
}

// Write appends p.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything written so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Bytes returns a copy of everything written so far.
func (l *Logs) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.buf.Bytes())
}
