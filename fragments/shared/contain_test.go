package shared

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/inlayhq/inlay/fragments/shared/redistest"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// I5: a Redis Cluster is refused when the Store is made, with an error
// that names the limit: the tier's writes touch several keys (an entry and
// its tag sets) that a cluster keeps on different nodes, which made the
// Redis client panic on the first tagged write.
func TestClusterIsRefusedAtStart(t *testing.T) {
	cl := redistest.StartCluster(t)
	s, err := New(Config{URL: cl.URL(), Logger: slog.New(slog.DiscardHandler)})
	if err == nil {
		defer s.Close()
		// What a cluster did before it was refused: the first tagged
		// write panicked inside the client, on a goroutine of its own.
		_ = s.Set(context.Background(), "k", entryFor("v", time.Minute, time.Hour, "tag-a", "tag-b"))
		t.Fatal("New accepted a Redis Cluster")
	}
	for _, want := range []string{"Redis Cluster is not supported yet", "single primary"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// I5: a server that turns out to be a cluster node only once the Store
// reaches it (it was down when the Store was made) is refused too: the
// Store logs the limit at ERROR, stays unavailable, and its calls fail
// without reaching the server.
func TestClusterFoundAfterStartIsRefused(t *testing.T) {
	cl := redistest.StartCluster(t)
	node := cl.Nodes[0]
	node.Kill()
	s, logs := newStore(t, Config{URL: node.URL(""), OpenFor: 50 * time.Millisecond})
	node.Restart() // with its cluster state, from its folder
	tagged := entryFor("v", time.Minute, time.Hour, "tag-a", "tag-b")
	teamtest.WaitUntil(t, "the Store refuses the cluster", func() bool {
		_ = s.Set(context.Background(), "k", tagged)
		return strings.Contains(logs.String(), "Redis Cluster is not supported yet")
	})
	if s.Healthy() {
		t.Error("healthy on a cluster")
	}
	if err := s.Set(context.Background(), "k", tagged); err == nil {
		t.Error("Set on a cluster succeeded")
	}
	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("the refusal is not an ERROR:\n%s", logs)
	}
}

// I5: a panic below the Store, on the goroutine a round trip runs on (the
// Redis client's code), fails that call with ErrPanic, carrying the panic's
// stack; the process goes on and so does the Store.
func TestPanicBelowTheStoreIsContained(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	for _, tc := range []struct {
		op   string
		call func(ctx context.Context, s *Store) error
	}{
		{"get", func(ctx context.Context, s *Store) error { _, _, err := s.Get(ctx, "k"); return err }},
		{"set", func(ctx context.Context, s *Store) error {
			return s.Set(ctx, "k", entryFor("v", time.Minute, time.Hour, "tag"))
		}},
		{"lease", func(ctx context.Context, s *Store) error { _, err := s.Lease(ctx, "k", time.Second); return err }},
		{"peek", func(ctx context.Context, s *Store) error { _, _, err := s.Wait(ctx, "k"); return err }},
		{"release", func(ctx context.Context, s *Store) error { return s.Release(ctx, "k") }},
		{"purge", func(ctx context.Context, s *Store) error { _, err := s.Purge(ctx, "tag"); return err }},
	} {
		t.Run(tc.op, func(t *testing.T) {
			s, _ := newStore(t, Config{URL: srv.URL("")})
			fctx := WithFault(ctx, func(op string) {
				if op == tc.op {
					panic("client bug in " + op)
				}
			})
			err := tc.call(fctx, s)
			pe, ok := errors.AsType[*PanicError](err)
			if !ok || !errors.Is(err, ErrPanic) {
				t.Fatalf("got %v, want a PanicError", err)
			}
			if pe.Op != tc.op || !strings.Contains(string(pe.Stack), "TestPanicBelowTheStoreIsContained") {
				t.Errorf("panic error: op %q, stack:\n%s", pe.Op, pe.Stack)
			}
			if n := s.Stats().Panics; n != 1 {
				t.Errorf("panics counted: %d, want 1", n)
			}
			if err := s.Set(ctx, "k", entryFor("after", time.Minute, time.Hour)); err != nil {
				t.Errorf("Set after the panic: %v", err)
			}
			if e, ok, err := s.Get(ctx, "k"); err != nil || !ok || string(e.Body) != "after" {
				t.Errorf("Get after the panic: %q %v %v", e.Body, ok, err)
			}
		})
	}
}

// I5: a Store that panics on every call is turned off as one that fails on
// every call is: its breaker opens, and calls fail at once with
// ErrUnavailable without running the client.
func TestPanickingStoreOpensItsBreaker(t *testing.T) {
	srv := redistest.Start(t)
	s, _ := newStore(t, Config{URL: srv.URL(""), OpenFor: time.Hour})
	ran := 0
	ctx := WithFault(context.Background(), func(string) { ran++; panic("client bug") })
	for range DefaultFailures {
		if _, _, err := s.Get(ctx, "k"); !errors.Is(err, ErrPanic) {
			t.Fatalf("got %v, want ErrPanic", err)
		}
	}
	if _, _, err := s.Get(ctx, "k"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("after %d panics: got %v, want ErrUnavailable", DefaultFailures, err)
	}
	if ran != DefaultFailures || s.Healthy() {
		t.Errorf("the client ran %d times, healthy %v; want %d and false", ran, s.Healthy(), DefaultFailures)
	}
}

// I5: a panic in a function a purge message runs (OnInvalidate) is
// logged with its stack; the subscription goes on and the next purge
// message is handled.
func TestPanicOnInvalidateIsContained(t *testing.T) {
	srv := redistest.Start(t)
	s, logs := newStore(t, Config{URL: srv.URL("")})
	waitSubscribed(t, s)
	got := make(chan []string, 2)
	first := true
	s.OnInvalidate(func(keys []string) {
		if first {
			first = false
			panic("invalidate bug")
		}
		got <- keys
	})
	ctx := context.Background()
	for _, k := range []string{"a", "b"} {
		if err := s.Set(ctx, k, entryFor("v", time.Minute, time.Hour, "tag-"+k)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Purge(ctx, "tag-"+k); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case keys := <-got:
		if len(keys) != 1 || keys[0] != "b" {
			t.Errorf("second purge announced %q, want [b]", keys)
		}
	case <-time.After(teamtest.WaitLimit):
		t.Fatal("the second purge message was not handled")
	}
	if text := logs.String(); !strings.Contains(text, "invalidate bug") || !strings.Contains(text, "stack=") {
		t.Errorf("the panic is not logged with its stack:\n%s", text)
	}
}
