package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any test leaves a goroutine behind: a server
// not shut down, a watcher not stopped, a fetch still running. The browser
// tests' chromedp goroutines all end when their contexts are cancelled, so
// nothing needs ignoring.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
