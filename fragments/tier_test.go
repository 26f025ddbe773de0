package fragments

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inlayhq/inlay/teams/teamtest"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/internal/stagetest"
	"github.com/inlayhq/inlay/fragments/shared"
	"github.com/inlayhq/inlay/fragments/shared/redistest"
)

// exactTimeout is the shared tier's deadline in tests that count origin
// fetches exactly: the 20ms default can pass on a busy 2-core machine
// under -race, and a lookup that times out fetches the origin by itself,
// which is right in production and breaks an exact count. Tests about
// failures keep the default.
const exactTimeout = time.Second

// newReplica makes an engine for the origin with a shared tier at
// redisURL: one Inlay replica.
func newReplica(t *testing.T, o *teamtest.Team, redisURL string, timeout time.Duration) *Engine {
	t.Helper()
	u, _ := url.Parse(o.URL)
	e := NewEngine(EngineOptions{Logger: stagetest.DiscardLogger(), CleanupInterval: -1}, Settings{
		Services: []ServiceConfig{{Name: "team", URL: u}},
		Shared:   SharedConfig{URL: redisURL, Timeout: timeout},
	})
	t.Cleanup(e.Close)
	if configured, _ := e.SharedStatus(); redisURL != "" && !configured {
		t.Fatal("the replica has no shared tier")
	}
	return e
}

// fetchReport fetches path from the team service through e.
func fetchReport(t *testing.T, e *Engine, o *teamtest.Team, path string, fields ...fetch.Field) (*fetch.Response, fetch.Report, error) {
	t.Helper()
	return e.Start(context.Background(), &fetch.Request{ID: "box", Service: "team", URL: o.URL + path, Fields: fields, Timeout: 5 * time.Second}, nil).Wait()
}

// A cold key costs one origin fetch across replicas: the first to miss
// takes the lease, the others wait for its result; every caller gets the
// body, and the tier that served each says so.
func TestSharedTierOneOriginFetchAcrossReplicas(t *testing.T) {
	rs := redistest.Start(t)
	release := make(chan struct{})
	o := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		teamtest.Fragment("<p>cold</p>", "max-age=60")(w, r)
	})
	replicas := []*Engine{newReplica(t, o, rs.URL(""), exactTimeout), newReplica(t, o, rs.URL(""), exactTimeout), newReplica(t, o, rs.URL(""), exactTimeout)}

	const perReplica = 10
	type result struct {
		body string
		rep  fetch.Report
		err  error
	}
	results := make(chan result, perReplica*len(replicas))
	var wg sync.WaitGroup
	for _, e := range replicas {
		for range perReplica {
			wg.Go(func() {
				resp, rep, err := fetchReport(t, e, o, "/cold")
				r := result{rep: rep, err: err}
				if resp != nil {
					r.body = string(resp.Body)
				}
				results <- r
			})
		}
	}
	// The holder's fetch is held back until both other replicas wait for
	// its lease.
	deadline := time.Now().Add(10 * time.Second)
	for replicas[0].Stats().LeaseWaits.Load()+replicas[1].Stats().LeaseWaits.Load()+replicas[2].Stats().LeaseWaits.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("two replicas never waited for the lease")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	wg.Wait()
	close(results)
	tiers := map[fetch.Tier]int{}
	for r := range results {
		if r.err != nil || r.body != "<p>cold</p>" {
			t.Fatalf("fetch: %q, %v", r.body, r.err)
		}
		tiers[r.rep.Tier]++
	}
	if got := o.Hits(); got != 1 {
		t.Errorf("origin fetches: got %d, want 1", got)
	}
	if tiers[fetch.TierOrigin] != perReplica || tiers[fetch.TierShared] != 2*perReplica {
		t.Errorf("tiers: got %v, want %d origin (one replica's flight) and %d shared", tiers, perReplica, 2*perReplica)
	}
	// Then every replica answers from memory.
	for _, e := range replicas {
		if _, rep, err := fetchReport(t, e, o, "/cold"); err != nil || rep.Tier != fetch.TierLocal || rep.Cache != fetch.CacheHit {
			t.Errorf("warm fetch: %+v, %v; want a local hit", rep, err)
		}
	}
}

// The cross-user rules hold across replicas: a response fetched with a
// shopper's credentials reaches the shared tier only when the service
// marks it public or gives s-maxage; key names never hold the URL.
func TestSharedTierNeverHoldsCredentialedPrivateResponses(t *testing.T) {
	rs := redistest.Start(t)
	cookie := fetch.Field{Name: "Cookie", Values: []string{"session=shopper-1"}}
	auth := fetch.Field{Name: "Authorization", Values: []string{"Bearer shopper-2"}}
	cases := []struct {
		name, cacheControl string
		fields             []fetch.Field
		stored             bool
	}{
		{"cookie, max-age", "max-age=60", []fetch.Field{cookie}, false},
		{"authorization, max-age", "max-age=60", []fetch.Field{auth}, false},
		{"cookie, private", "private, max-age=60", []fetch.Field{cookie}, false},
		{"cookie, public", "public, max-age=60", []fetch.Field{cookie}, true},
		{"cookie, s-maxage", "s-maxage=60", []fetch.Field{cookie}, true},
		{"no credentials, max-age", "max-age=60", nil, true},
	}
	o := teamtest.New(t, nil)
	e := newReplica(t, o, rs.URL(""), exactTimeout)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			canary := fmt.Sprintf("canary-%d-%d", i, time.Now().UnixNano())
			o.Set(teamtest.Fragment("<p>"+canary+"</p>", tc.cacheControl))
			path := fmt.Sprintf("/account-%d", i)
			resp, _, err := fetchReport(t, e, o, path, tc.fields...)
			if err != nil || !bytes.Contains(resp.Body, []byte(canary)) {
				t.Fatalf("fetch: %v", err)
			}
			found := false
			for k, v := range rs.Values(t) {
				if strings.Contains(k, path) || strings.Contains(k, "shopper") {
					t.Errorf("key name %q holds request data", k)
				}
				if bytes.Contains(v, []byte(canary)) {
					found = true
				}
			}
			if found != tc.stored {
				t.Errorf("canary found in the shared tier: %v, want %v", found, tc.stored)
			}
		})
	}
}

// A stale copy outlives every replica: warmed through A with
// stale-if-error, it answers a fresh replica B once the service fails.
func TestSharedTierStaleCopySurvivesReplicas(t *testing.T) {
	rs := redistest.Start(t)
	o := teamtest.New(t, teamtest.Fragment("<p>warm</p>", "max-age=1, stale-if-error=600"))
	a := newReplica(t, o, rs.URL(""), exactTimeout)
	if _, rep, err := fetchReport(t, a, o, "/sie"); err != nil || rep.Tier != fetch.TierOrigin {
		t.Fatalf("warming: %+v, %v", rep, err)
	}
	warmed := time.Now()
	a.Close()
	o.Set(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusInternalServerError) })
	// The copy's freshness (max-age=1) ends; its stale-if-error window
	// does not.
	time.Sleep(time.Until(warmed.Add(1100 * time.Millisecond)))

	b := newReplica(t, o, rs.URL(""), exactTimeout)
	resp, rep, err := fetchReport(t, b, o, "/sie")
	if err != nil || string(resp.Body) != "<p>warm</p>" {
		t.Fatalf("fresh replica: %v", err)
	}
	if rep.Tier != fetch.TierShared || rep.Cache != fetch.CacheStale {
		t.Errorf("report: %+v, want a stale copy from the shared tier", rep)
	}
	if got := o.Hits(); got != 2 {
		t.Errorf("origin fetches: got %d, want 2 (the warm-up, and B's failed one)", got)
	}
}

// Purge by tag on one replica drops the tagged entries from the shared
// tier and from every replica's memory: both show the new body at once.
func TestSharedTierPurgeByTag(t *testing.T) {
	rs := redistest.Start(t)
	o := teamtest.New(t, teamtest.Fragment("<p>v1</p>", "max-age=600", "Surrogate-Key", "product-1 shelf"))
	a, b := newReplica(t, o, rs.URL(""), exactTimeout), newReplica(t, o, rs.URL(""), exactTimeout)
	for _, e := range []*Engine{a, b} {
		if resp, _, err := fetchReport(t, e, o, "/p1"); err != nil || string(resp.Body) != "<p>v1</p>" {
			t.Fatalf("warming: %v", err)
		}
	}
	// An untagged entry stays.
	o.Set(teamtest.Fragment("<p>other</p>", "max-age=600"))
	fetchReport(t, a, o, "/other")

	o.Set(teamtest.Fragment("<p>v2</p>", "max-age=600", "Surrogate-Key", "product-1 shelf"))
	n, err := a.Purge(context.Background(), "product-1", "no-such-tag")
	if err != nil || n != 1 {
		t.Fatalf("purge: %d, %v; want 1 entry", n, err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for _, e := range []*Engine{a, b} {
		for {
			resp, _, err := fetchReport(t, e, o, "/p1")
			if err == nil && string(resp.Body) == "<p>v2</p>" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("a replica still shows %q, %v 2s after the purge", resp.Body, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if _, rep, _ := fetchReport(t, a, o, "/other"); rep.Tier != fetch.TierLocal {
		t.Errorf("untagged entry: %+v, want a local hit", rep)
	}
	if got := a.Stats().Purges.Load(); got != 1 {
		t.Errorf("purges counted: %d", got)
	}
	if _, err := a.Purge(context.Background(), "two words"); err == nil {
		t.Error("a tag with white space was accepted")
	}
}

// Without a shared tier, a purge acts on the replica's own memory.
func TestPurgeByTagInProcessOnly(t *testing.T) {
	o := teamtest.New(t, teamtest.Fragment("<p>v1</p>", "max-age=600", "Surrogate-Key", "a b"))
	e := newReplica(t, o, "", 0)
	fetchReport(t, e, o, "/x")
	n, err := e.Purge(context.Background(), "b")
	if err != nil || n != 1 {
		t.Fatalf("purge: %d, %v; want 1", n, err)
	}
	if _, rep, _ := fetchReport(t, e, o, "/x"); rep.Tier != fetch.TierOrigin {
		t.Errorf("after the purge: %+v, want an origin fetch", rep)
	}
	if n, _ := e.Purge(context.Background(), "c"); n != 0 {
		t.Errorf("purge of an unused tag: %d, want 0", n)
	}
}

// A response that varies is stored per variant, with its Vary index, so
// another replica finds the variant its request wants.
func TestSharedTierVariants(t *testing.T) {
	rs := redistest.Start(t)
	o := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		teamtest.Fragment("<p>"+r.Header.Get("Accept-Language")+"</p>", "max-age=60", "Vary", "Accept-Language")(w, r)
	})
	a, b := newReplica(t, o, rs.URL(""), exactTimeout), newReplica(t, o, rs.URL(""), exactTimeout)
	de := fetch.Field{Name: "Accept-Language", Values: []string{"de"}}
	fr := fetch.Field{Name: "Accept-Language", Values: []string{"fr"}}
	fetchReport(t, a, o, "/v", de)
	for _, tc := range []struct {
		field fetch.Field
		body  string
		tier  fetch.Tier
	}{{de, "<p>de</p>", fetch.TierShared}, {fr, "<p>fr</p>", fetch.TierOrigin}, {de, "<p>de</p>", fetch.TierLocal}} {
		resp, rep, err := fetchReport(t, b, o, "/v", tc.field)
		if err != nil || string(resp.Body) != tc.body || rep.Tier != tc.tier {
			t.Errorf("%v: %q from %v, %v; want %q from %v", tc.field.Values, resp.Body, rep.Tier, err, tc.body, tc.tier)
		}
	}
}

// The tier failing never fails a fetch: with Redis killed, fetches go to
// the origin within their timeout; with Redis back, the tier is used
// again within seconds. The tier keeps its 20ms default deadline.
func TestSharedTierDownNeverFailsAFetch(t *testing.T) {
	rs := redistest.Start(t)
	o := teamtest.New(t, teamtest.Fragment("<p>ok</p>", "max-age=60"))
	e := newReplica(t, o, rs.URL(""), 0)
	// While Redis is up, a fetch is stored in the tier. Its calls keep the
	// 20ms default, which a busy machine misses now and then, as designed
	// (the fetch goes on without the tier): new keys are fetched until one
	// is stored, within a hang guard (I6).
	guard := time.Now().Add(30 * time.Second)
	for i := 0; e.Stats().SharedStored.Load() == 0; i++ {
		if _, rep, err := fetchReport(t, e, o, fmt.Sprintf("/before-%d", i)); err != nil || rep.Tier != fetch.TierOrigin {
			t.Fatalf("before: %+v, %v", rep, err)
		}
		if time.Now().After(guard) {
			t.Fatal("the tier stored nothing in 30s while up")
		}
	}
	rs.Kill()
	for i := range 20 {
		start := time.Now()
		resp, rep, err := fetchReport(t, e, o, fmt.Sprintf("/down-%d", i))
		if err != nil || string(resp.Body) != "<p>ok</p>" || rep.Tier != fetch.TierOrigin {
			t.Fatalf("with Redis down: %+v, %v", rep, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("fetch took %v with Redis down", d)
		}
	}
	if e.Stats().SharedErrors.Load() == 0 {
		t.Error("no shared tier error counted")
	}
	// A purge with the tier down still purges this replica, and says the
	// tier was not purged.
	o.Set(teamtest.Fragment("<p>tagged</p>", "max-age=60", "Surrogate-Key", "t1"))
	fetchReport(t, e, o, "/tagged")
	if n, err := e.Purge(context.Background(), "t1"); err == nil || n != 1 {
		t.Errorf("purge with Redis down: %d, %v; want 1 local entry and an error", n, err)
	}
	o.Set(teamtest.Fragment("<p>ok</p>", "max-age=60"))
	if _, healthy := e.SharedStatus(); healthy {
		t.Error("the tier says it is healthy with Redis down")
	}
	rs.Restart()
	deadline := time.Now().Add(30 * time.Second) // a hang guard (I6)
	stored := e.Stats().SharedStored.Load()
	for i := 0; ; i++ {
		fetchReport(t, e, o, fmt.Sprintf("/back-%d", i))
		if e.Stats().SharedStored.Load() > stored {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the tier was not used again within 30s of Redis coming back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, healthy := e.SharedStatus(); !healthy {
		t.Error("the tier stores again but says it is unhealthy")
	}
}

// A reload that changes the tier's URL moves the replica to the new
// server; one that removes it leaves the replica on its memory alone.
func TestSharedTierFollowsReload(t *testing.T) {
	one, two := redistest.Start(t), redistest.Start(t)
	o := teamtest.New(t, teamtest.Fragment("<p>ok</p>", "max-age=60"))
	e := newReplica(t, o, one.URL(""), exactTimeout)
	u, _ := url.Parse(o.URL)
	settings := func(redisURL string) Settings {
		return Settings{Services: []ServiceConfig{{Name: "team", URL: u}}, Shared: SharedConfig{URL: redisURL, Timeout: exactTimeout}}
	}
	e.Configure(settings(two.URL("")))
	fetchReport(t, e, o, "/moved")
	if n := len(two.Values(t)); n == 0 {
		t.Error("nothing stored in the new server")
	}
	if n := len(one.Values(t)); n != 0 {
		t.Errorf("%d keys stored in the old server", n)
	}
	e.Configure(settings(""))
	if configured, _ := e.SharedStatus(); configured {
		t.Error("a tier is still configured")
	}
	if _, rep, err := fetchReport(t, e, o, "/alone"); err != nil || rep.Tier != fetch.TierOrigin {
		t.Errorf("without a tier: %+v, %v", rep, err)
	}
}

// A stale-while-revalidate refresh takes the lease too: two replicas with
// the same stale copy refresh it with one origin fetch, and meanwhile
// serve the stale copy without waiting.
func TestSharedTierRefreshOnceAcrossReplicas(t *testing.T) {
	rs := redistest.Start(t)
	// Age equal to max-age: stale from the start, within its
	// stale-while-revalidate window.
	o := teamtest.New(t, teamtest.Fragment("<p>v1</p>", "max-age=1, stale-while-revalidate=600", "Age", "1"))
	a, b := newReplica(t, o, rs.URL(""), exactTimeout), newReplica(t, o, rs.URL(""), exactTimeout)
	if _, rep, err := fetchReport(t, a, o, "/swr"); err != nil || rep.Tier != fetch.TierOrigin {
		t.Fatalf("warming A: %+v, %v", rep, err)
	}
	if resp, rep, err := fetchReport(t, b, o, "/swr"); err != nil || rep.Tier != fetch.TierShared || rep.Cache != fetch.CacheStale || string(resp.Body) != "<p>v1</p>" {
		t.Fatalf("warming B: %+v, %v; want the stale copy from the shared tier", rep, err)
	}

	release := make(chan struct{})
	o.Set(func(w http.ResponseWriter, r *http.Request) {
		<-release
		teamtest.Fragment("<p>v2</p>", "max-age=60")(w, r)
	})
	for _, e := range []*Engine{a, b} {
		resp, rep, err := fetchReport(t, e, o, "/swr")
		if err != nil || rep.Tier != fetch.TierLocal || rep.Cache != fetch.CacheStale || string(resp.Body) != "<p>v1</p>" {
			t.Fatalf("stale fetch: %+v, %v; want the local stale copy at once", rep, err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for a.Stats().LeaseWaits.Load()+b.Stats().LeaseWaits.Load() < 1 {
		if time.Now().After(deadline) {
			t.Fatal("neither refresh waited for the other's lease")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	for _, e := range []*Engine{a, b} {
		for {
			resp, rep, err := fetchReport(t, e, o, "/swr")
			if err == nil && string(resp.Body) == "<p>v2</p>" && rep.Tier == fetch.TierLocal && rep.Cache == fetch.CacheHit {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("refresh not done within 5s: %+v, %v", rep, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if got := o.Hits(); got != 2 {
		t.Errorf("origin fetches: got %d, want 2 (the warm-up and one refresh for both replicas)", got)
	}
}

// A shared tier that hangs (the server stopped, connections open) costs a
// miss its deadline at most, then nothing once the breaker opens: every
// fetch succeeds from the origin well within its timeout. The tier keeps
// its 20ms default deadline.
func TestSharedTierHangingNeverFailsAFetch(t *testing.T) {
	rs := redistest.Start(t)
	o := teamtest.New(t, teamtest.Fragment("<p>ok</p>", "max-age=60"))
	e := newReplica(t, o, rs.URL(""), 0)
	fetchReport(t, e, o, "/warm")
	rs.Pause()
	t.Cleanup(rs.Resume)
	var slowest time.Duration
	for i := range 20 {
		start := time.Now()
		resp, rep, err := fetchReport(t, e, o, fmt.Sprintf("/hang-%d", i))
		if err != nil || string(resp.Body) != "<p>ok</p>" || rep.Tier != fetch.TierOrigin {
			t.Fatalf("with Redis hanging: %+v, %v", rep, err)
		}
		slowest = max(slowest, time.Since(start))
	}
	t.Logf("slowest fetch with Redis hanging: %v", slowest)
	if slowest >= time.Second {
		t.Errorf("slowest fetch %v, want well under the 5s timeout", slowest)
	}
	if _, healthy := e.SharedStatus(); healthy {
		t.Error("the tier says it is healthy while it hangs")
	}
	rs.Resume()
	deadline := time.Now().Add(30 * time.Second) // a hang guard (I6)
	for {
		if _, healthy := e.SharedStatus(); healthy {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the tier did not come back within 30s of the server resuming")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// I5: a panic below the shared tier (in the Redis client, on the
// goroutine a call runs on) never fails a fetch: whichever call panics,
// the fetch goes on without the tier and gets the origin's answer; the
// panic is counted and logged once, at ERROR, with its stack.
func TestSharedTierPanicNeverFailsAFetch(t *testing.T) {
	rs := redistest.Start(t)
	o := teamtest.New(t, teamtest.Fragment("<p>ok</p>", "max-age=60", "Surrogate-Key", "t1 t2"))
	for i, op := range []string{"get", "lease", "set", "release"} {
		t.Run(op, func(t *testing.T) {
			logs := &stagetest.LogRecorder{}
			u, _ := url.Parse(o.URL)
			e := NewEngine(EngineOptions{Logger: slog.New(logs), CleanupInterval: -1}, Settings{
				Services: []ServiceConfig{{Name: "team", URL: u}},
				Shared:   SharedConfig{URL: rs.URL(""), Timeout: exactTimeout},
			})
			t.Cleanup(e.Close)
			ctx := shared.WithFault(context.Background(), func(got string) {
				if got == op {
					panic("client bug in " + got)
				}
			})
			path := fmt.Sprintf("/p%d", i)
			resp, rep, err := e.Start(ctx, &fetch.Request{ID: "box", Service: "team", URL: o.URL + path, Timeout: 5 * time.Second}, nil).Wait()
			if err != nil || string(resp.Body) != "<p>ok</p>" || rep.Tier != fetch.TierOrigin {
				t.Fatalf("fetch with a panic in %s: %+v, %v", op, rep, err)
			}
			if n := e.Stats().SharedPanics.Load(); n != 1 {
				t.Errorf("shared tier panics counted: %d, want 1", n)
			}
			if n := e.Stats().Panics.Load(); n != 0 {
				t.Errorf("fetch panics counted: %d, want 0 (the fetch did not fail)", n)
			}
			var logged []slog.Record
			for _, r := range logs.Records() {
				if strings.Contains(r.Message, "panic") {
					logged = append(logged, r)
				}
			}
			if len(logged) != 1 || logged[0].Level != slog.LevelError {
				t.Fatalf("panic log records: %v, want one ERROR", logged)
			}
			var stack string
			logged[0].Attrs(func(a slog.Attr) bool {
				if a.Key == "stack" {
					stack = a.Value.String()
				}
				return true
			})
			if !strings.Contains(stack, "TestSharedTierPanicNeverFailsAFetch") {
				t.Errorf("the log has no stack of the panic: %q", stack)
			}
			// The next fetch, without the fault, is whole too.
			if resp, _, err := fetchReport(t, e, o, path); err != nil || string(resp.Body) != "<p>ok</p>" {
				t.Errorf("next fetch: %v", err)
			}
		})
	}
}

// C11: a response fetched with the shopper's credentials that the service
// marks shareable (public, s-maxage) but whose body holds a forwarded
// cookie value or credential of 8 bytes or more is a per-shopper body
// marked wrongly: neither tier stores it, and it is counted and logged
// (WARN, without the secret). Shorter values are not looked for, and a
// body without the credential is stored as the service asked.
func TestCredentialInPublicBodyIsNeverStored(t *testing.T) {
	rs := redistest.Start(t)
	const secret = "s3cr3t-session-0123456789"
	cases := []struct {
		name, cacheControl, echo string
		fields                   []fetch.Field
		stored                   bool
	}{
		{"cookie, public", "public, max-age=60", secret, []fetch.Field{{Name: "Cookie", Values: []string{"lang=en; session=" + secret}}}, false},
		{"cookie, s-maxage", "s-maxage=60", secret, []fetch.Field{{Name: "Cookie", Values: []string{"session=" + secret}}}, false},
		{"quoted cookie", "public, max-age=60", secret, []fetch.Field{{Name: "Cookie", Values: []string{`session="` + secret + `"`}}}, false},
		{"bearer token", "public, max-age=60", secret, []fetch.Field{{Name: "Authorization", Values: []string{"Bearer " + secret}}}, false},
		{"eight bytes", "public, max-age=60", "abcdefgh", []fetch.Field{{Name: "Cookie", Values: []string{"id=abcdefgh"}}}, false},
		{"seven bytes", "public, max-age=60", "abcdefg", []fetch.Field{{Name: "Cookie", Values: []string{"id=abcdefg"}}}, true},
		{"not in the body", "public, max-age=60", "nothing", []fetch.Field{{Name: "Cookie", Values: []string{"session=" + secret}}}, true},
	}
	o := teamtest.New(t, nil)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			logs := &stagetest.LogRecorder{}
			u, _ := url.Parse(o.URL)
			e := NewEngine(EngineOptions{Logger: slog.New(logs), CleanupInterval: -1}, Settings{
				Services: []ServiceConfig{{Name: "team", URL: u}},
				Shared:   SharedConfig{URL: rs.URL(""), Timeout: exactTimeout},
			})
			t.Cleanup(e.Close)
			canary := fmt.Sprintf("canary-%d", i)
			o.Set(teamtest.Fragment("<p>"+canary+" "+tc.echo+"</p>", tc.cacheControl))
			path := fmt.Sprintf("/account-%d", i)
			if _, _, err := fetchReport(t, e, o, path, tc.fields...); err != nil {
				t.Fatal(err)
			}
			_, rep, _ := fetchReport(t, e, o, path, tc.fields...)
			if got := rep.Cache == fetch.CacheHit; got != tc.stored {
				t.Errorf("second fetch a hit: %v, want %v (%+v)", got, tc.stored, rep)
			}
			inShared := false
			for _, v := range rs.Values(t) {
				inShared = inShared || bytes.Contains(v, []byte(canary))
			}
			if inShared != tc.stored {
				t.Errorf("in the shared tier: %v, want %v", inShared, tc.stored)
			}
			want := int64(0)
			if !tc.stored {
				want = 1
			}
			if n := e.Stats().CredentialRefused.Load(); n != want {
				t.Errorf("refusals counted: %d, want %d", n, want)
			}
			warned := 0
			for _, r := range logs.Records() {
				text := r.Message
				r.Attrs(func(a slog.Attr) bool { text += " " + a.Value.String(); return true })
				if strings.Contains(text, tc.echo) {
					t.Errorf("a log holds the credential: %s", text)
				}
				if r.Level == slog.LevelWarn && strings.Contains(r.Message, "credential") {
					warned++
				}
			}
			if warned != int(want) {
				t.Errorf("WARN records about the credential: %d, want %d", warned, want)
			}
		})
	}
}
