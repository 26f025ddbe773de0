package composer

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/guard"
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
// slot was answered at start from a fresh entry of the local cache, no
// fetch is held and tracing is off.
func TestRecyclable(t *testing.T) {
	fresh := outcome{resp: &fetch.Response{}, report: fetch.Report{Cache: fetch.CacheHit, Tier: fetch.TierLocal}}
	with := func(change func(*outcome)) outcome {
		o := fresh
		change(&o)
		return o
	}
	for _, tc := range []struct {
		name    string
		second  outcome // the second of three slots; the others are fresh
		fetches bool
		tracing bool
		want    bool
	}{
		{name: "every slot fresh", second: fresh, want: true},
		{name: "a stale slot", second: with(func(o *outcome) { o.report.Cache = fetch.CacheStale })},
		{name: "a slot from the shared tier", second: with(func(o *outcome) { o.report.Tier = fetch.TierShared })},
		{name: "a missed slot", second: with(func(o *outcome) { o.report = fetch.Report{Cache: fetch.CacheMiss, Tier: fetch.TierOrigin} })},
		{name: "a failed slot", second: with(func(o *outcome) { o.resp, o.err = nil, errStatus{500} })},
		{name: "a slot from its fallback-src", second: with(func(o *outcome) { o.fromFallback = true })},
		{name: "a HEAD's unfetched slot", second: outcome{}},
		{name: "a fetch held", second: fresh, fetches: true},
		{name: "tracing on", second: fresh, tracing: true},
	} {
		pg := &page{eng: &pageEngine{}, slots: []slotState{{out: fresh}, {out: tc.second}, {out: fresh}}}
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
