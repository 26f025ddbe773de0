package teamtest

import (
	"net"
	"testing"
	"time"
)

// WaitLimit bounds every WaitUntil.
const WaitLimit = 10 * time.Second

// WaitUntil checks cond every few milliseconds until it holds, and fails
// the test if it does not within WaitLimit. It is for a state the test
// cannot be told of by a channel (a counter reaching a value, a port
// accepting connections), never for time to pass.
func WaitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(WaitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s until %s", WaitLimit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Accepting reports whether addr accepts TCP connections now: for
// WaitUntil, while a server the test started comes up.
func Accepting(addr string) bool {
	c, err := net.Dial("tcp", addr)
	if err == nil {
		c.Close()
	}
	return err == nil
}
