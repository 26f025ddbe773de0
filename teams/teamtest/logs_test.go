package teamtest_test

import (
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/inlayhq/inlay/teams/teamtest"
)

// Concurrent writers lose nothing and do not interleave within a record.
func TestLogsTakesConcurrentWriters(t *testing.T) {
	var logs teamtest.Logs
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				logger.Info("hello", "k", strings.Repeat("v", 64))
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(logs.String(), "\n"), "\n")
	if len(lines) != writers*each {
		t.Fatalf("got %d lines, want %d", len(lines), writers*each)
	}
	for _, l := range lines {
		if !strings.HasSuffix(l, "msg=hello k="+strings.Repeat("v", 64)) {
			t.Fatalf("a mangled line: %q", l)
		}
	}
	b := logs.Bytes()
	b[0] = '!'
	if logs.String()[0] == '!' {
		t.Error("Bytes returned the sink's own buffer, want a copy")
	}
}
