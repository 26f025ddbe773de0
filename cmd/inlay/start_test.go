package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// startInlay runs run (serve, dev or demo, named what) until the test
// ends, and returns the base URL it listens on once it calls ready, which
// must be within 20s.
func startInlay(t *testing.T, what string, run func(ctx context.Context, ready func(addr string)) error) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(a string) { addr <- a }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: %v", what, err)
		}
	})
	select {
	case a := <-addr:
		return "http://" + a
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("%s did not start: %v", what, err)
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not start within 20s", what)
	}
	return ""
}

// serveFile runs `serve` on the config file at path, on a free loopback
// port, until the test ends, with its JSON logs in logs (discarded when
// nil), and returns its base URL.
func serveFile(t *testing.T, path string, logs *teamtest.Logs) string {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen = "127.0.0.1:0"
	logger := slog.New(slog.DiscardHandler)
	if logs != nil {
		logger = slog.New(slog.NewJSONHandler(logs, nil))
	}
	return startInlay(t, "serve", func(ctx context.Context, ready func(string)) error {
		return serve(ctx, cfg, nil, logger, ready)
	})
}
