package main

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// logWriter buffers log lines and writes them out when the buffer fills
// or every flushEvery, so that a busy server makes one write per batch of
// access-log lines instead of one per page. Close writes what is left.
type logWriter struct {
	mu   sync.Mutex // protects buf
	buf  *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

// logFlushInterval bounds how long a log line may wait in the buffer.
const logFlushInterval = 200 * time.Millisecond

func newLogWriter(w io.Writer) *logWriter {
	lw := &logWriter{buf: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go lw.flushLoop()
	return lw
}

// Write buffers p, which slog hands over one whole line at a time.
func (lw *logWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.buf.Write(p)
}

func (lw *logWriter) flushLoop() {
	defer close(lw.done)
	t := time.NewTicker(logFlushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			lw.flush()
		case <-lw.stop:
			lw.flush()
			return
		}
	}
}

func (lw *logWriter) flush() {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	_ = lw.buf.Flush()
}

// Close stops the flusher and writes out what is buffered.
func (lw *logWriter) Close() error {
	close(lw.stop)
	<-lw.done
	return nil
}
