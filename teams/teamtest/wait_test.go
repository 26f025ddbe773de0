package teamtest_test

import (
	"net"
	"sync/atomic"
	"testing"

	"github.com/inlayhq/inlay/teams/teamtest"
)

func TestAccepting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if !teamtest.Accepting(addr) {
		t.Errorf("Accepting(%s) = false with a listener on it", addr)
	}
	ln.Close()
	if teamtest.Accepting(addr) {
		t.Errorf("Accepting(%s) = true after its listener closed", addr)
	}
}

func TestWaitUntilReturnsOnceTheConditionHolds(t *testing.T) {
	var calls atomic.Int64
	teamtest.WaitUntil(t, "the third check", func() bool { return calls.Add(1) == 3 })
	if n := calls.Load(); n != 3 {
		t.Errorf("cond called %d times, want 3", n)
	}
}
