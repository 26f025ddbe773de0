package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/inlayhq/inlay/teams/teamtest"
)

func TestLogWriterBuffersAndFlushesOnClose(t *testing.T) {
	out := &teamtest.Logs{}
	lw := newLogWriter(out)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { lw.Write([]byte("a line\n")) })
	}
	wg.Wait()
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := len(out.String()), 50*len("a line\n"); got != want {
		t.Errorf("after Close: got %d bytes written, want %d", got, want)
	}
	lw.Write([]byte("after Close\n"))
	if !strings.HasSuffix(out.String(), "after Close\n") {
		t.Error("a line written after Close was not written out")
	}
}

// TestLogWriterKeepsTheOrderOfLines writes many batches' worth of lines,
// and finds them all, in the order written.
func TestLogWriterKeepsTheOrderOfLines(t *testing.T) {
	out := &teamtest.Logs{}
	lw := newLogWriterSize(out, 100, time.Hour)
	var want strings.Builder
	for i := range 2000 {
		line := fmt.Sprintf("line %d\n", i)
		want.WriteString(line)
		lw.Write([]byte(line))
	}
	lw.Close()
	if got := out.String(); got != want.String() {
		t.Errorf("got %d bytes, want the %d written, in order", len(got), want.Len())
	}
}

// gatedOutput is an output whose first Write waits until the test opens
// its gate.
type gatedOutput struct {
	teamtest.Logs
	once    sync.Once
	entered chan struct{} // closed when the first Write began
	gate    chan struct{} // closed by the test to let it through
}

func (g *gatedOutput) Write(p []byte) (int, error) {
	g.once.Do(func() {
		close(g.entered)
		<-g.gate
	})
	return g.Logs.Write(p)
}

// TestLogWriterDoesNotWaitForTheOutput holds the output in its first
// write: lines logged meanwhile are buffered, and the Write of each
// returns at once. Written under the lock, they would all wait for the
// output, as pages did.
func TestLogWriterDoesNotWaitForTheOutput(t *testing.T) {
	out := &gatedOutput{entered: make(chan struct{}), gate: make(chan struct{})}
	lw := newLogWriterSize(out, 64, time.Hour)
	line := []byte(strings.Repeat("x", 15) + "\n") // 16 bytes: 4 fill a batch
	for range 5 {
		lw.Write(line) // the fifth hands the first batch off
	}
	<-out.entered
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		for range 3 { // the second batch fills; the output still holds the first
			lw.Write(line)
		}
	}()
	select {
	case <-wrote:
	case <-time.After(10 * time.Second):
		t.Fatal("Write waited for the output, which holds the batch before")
	}
	close(out.gate)
	lw.Close()
	if got, want := len(out.String()), 8*len(line); got != want {
		t.Errorf("after Close: got %d bytes written, want %d", got, want)
	}
}

// TestLogWriterFlushesEveryInterval writes a line and no more: it goes
// out at the next flush, with no batch filled and no Close.
func TestLogWriterFlushesEveryInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		out := &teamtest.Logs{}
		lw := newLogWriterSize(out, 1<<10, logFlushInterval)
		defer lw.Close()
		lw.Write([]byte("one line\n"))
		time.Sleep(logFlushInterval / 2)
		synctest.Wait()
		if got := out.String(); got != "" {
			t.Errorf("before the interval: got %q written, want nothing yet", got)
		}
		time.Sleep(logFlushInterval / 2)
		synctest.Wait()
		if got := out.String(); got != "one line\n" {
			t.Errorf("after the interval: got %q written, want the line", got)
		}
	})
}
