package main

import (
	"bytes"
	"sync"
	"testing"
)

// lockedBuffer is a bytes.Buffer safe to read while it is written.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}

func TestLogWriterBuffersAndFlushesOnClose(t *testing.T) {
	out := &lockedBuffer{}
	lw := newLogWriter(out)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { lw.Write([]byte("a line\n")) })
	}
	wg.Wait()
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := out.Len(), 50*len("a line\n"); got != want {
		t.Errorf("after Close: got %d bytes written, want %d", got, want)
	}
}
