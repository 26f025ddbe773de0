package shared

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlayhq/inlay/teams/teamtest"

	"github.com/inlayhq/inlay/fragments/shared/redistest"
	"github.com/redis/rueidis"
	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves a goroutine behind: a Store's
// watcher, subscription or round trip that Close did not end.
//
// rueidis spaces reconnection attempts with a sleeping goroutine
// ((*call).DelayDo) that its Close does not stop; it ends by itself within
// about a second, so it is ignored.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/redis/rueidis.(*call).DelayDo.func1"))
}

// semanticTimeout is the call deadline of the tests about what the tier
// stores and whom it wakes: with -race on a busy CI machine one round trip
// can take longer than the 20ms default, which would fail the call as
// designed but say nothing about its meaning. The tests of the deadline
// itself set DefaultTimeout.
const semanticTimeout = time.Second

// newStore makes a Store on srv's URL, closed when the test ends. A zero
// Timeout means semanticTimeout.
func newStore(t *testing.T, cfg Config) (*Store, *teamtest.Logs) {
	t.Helper()
	if cfg.Timeout == 0 {
		cfg.Timeout = semanticTimeout
	}
	logs := &teamtest.Logs{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, logs
}

// rawClient is a plain client for looking inside the server.
func rawClient(t *testing.T, srv *redistest.Server) rueidis.Client {
	t.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{srv.Addr}, DisableCache: true})
	if err != nil {
		t.Fatalf("raw client: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// waitSubscribed blocks until the Store's subscription is active, so that
// a test relying on pub/sub does not race with it.
func waitSubscribed(t *testing.T, s *Store) {
	t.Helper()
	select {
	case <-s.subscribed:
	case <-time.After(5 * time.Second):
		t.Fatal("the Store did not subscribe within 5s")
	}
}

func entryFor(body string, fresh, sie time.Duration, tags ...string) Entry {
	now := time.Now()
	return Entry{
		Status:     200,
		Header:     http.Header{"Content-Type": {"text/html; charset=utf-8"}},
		Body:       []byte(body),
		Stored:     now,
		FreshUntil: now.Add(fresh),
		SIEUntil:   now.Add(sie),
		Tags:       tags,
	}
}

func TestSetGetRoundTripWithTTL(t *testing.T) {
	srv := redistest.Start(t)
	s, _ := newStore(t, Config{URL: srv.URL("")})
	raw := rawClient(t, srv)
	ctx := context.Background()

	if _, found, err := s.Get(ctx, "shell /header"); err != nil || found {
		t.Fatalf("Get before Set: found %t, err %v; want a miss", found, err)
	}
	want := entryFor("<header>hi</header>", time.Second, 3*time.Second)
	if err := s.Set(ctx, "shell /header", want); err != nil {
		t.Fatalf("Set: %v", err)
	}
	got, found, err := s.Get(ctx, "shell /header")
	if err != nil || !found {
		t.Fatalf("Get: found %t, err %v", found, err)
	}
	if !got.Equal(&want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// The server keeps the entry until its stale-if-error window ends.
	pttl, err := raw.Do(ctx, raw.B().Pttl().Key(s.names.entry(hash("shell /header"))).Build()).AsInt64()
	if err != nil || pttl <= 2000 || pttl > 3000 {
		t.Errorf("PTTL %d (%v), want the stale-if-error window, 2000 < ttl <= 3000 ms", pttl, err)
	}
	// Read twice: the second read may come from the client-side cache,
	// and must be the same.
	if again, _, _ := s.Get(ctx, "shell /header"); !again.Equal(&want) {
		t.Errorf("second Get: got %+v, want %+v", again, want)
	}
	// A new value replaces the old, also in the client-side cache.
	newer := entryFor("<header>new</header>", time.Second, 3*time.Second)
	if err := s.Set(ctx, "shell /header", newer); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.Get(ctx, "shell /header"); string(got.Body) != "<header>new</header>" {
		t.Errorf("after a new Set: got body %q, want the new one", got.Body)
	}

	// An entry past all its windows is not stored.
	if err := s.Set(ctx, "gone", entryFor("x", -time.Second, -time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := s.Get(ctx, "gone"); found {
		t.Error("an expired entry was stored")
	}
	st := s.Stats()
	if st.Hits != 3 || st.Misses != 2 || st.Sets != 2 {
		t.Errorf("stats %+v: want 3 hits, 2 misses, 2 sets", st)
	}
}

// TestClientCacheFollowsOtherReplicasWrites: a replica's client-side copy
// answers repeated reads without a round trip, and a write by another
// replica replaces it within the server's invalidation push.
func TestClientCacheFollowsOtherReplicasWrites(t *testing.T) {
	srv := redistest.Start(t)
	a, _ := newStore(t, Config{URL: srv.URL("")})
	b, _ := newStore(t, Config{URL: srv.URL("")})
	ctx := context.Background()
	if err := a.Set(ctx, "k", entryFor("v1", time.Minute, time.Hour)); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if e, _, err := b.Get(ctx, "k"); err != nil || string(e.Body) != "v1" {
			t.Fatalf("b.Get: %q, %v; want v1", e.Body, err)
		}
	}
	if st := b.Stats(); st.ClientCacheHits != 2 {
		t.Errorf("client-side cache hits %d, want 2 (the reads after the first)", st.ClientCacheHits)
	}
	if err := a.Set(ctx, "k", entryFor("v2", time.Minute, time.Hour)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for {
		e, _, err := b.Get(ctx, "k")
		if err == nil && string(e.Body) == "v2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("b still reads %q (%v) 1s after a's write", e.Body, err)
		}
	}
}

func TestSetRefusesLargeEntries(t *testing.T) {
	srv := redistest.Start(t)
	s, _ := newStore(t, Config{URL: srv.URL(""), MaxEntryBytes: 1024})
	err := s.Set(context.Background(), "big", entryFor(strings.Repeat("x", 1024), time.Minute, time.Minute))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	if _, found, _ := s.Get(context.Background(), "big"); found {
		t.Error("the large entry was stored")
	}
}

func TestLeaseIsExclusive(t *testing.T) {
	srv := redistest.Start(t)
	a, _ := newStore(t, Config{URL: srv.URL("")})
	b, _ := newStore(t, Config{URL: srv.URL("")})
	const callers = 100
	var holders, errs atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range callers {
		s := a
		if i%2 == 1 {
			s = b // two replicas
		}
		wg.Go(func() {
			<-start
			// A generous deadline: 100 callers at once on a shared
			// machine; the default 20ms is for page traffic.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			ok, err := s.Lease(ctx, "search /results?q=shoes", 10*time.Second)
			if err != nil {
				errs.Add(1)
			}
			if ok {
				holders.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if holders.Load() != 1 {
		t.Errorf("%d lease holders among %d callers, want exactly 1", holders.Load(), callers)
	}
	if n := errs.Load(); n > 0 {
		t.Logf("%d callers failed (deadline); they count as non-holders", n)
	}
}

func TestWaitersWokenByRelease(t *testing.T) {
	srv := redistest.Start(t)
	holder, _ := newStore(t, Config{URL: srv.URL("")})
	// Polling so slow that only the pub/sub message can wake the waiter
	// within the test's deadline.
	waiter, _ := newStore(t, Config{URL: srv.URL(""), PollInterval: time.Hour})
	waitSubscribed(t, waiter)
	ctx := context.Background()
	const key = "basket /mini"

	if ok, err := holder.Lease(ctx, key, 10*time.Second); !ok || err != nil {
		t.Fatalf("Lease: %t, %v", ok, err)
	}
	if ok, _ := waiter.Lease(ctx, key, 10*time.Second); ok {
		t.Fatal("a second replica took a held lease")
	}
	type result struct {
		e     Entry
		found bool
		err   error
	}
	done := make(chan result, 1)
	waiting := make(chan struct{})
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		close(waiting)
		e, found, err := waiter.Wait(wctx, key)
		done <- result{e, found, err}
	}()
	<-waiting
	// The holder's result arrives; whether the waiter's first look was
	// before or after Set, Release's message (or that look) gives it.
	if err := holder.Set(ctx, key, entryFor("<b>2 items</b>", time.Minute, time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := holder.Release(ctx, key); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.err != nil || !r.found || string(r.e.Body) != "<b>2 items</b>" {
			t.Fatalf("Wait: %q, found %t, err %v", r.e.Body, r.found, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter was not woken")
	}
	if ok, err := waiter.Lease(ctx, key, time.Second); !ok || err != nil {
		t.Errorf("after Release, Lease got %t, %v; want the lease free", ok, err)
	}
}

// TestWaitersWokenOnlyByRelease proves the pub/sub path: the waiter's
// first look finds the lease held and no entry, and with polling off only
// the message can end its wait.
func TestWaitersWokenOnlyByRelease(t *testing.T) {
	srv := redistest.Start(t)
	holder, _ := newStore(t, Config{URL: srv.URL("")})
	waiter, _ := newStore(t, Config{URL: srv.URL(""), PollInterval: time.Hour})
	waitSubscribed(t, waiter)
	looks := make(chan [2]bool, 4)
	waiter.afterPeek = func(found, leased bool) { looks <- [2]bool{found, leased} }
	ctx := context.Background()
	const key = "basket /mini"
	if ok, _ := holder.Lease(ctx, key, 10*time.Second); !ok {
		t.Fatal("no lease")
	}
	done := make(chan error, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, _, err := waiter.Wait(wctx, key)
		done <- err
	}()
	if first := <-looks; first != [2]bool{false, true} {
		t.Fatalf("first look (found, leased) = %v, want [false true]", first)
	}
	if err := holder.Set(ctx, key, entryFor("b", time.Minute, time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := holder.Release(ctx, key); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter was not woken by Release")
	}
	if second := <-looks; !second[0] {
		t.Errorf("second look found no entry")
	}
}

func TestWaitPollsWithoutMessage(t *testing.T) {
	srv := redistest.Start(t)
	holder, _ := newStore(t, Config{URL: srv.URL("")})
	waiter, _ := newStore(t, Config{URL: srv.URL(""), PollInterval: 10 * time.Millisecond})
	ctx := context.Background()
	const key = "search /facets"
	if ok, _ := holder.Lease(ctx, key, 10*time.Second); !ok {
		t.Fatal("no lease")
	}
	done := make(chan Entry, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		e, _, err := waiter.Wait(wctx, key)
		if err != nil {
			t.Error(err)
		}
		done <- e
	}()
	// The result is stored but never announced (no Release), as when
	// the message is lost: polling finds it.
	if err := holder.Set(ctx, key, entryFor("facets", time.Minute, time.Hour)); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-done:
		if string(e.Body) != "facets" {
			t.Errorf("got body %q, want %q", e.Body, "facets")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("polling did not find the result")
	}
}

func TestDeadHolderFreesKeyAfterLease(t *testing.T) {
	srv := redistest.Start(t)
	holder, err := New(Config{URL: srv.URL(""), Timeout: semanticTimeout, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	waiter, _ := newStore(t, Config{URL: srv.URL(""), PollInterval: 10 * time.Millisecond})
	ctx := context.Background()
	const key = "shell /footer"
	const lease = 300 * time.Millisecond
	if ok, _ := holder.Lease(ctx, key, lease); !ok {
		t.Fatal("no lease")
	}
	holder.Close() // dies holding the lease
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, found, err := waiter.Wait(wctx, key)
	if err != nil || found {
		t.Fatalf("Wait: found %t, err %v; want (false, nil) once the lease ends", found, err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("waited %v for a %v lease", waited, lease)
	}
	if ok, err := waiter.Lease(ctx, key, time.Second); !ok || err != nil {
		t.Errorf("Lease after the holder died: %t, %v; want it free", ok, err)
	}
}

func TestWaitEndsWithItsContext(t *testing.T) {
	srv := redistest.Start(t)
	holder, _ := newStore(t, Config{URL: srv.URL("")})
	waiter, _ := newStore(t, Config{URL: srv.URL("")})
	ctx := context.Background()
	if ok, _ := holder.Lease(ctx, "k", 10*time.Second); !ok {
		t.Fatal("no lease")
	}
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, _, err := waiter.Wait(wctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want DeadlineExceeded", err)
	}
	if st := waiter.Stats(); st.LeaseWaits != 1 || st.LeaseTimeouts != 1 {
		t.Errorf("stats %+v: want 1 lease wait and 1 timeout", st)
	}
}

func TestPurgeByTagDropsAndNotifies(t *testing.T) {
	srv := redistest.Start(t)
	a, _ := newStore(t, Config{URL: srv.URL("")})
	b, _ := newStore(t, Config{URL: srv.URL("")})
	waitSubscribed(t, b)
	got := make(chan []string, 4)
	b.OnInvalidate(func(keys []string) { got <- keys })
	ctx := context.Background()

	entries := map[string][]string{
		"basket /mini?sku=1": {"basket", "sku-1"},
		"basket /mini?sku=2": {"basket"},
		"search /box":        {"search"},
	}
	for key, tags := range entries {
		if err := a.Set(ctx, key, entryFor(key, time.Minute, time.Hour, tags...)); err != nil {
			t.Fatal(err)
		}
	}
	// b reads one first, so its client-side cache holds a copy.
	if _, found, _ := b.Get(ctx, "basket /mini?sku=1"); !found {
		t.Fatal("b does not see a's entry")
	}
	start := time.Now()
	n, err := a.Purge(ctx, "basket")
	if err != nil || n != 2 {
		t.Fatalf("Purge: %d, %v; want 2 entries dropped", n, err)
	}
	// How soon b hears is logged, not asserted (I6); 10s guards against
	// a purge never heard.
	select {
	case keys := <-got:
		t.Logf("b heard of the purge after %v", time.Since(start))
		want := map[string]bool{"basket /mini?sku=1": true, "basket /mini?sku=2": true}
		if len(keys) != 2 || !want[keys[0]] || !want[keys[1]] {
			t.Errorf("invalidated keys %q, want the two basket keys", keys)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("b did not hear of the purge within 10s")
	}
	for key := range entries {
		_, found, err := b.Get(ctx, key)
		if want := key == "search /box"; found != want || err != nil {
			t.Errorf("after purge, %q found %t (%v); want %t", key, found, err, want)
		}
	}
	// The tag is gone: purging it again drops nothing.
	if n, err := a.Purge(ctx, "basket"); n != 0 || err != nil {
		t.Errorf("second Purge: %d, %v; want 0", n, err)
	}
	if st := a.Stats(); st.Purges != 2 || st.Purged != 2 {
		t.Errorf("stats %+v: want 2 purges, 2 entries purged", st)
	}
}

func TestKeyNamesHoldNoInput(t *testing.T) {
	srv := redistest.Start(t)
	s, _ := newStore(t, Config{URL: srv.URL("")})
	raw := rawClient(t, srv)
	ctx := context.Background()
	const key = "basket /mini?customer=alice@example.com"
	if err := s.Set(ctx, key, entryFor("x", time.Minute, time.Hour, "team-basket")); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Lease(ctx, key, time.Minute); !ok {
		t.Fatal("no lease")
	}
	var all []string
	var cursor uint64
	for {
		e, err := raw.Do(ctx, raw.B().Scan().Cursor(cursor).Count(100).Build()).AsScanEntry()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, e.Elements...)
		if cursor = e.Cursor; cursor == 0 {
			break
		}
	}
	if len(all) != 3 {
		t.Errorf("keys %q, want 3: entry, lease, tag set", all)
	}
	for _, k := range all {
		if !strings.HasPrefix(k, "inlay:v1:") {
			t.Errorf("key %q is outside the inlay:v1: namespace", k)
		}
		for _, input := range []string{"alice", "basket", "mini", "example"} {
			if strings.Contains(k, input) {
				t.Errorf("key %q contains caller input %q", k, input)
			}
		}
	}
}

func TestRedisDownFailsFastAndRecovers(t *testing.T) {
	srv := redistest.Start(t)
	s, logs := newStore(t, Config{URL: srv.URL(""), Timeout: DefaultTimeout})
	ctx := context.Background()
	if !s.Healthy() {
		t.Fatal("not healthy at start")
	}

	srv.Kill()
	took := failFast(t, 20, func(ctx context.Context) error { _, _, err := s.Get(ctx, "k"); return err })
	t.Logf("failing Gets took %v", took)
	if s.Healthy() {
		t.Error("healthy with the server killed")
	}
	if _, _, err := s.Get(ctx, "k"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("with the breaker open, got %v, want ErrUnavailable", err)
	}

	srv.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for !s.Healthy() {
		if time.Now().After(deadline) {
			t.Fatal("not healthy again 10s after the server came back")
		}
		time.Sleep(10 * time.Millisecond) // the watcher probes on its own
	}
	// The tier is used again: the restarted server is empty (no
	// persistence), so a Get is a clean miss, and a Set lands. A call may
	// still meet the client's reconnection on another connection, and its
	// 20ms deadline, so each gets a few seconds to succeed.
	for _, step := range []struct {
		name string
		call func() error
	}{
		{"Get", func() error {
			_, found, err := s.Get(ctx, "k")
			if err == nil && found {
				return errors.New("found an entry in an empty server")
			}
			return err
		}},
		{"Set", func() error { return s.Set(ctx, "k", entryFor("v2", time.Minute, time.Hour)) }},
	} {
		deadline := time.Now().Add(5 * time.Second)
		for err := step.call(); err != nil; err = step.call() {
			if time.Now().After(deadline) {
				t.Fatalf("%s after restart: %v", step.name, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// The subscription is back too: another replica's purge reaches this
	// one. (It subscribes again within a probe interval; the purge is
	// repeated until then, each with an entry of its own.)
	other, _ := newStore(t, Config{URL: srv.URL("")})
	invalidated := make(chan []string, 16)
	s.OnInvalidate(func(keys []string) { invalidated <- keys })
	deadline = time.Now().Add(5 * time.Second)
	for heard := false; !heard; {
		if err := other.Set(ctx, "tagged", entryFor("v", time.Minute, time.Hour, "t")); err != nil {
			t.Fatal(err)
		}
		if _, err := other.Purge(ctx, "t"); err != nil {
			t.Fatal(err)
		}
		select {
		case <-invalidated:
			heard = true
		case <-time.After(100 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("no purge heard 5s after the server came back")
			}
		}
	}
	// One WARN when it went down, one when it came back.
	text := logs.String()
	if down, up := strings.Count(text, "shared cache tier unavailable"), strings.Count(text, "available again"); down != 1 || up != 1 {
		t.Errorf("logged %d down and %d up lines, want 1 each:\n%s", down, up, text)
	}
}

// failFast makes n calls that must fail, each under a context of its own
// that only guards against a hang, and checks that the Store's own
// deadline or breaker ended every one of them: the caller's context is
// still alive when the call returns. A call waiting on a dead server would
// instead cost the client's 1s dial timeout, or run into the guard; each
// must stay under that second, 50 times the Store's Timeout. No bound near
// the Timeout is asserted: that would measure the machine's scheduler
// under -race, not the Store (I6).
func failFast(t *testing.T, n int, call func(ctx context.Context) error) []time.Duration {
	t.Helper()
	const hangGuard, dialTimeout = 30 * time.Second, time.Second
	took := make([]time.Duration, n)
	for i := range n {
		ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
		start := time.Now()
		err := call(ctx)
		took[i] = time.Since(start)
		guarded := ctx.Err()
		cancel()
		if err == nil {
			t.Fatalf("call %d succeeded with the server gone", i)
		}
		if guarded != nil {
			t.Fatalf("call %d ran into the test's %v hang guard: the Store's own deadline never ended it", i, hangGuard)
		}
		if took[i] >= dialTimeout {
			t.Errorf("call %d took %v, want under the client's %v dial timeout (the Store's own deadline is %v)", i, took[i], dialTimeout, DefaultTimeout)
		}
	}
	return took
}

func TestRedisPausedFailsFast(t *testing.T) {
	srv := redistest.Start(t)
	s, _ := newStore(t, Config{URL: srv.URL(""), Timeout: DefaultTimeout})
	if !s.Healthy() {
		t.Fatal("not healthy at start")
	}
	srv.Pause()
	defer srv.Resume()
	took := failFast(t, 20, func(ctx context.Context) error { _, err := s.Lease(ctx, "other", time.Second); return err })
	t.Logf("failing Leases took %v", took)
	if s.Healthy() {
		t.Error("healthy with the server stuck")
	}
	srv.Resume()
	deadline := time.Now().Add(10 * time.Second)
	for !s.Healthy() {
		if time.Now().After(deadline) {
			t.Fatal("not healthy again 10s after the server resumed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStartsWithoutServer(t *testing.T) {
	srv := redistest.Start(t)
	srv.Kill()
	s, logs := newStore(t, Config{URL: srv.URL("")})
	if s.Healthy() {
		t.Fatal("healthy without a server")
	}
	if _, _, err := s.Get(context.Background(), "k"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("got %v, want ErrUnavailable", err)
	}
	srv.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for !s.Healthy() {
		if time.Now().After(deadline) {
			t.Fatal("not connected 10s after the server started")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.Set(context.Background(), "k", entryFor("v", time.Minute, time.Hour)); err != nil {
		t.Errorf("Set once connected: %v", err)
	}
	if !strings.Contains(logs.String(), "available again") {
		t.Errorf("no line saying the tier is back:\n%s", logs)
	}
}

func TestPasswordNeverInLogsOrErrors(t *testing.T) {
	const password = "s3cret-Pa55"
	srv := redistest.Start(t, "--requirepass", password)
	s, logs := newStore(t, Config{URL: srv.URL(password)})
	ctx := context.Background()
	if err := s.Set(ctx, "k", entryFor("v", time.Minute, time.Hour)); err != nil {
		t.Fatalf("Set with the password: %v", err)
	}
	srv.Kill() // logs a WARN naming the URL
	for range 10 {
		_, _, _ = s.Get(ctx, "k")
	}
	if !strings.Contains(logs.String(), "unavailable") {
		t.Fatalf("no WARN logged:\n%s", logs)
	}
	// A wrong password: New logs, and its error (if any) is clean too.
	srv.Restart()
	_, wrongLogs := newStore(t, Config{URL: srv.URL("wrong-" + password)})
	var errs []string
	for _, bad := range []string{"redis://:" + password + "@[::1", "http://:" + password + "@x", "redis://:" + password + "@/0"} {
		if _, err := New(Config{URL: bad}); err == nil {
			t.Errorf("New(%s) succeeded", Redacted(bad))
		} else {
			errs = append(errs, err.Error())
		}
	}
	for name, text := range map[string]string{"logs": logs.String(), "wrong password logs": wrongLogs.String(), "errors": strings.Join(errs, "\n")} {
		if strings.Contains(text, password) {
			t.Errorf("the password is in the %s:\n%s", name, text)
		}
	}
	if !strings.Contains(logs.String(), "redis://:xxxxx@"+srv.Addr) {
		t.Errorf("the logs do not name the redacted URL:\n%s", logs)
	}
}

func TestConfigPrintsRedacted(t *testing.T) {
	cfg := Config{URL: "redis://:hunter2@valkey:6379/0"}
	var logged teamtest.Logs
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "cfg", cfg)
	for _, text := range []string{fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", &cfg), logged.String()} {
		if strings.Contains(text, "hunter2") || !strings.Contains(text, "xxxxx") {
			t.Errorf("got %s, want the URL redacted", text)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	cases := []struct{ name, url, ns, want string }{
		{"scheme", "http://x", "", "scheme must be redis or rediss"},
		{"no host", "redis:///0", "", "no host"},
		{"bad db", "redis://x/abc", "", "invalid database number"},
		{"namespace", "redis://x", "a b", "namespace"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Config{URL: tc.url, Namespace: tc.ns})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestReleaseLeavesOthersLease(t *testing.T) {
	srv := redistest.Start(t)
	a, _ := newStore(t, Config{URL: srv.URL("")})
	b, _ := newStore(t, Config{URL: srv.URL("")})
	ctx := context.Background()
	if ok, _ := a.Lease(ctx, "k", 10*time.Second); !ok {
		t.Fatal("no lease")
	}
	// b's lease on k expired long ago, say, and it releases late.
	if err := b.Release(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := b.Lease(ctx, "k", time.Second); ok {
		t.Error("b's Release dropped a's lease")
	}
	if err := a.Release(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := b.Lease(ctx, "k", time.Second); !ok {
		t.Error("a's Release did not drop its lease")
	}
}

// TestWaitGetsStaleCopyWhenHolderFails: the holder's fetch failed and it
// released without a result; the waiter gets the stale copy, to serve
// within stale-if-error or to fetch itself.
func TestWaitGetsStaleCopyWhenHolderFails(t *testing.T) {
	srv := redistest.Start(t)
	holder, _ := newStore(t, Config{URL: srv.URL("")})
	waiter, _ := newStore(t, Config{URL: srv.URL(""), PollInterval: time.Hour})
	waitSubscribed(t, waiter)
	looks := make(chan bool, 4)
	waiter.afterPeek = func(found, leased bool) { looks <- leased }
	ctx := context.Background()
	const key = "search /box"
	if err := holder.Set(ctx, key, entryFor("old", -time.Second, time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ok, _ := holder.Lease(ctx, key, 10*time.Second); !ok {
		t.Fatal("no lease")
	}
	type result struct {
		e     Entry
		found bool
		err   error
	}
	done := make(chan result, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		e, found, err := waiter.Wait(wctx, key)
		done <- result{e, found, err}
	}()
	// The stale copy does not end the wait while the lease is held.
	if leased := <-looks; !leased {
		t.Fatal("first look: lease not held")
	}
	if err := holder.Release(ctx, key); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || !r.found || string(r.e.Body) != "old" || r.e.Fresh(time.Now()) {
		t.Errorf("Wait: body %q, found %t, err %v; want the stale copy", r.e.Body, r.found, r.err)
	}
}

func TestTagSetsLastAsLongAsTheirEntries(t *testing.T) {
	srv := redistest.Start(t)
	s, _ := newStore(t, Config{URL: srv.URL("")})
	raw := rawClient(t, srv)
	ctx := context.Background()
	pttl := func(name string) int64 {
		t.Helper()
		n, err := raw.Do(ctx, raw.B().Pttl().Key(name).Build()).AsInt64()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := s.Set(ctx, "a", entryFor("a", time.Second, 10*time.Second, "t")); err != nil {
		t.Fatal(err)
	}
	if got := pttl(s.names.tag("t")); got < 9000 || got > 10000 {
		t.Errorf("tag set PTTL %d, want the entry's ~10000", got)
	}
	// A longer-lived entry extends the set; a shorter one leaves it.
	if err := s.Set(ctx, "b", entryFor("b", time.Second, 100*time.Second, "t")); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "c", entryFor("c", time.Second, 2*time.Second, "t")); err != nil {
		t.Fatal(err)
	}
	if got := pttl(s.names.tag("t")); got < 99000 {
		t.Errorf("tag set PTTL %d, want the longest entry's ~100000", got)
	}
	members, err := raw.Do(ctx, raw.B().Smembers().Key(s.names.tag("t")).Build()).AsStrSlice()
	if err != nil || len(members) != 3 {
		t.Errorf("tag set members %q (%v), want the 3 keys", members, err)
	}
}

func TestPurgeNotifiesItsOwnReplicaToo(t *testing.T) {
	srv := redistest.Start(t)
	s, _ := newStore(t, Config{URL: srv.URL("")})
	waitSubscribed(t, s)
	got := make(chan []string, 1)
	s.OnInvalidate(func(keys []string) { got <- keys })
	ctx := context.Background()
	if err := s.Set(ctx, "k", entryFor("v", time.Minute, time.Hour, "t")); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Purge(ctx, "t", "unknown"); n != 1 || err != nil {
		t.Fatalf("Purge: %d, %v; want 1", n, err)
	}
	select {
	case keys := <-got:
		if len(keys) != 1 || keys[0] != "k" {
			t.Errorf("invalidated %q, want [k]", keys)
		}
	case <-time.After(10 * time.Second): // a hang guard (I6)
		t.Fatal("no invalidation within 10s")
	}
	if st := s.Stats(); st.Invalidations != 1 {
		t.Errorf("stats %+v: want 1 invalidation", st)
	}
}

func TestPurgeFailsFastWithServerDown(t *testing.T) {
	srv := redistest.Start(t)
	s, _ := newStore(t, Config{URL: srv.URL("")})
	srv.Kill()
	start := time.Now()
	_, err := s.Purge(context.Background(), "t")
	if err == nil {
		t.Fatal("Purge succeeded with the server killed")
	}
	if d := time.Since(start); d > purgeTimeout {
		t.Errorf("Purge took %v, want under its %v deadline", d, purgeTimeout)
	}
}

func TestTLS(t *testing.T) {
	const password = "tls-s3cret"
	srv := redistest.StartTLS(t, "--requirepass", password)
	ctx := context.Background()
	// The TLS handshake, not the dial deadline, is under test: on a busy
	// machine under -race a handshake can take longer than the 1s default,
	// and the Store would then say "deadline exceeded", as designed, instead
	// of why the certificate failed (I6).
	patient := srv.URL(password) + "?dial_timeout=30s"
	s, _ := newStore(t, Config{URL: patient, TLS: &tls.Config{RootCAs: srv.CA}})
	if !s.Healthy() {
		t.Fatal("not connected over TLS")
	}
	if err := s.Set(ctx, "k", entryFor("over tls", time.Minute, time.Hour)); err != nil {
		t.Fatal(err)
	}
	if e, _, err := s.Get(ctx, "k"); err != nil || string(e.Body) != "over tls" {
		t.Errorf("Get: %q, %v", e.Body, err)
	}
	// Without the CA, the system's roots refuse the certificate: the Store
	// starts unhealthy, and says why without the password.
	untrusted, logs := newStore(t, Config{URL: patient})
	if untrusted.Healthy() {
		t.Error("connected to a server whose certificate no trusted CA signed")
	}
	if text := logs.String(); !strings.Contains(text, "certificate") || strings.Contains(text, password) {
		t.Errorf("want a WARN naming the certificate and not the password:\n%s", text)
	}
	// Plain redis:// to a TLS port does not connect either.
	plain, _ := newStore(t, Config{URL: "redis://:" + password + "@" + srv.Addr + "/0"})
	if plain.Healthy() {
		t.Error("connected without TLS to a TLS port")
	}
}
