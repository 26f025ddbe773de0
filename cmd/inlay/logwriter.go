package main

import (
	"io"
	"sync"
	"time"
)

// logWriter buffers log lines and writes them out in batches, when a
// batch fills or every logFlushInterval, so that a busy server makes one
// write per batch of access-log lines instead of one per page. Close
// writes what is left.
//
// The writes happen on a goroutine of their own, never under the lock a
// page takes to add its line: a page that logs while a batch is being
// written appends to the other of two buffers and goes on. With one
// buffer, the page that filled it wrote it out holding the lock, and
// every page ending meanwhile queued behind that system call (see
// docs/benchmarks.md, "Waits and hashes"). A page waits for the
// output only when a whole batch is still being written as the next one
// fills: an output that slow holds the pages back, as it did before.
type logWriter struct {
	out  io.Writer
	size int // a batch's bytes, before it is handed off

	mu sync.Mutex // protects everything below
	// freed is signalled when the other buffer comes back from the
	// writing goroutine, or the writer closes.
	freed sync.Cond
	buf   []byte // the batch being filled
	// spare is the other buffer while it is free, and nil while it is
	// handed off: waiting in full, or being written. So at most one batch
	// waits while another is written.
	spare  []byte
	closed bool // Close has written everything: lines go straight out

	full chan []byte // the batch handed off, for the writing goroutine
	stop chan struct{}
	done chan struct{}
}

// logFlushInterval bounds how long a log line may wait in the buffer.
const logFlushInterval = 200 * time.Millisecond

// logBatchBytes is the size of a batch: some 250 access-log lines.
const logBatchBytes = 64 << 10

func newLogWriter(w io.Writer) *logWriter {
	return newLogWriterSize(w, logBatchBytes, logFlushInterval)
}

// newLogWriterSize is newLogWriter with the batch size and the flush
// interval given.
func newLogWriterSize(w io.Writer, size int, every time.Duration) *logWriter {
	lw := &logWriter{
		out: w, size: size,
		buf: make([]byte, 0, size), spare: make([]byte, 0, size),
		full: make(chan []byte, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	lw.freed.L = &lw.mu
	go lw.writeLoop(every)
	return lw
}

// Write buffers p, which slog hands over one whole line at a time.
func (lw *logWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	for !lw.closed && len(lw.buf) > 0 && len(lw.buf)+len(p) > lw.size {
		if lw.spare != nil {
			lw.handOff()
			break
		}
		lw.freed.Wait() // a whole batch is still being written: the output is that slow
	}
	if lw.closed {
		return lw.out.Write(p)
	}
	lw.buf = append(lw.buf, p...)
	return len(p), nil
}

// handOff hands the batch being filled to the writing goroutine, and
// fills the spare buffer from now on. lw.mu is held and spare is free,
// so full has room: the batch before it was written.
func (lw *logWriter) handOff() {
	lw.full <- lw.buf
	lw.buf, lw.spare = lw.spare, nil
}

// writeLoop writes the batches handed off, and every interval hands off
// the batch being filled, until Close: then it writes what is left.
func (lw *logWriter) writeLoop(every time.Duration) {
	defer close(lw.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case b := <-lw.full:
			_, _ = lw.out.Write(b)
			lw.mu.Lock()
			lw.spare = b[:0]
			lw.freed.Broadcast()
			lw.mu.Unlock()
		case <-t.C:
			lw.mu.Lock()
			if len(lw.buf) > 0 && lw.spare != nil {
				lw.handOff()
			}
			lw.mu.Unlock()
		case <-lw.stop:
			lw.mu.Lock()
			select {
			case b := <-lw.full: // the older batch first
				_, _ = lw.out.Write(b)
			default:
			}
			_, _ = lw.out.Write(lw.buf)
			lw.buf, lw.closed = nil, true
			lw.freed.Broadcast()
			lw.mu.Unlock()
			return
		}
	}
}

// Close writes out what is buffered, and stops the writing goroutine.
// Lines written after it go straight out.
func (lw *logWriter) Close() error {
	close(lw.stop)
	<-lw.done
	return nil
}
