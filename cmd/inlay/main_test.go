package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"go.uber.org/goleak"
)

// childCommand, set in a test binary's environment, makes it run the
// inlay command line in it instead of the tests: a test that measures a
// whole process (its peak RSS) starts the test binary itself as Inlay.
const childCommand = "INLAY_TEST_RUN_INLAY"

// TestMain fails the run if any test leaves a goroutine behind: a server
// not shut down, a watcher not stopped, a fetch still running. The browser
// tests' chromedp goroutines all end when their contexts are cancelled, so
// nothing needs ignoring.
func TestMain(m *testing.M) {
	if os.Getenv(childCommand) != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/redis/rueidis.(*call).DelayDo.func1")) // the shared tier's reconnection backoff, which ends by itself
}
