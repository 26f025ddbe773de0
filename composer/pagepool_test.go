package composer

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/guard"
	"github.com/inlayhq/inlay/teams/teamtest"
	"go.opentelemetry.io/otel/trace/noop"
)

// A page with a stale box is not recycled: the box's background refresh
// copies the slot's request, whose own field (the box's id) lives in the
// slot. The fresh pages served after it reuse their own pages, never that
// one: the refresh asks with the stale page's request id and the box's
// id. (Were the slot cleared under it, the id would be gone, and the race
// detector would see the clear race with the refresh.)
func TestStalePageIsNotRecycled(t *testing.T) {
	memTest(t, func(t *testing.T, way memWay) {
		var mu sync.Mutex
		var asked []string // "request id, box id" of each fetch of the box
		box := htmlHandler(0, "<p>box</p>", "Cache-Control", "public, max-age=1, stale-while-revalidate=600")
		s := newMemShop(t, way, shopConfig{
			layouts: map[string]string{"p.html": fmt.Sprintf(faultLayout, "")},
			pages:   "  - path: /\n    layout: p.html",
		}, map[string]http.HandlerFunc{
			"shell": htmlHandler(0, "<h1>main</h1>", "Cache-Control", "public, max-age=3600"),
			"box": func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				asked = append(asked, r.Header.Get(HeaderRequestID)+", "+r.Header.Get(HeaderFragmentID))
				mu.Unlock()
				box(w, r)
			},
		}, guard.Config{Failures: 100})
		if status, body := s.get(t, "/", HeaderRequestID, "first"); status != http.StatusOK || body != boxPage("<p>box</p>") {
			t.Fatalf("first page: %d %q", status, body)
		}
		synctest.Wait()
		time.Sleep(2 * time.Second) // the box's copy is stale now, within its stale-while-revalidate
		if status, body := s.get(t, "/", HeaderRequestID, "stale"); status != http.StatusOK || body != boxPage("<p>box</p>") {
			t.Fatalf("page with the stale copy: %d %q", status, body)
		}
		for i := range 8 {
			if status, body := s.get(t, "/", HeaderRequestID, fmt.Sprint("fresh-", i)); status != http.StatusOK || body != boxPage("<p>box</p>") {
				t.Fatalf("fresh page %d: %d %q", i, status, body)
			}
		}
		synctest.Wait() // the background refresh is done
		mu.Lock()
		defer mu.Unlock()
		if want := []string{"first, box", "stale, box"}; !slices.Equal(asked, want) {
			t.Errorf("the box was asked %q, want %q", asked, want)
		}
	})
}

// TestRecyclable: a page is kept for the next request only when every
// slot's fetch is quiet and answered, its deadline left no goroutine
// behind, and tracing is off.
func TestRecyclable(t *testing.T) {
	fresh := outcome{resp: &fetch.Response{}, report: fetch.Report{Cache: fetch.CacheHit, Tier: fetch.TierLocal}, quiet: true}
	read := outcome{resp: &fetch.Response{}, report: fetch.Report{Cache: fetch.CachePass, Tier: fetch.TierOrigin}, quiet: true}
	with := func(o outcome, change func(*outcome)) outcome {
		change(&o)
		return o
	}
	for _, tc := range []struct {
		name    string
		second  outcome // the second of three slots; the others are fresh
		fetches bool
		cut     bool // the page's deadline left a goroutine behind
		tracing bool
		want    bool
	}{
		{name: "every slot fresh", second: fresh, want: true},
		{name: "a slot sent at the start and read on the page's goroutine", second: read, fetches: true, want: true},
		{name: "a slot not quiet (a stale copy, a flight, a fetch on a goroutine, a retry)", second: with(fresh, func(o *outcome) { o.quiet = false })},
		{name: "a failed slot", second: with(read, func(o *outcome) { o.resp, o.err = nil, errStatus{500} })},
		{name: "a slot from its fallback-src", second: with(read, func(o *outcome) { o.fromFallback = true })},
		{name: "a HEAD's unfetched slot", second: outcome{}},
		{name: "a fetch cut, or the shopper gone first", second: read, fetches: true, cut: true},
		{name: "tracing on", second: fresh, tracing: true},
	} {
		pg := &page{eng: &pageEngine{}, slots: []slotState{{out: fresh}, {out: tc.second}, {out: fresh}}, quiet: !tc.cut}
		if tc.fetches {
			pg.fetches = make([]slotFetch, 3)
		}
		if tc.tracing {
			pg.eng.tracer = noop.NewTracerProvider().Tracer("test")
		}
		if got := pg.recyclable(); got != tc.want {
			t.Errorf("%s: recyclable = %t, want %t", tc.name, got, tc.want)
		}
	}
	if (&page{eng: &pageEngine{}}).recyclable() {
		t.Error("a page never started is recyclable")
	}
}

// No-store pages are recycled (over connections, every page whose
// shopper stayed), and a recycled page never hands a fetch another
// shopper's request: shoppers come 16 at once, a quarter of them
// leave while their box is still being fetched, and every page that is
// written shows boxes asked with its own request id. Under the race
// detector, a fetch that outlived its page would race with the page's
// reuse.
func TestRecycledNoStorePagesKeepTheirShoppers(t *testing.T) {
	memTest(t, func(t *testing.T, way memWay) {
		echo := func(delay time.Duration) http.HandlerFunc { // the request id it was asked with
			return func(w http.ResponseWriter, r *http.Request) {
				htmlHandler(delay, "<p>"+r.Header.Get(HeaderRequestID)+"</p>", "Cache-Control", "no-store")(w, r)
			}
		}
		s := newMemShop(t, way, shopConfig{
			layouts: map[string]string{"p.html": fmt.Sprintf(faultLayout, "")},
			pages:   "  - path: /\n    layout: p.html",
		}, map[string]http.HandlerFunc{"shell": echo(time.Millisecond), "box": echo(5 * time.Millisecond)}, guard.Config{Failures: 1000})
		recycled := recycledPages(t)
		want := func(id string) string { return pageHead + "<p>" + id + "</p>[<p>" + id + "</p>]" + pageTail }
		if _, body := s.get(t, "/", HeaderRequestID, "prime"); body != want("prime") {
			t.Fatalf("first page: %q", body) // the cache now knows both fragments are no-store
		}
		for round := range 4 {
			var wg sync.WaitGroup
			for g := range 16 {
				id := fmt.Sprintf("r%d-%d", round, g)
				wg.Go(func() {
					ctx, leave := context.WithCancel(context.Background())
					defer leave()
					if g%4 == 0 {
						time.AfterFunc(2*time.Millisecond, leave) // the shopper leaves before the box answers (5 ms)
					}
					resp := serve(s.inlay, ctx, "/", HeaderRequestID, id)
					body, _ := io.ReadAll(resp.Body)
					if g%4 != 0 && string(body) != want(id) {
						t.Errorf("page %s: %d %q, want its own boxes", id, resp.StatusCode, body)
					}
				})
			}
			wg.Wait()
		}
		if !way.conns {
			return // a round-tripper's fetches run on goroutines of their own: no page is recycled
		}
		got := recycled()
		for round := range 4 {
			for g := 1; g < 16; g++ {
				if id := fmt.Sprintf("r%d-%d", round, g); g%4 != 0 && !got[id] {
					t.Errorf("page %s, whose shopper stayed, was not recycled: the test did not test reuse", id)
				}
			}
		}
	})
}

// Which pages are recycled, over loopback and the lean client: not the
// first, whose boxes each joined a flight (the cache did not know them
// yet); the next, whose no-store boxes were sent at its start and read on
// its goroutine; not one whose shopper left while a box was still being
// fetched; and again the one after it.
func TestWhichPagesAreRecycled(t *testing.T) {
	recycled := recycledPages(t)
	noStore := map[string]string{"Cache-Control": "no-store"}
	shell := teamtest.NewRoutes(t, map[string]teamtest.Route{"/main": {Body: "<h1>main</h1>", Header: noStore}})
	box := teamtest.NewRoutes(t, map[string]teamtest.Route{"/box": {Body: "<p>box</p>", Header: noStore}})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"shell": shell, "box": box},
		layouts:  map[string]string{"p.html": fmt.Sprintf(faultLayout, "")},
		pages:    "  - path: /\n    layout: p.html",
	})
	get := func(ctx context.Context, id string) string {
		resp := serve(s.inlay, ctx, "/", HeaderRequestID, id)
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	if body := get(context.Background(), "first"); body != boxPage("<p>box</p>") {
		t.Fatalf("first page: %q", body)
	}
	if body := get(context.Background(), "second"); body != boxPage("<p>box</p>") {
		t.Fatalf("second page: %q", body)
	}
	gate := make(chan struct{})
	box.Route("/box", teamtest.Route{Body: "<p>box</p>", Header: noStore, Gate: gate})
	ctx, leave := context.WithCancel(context.Background())
	hits := box.Hits()
	left := make(chan struct{})
	go func() {
		defer close(left)
		get(ctx, "left")
	}()
	teamtest.WaitUntil(t, "the box asked", func() bool { return box.Hits() > hits })
	leave()
	<-left
	close(gate)
	box.Route("/box", teamtest.Route{Body: "<p>box</p>", Header: noStore})
	if body := get(context.Background(), "after"); body != boxPage("<p>box</p>") {
		t.Fatalf("page after: %q", body)
	}
	want := map[string]bool{"first": false, "second": true, "left": false, "after": true}
	if got := recycled(); !maps.Equal(got, want) {
		t.Errorf("recycled: %v, want %v", got, want)
	}
}

// recycledPages records, until the test ends, whether each page served
// was recycled, by its request id; it returns what it has so far.
func recycledPages(t *testing.T) func() map[string]bool {
	var mu sync.Mutex
	seen := map[string]bool{}
	testHookRecycled = func(id string, ok bool) {
		mu.Lock()
		defer mu.Unlock()
		seen[id] = ok
	}
	t.Cleanup(func() { testHookRecycled = nil })
	return func() map[string]bool {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(seen)
	}
}
