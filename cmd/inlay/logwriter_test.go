package main

import (
	"sync"
	"testing"

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
}
