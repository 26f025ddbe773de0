package composer

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/inlayhq/inlay/fragments/guard"
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
// slot was answered at start from a fresh entry of the local cache and no
// fetch is held.
func TestRecyclable(t *testing.T) {
	for _, tc := range []struct {
		name string
		pg   *page
		want bool
	}{
		{"every slot fresh", &page{slots: make([]slotState, 3), fresh: 3}, true},
		{"one slot not fresh", &page{slots: make([]slotState, 3), fresh: 2}, false},
		{"a fetch held", &page{slots: make([]slotState, 3), fresh: 3, fetches: make([]slotFetch, 3)}, false},
		{"no slots (never started)", &page{}, false},
	} {
		if got := tc.pg.recyclable(); got != tc.want {
			t.Errorf("%s: recyclable = %t, want %t", tc.name, got, tc.want)
		}
	}
}
