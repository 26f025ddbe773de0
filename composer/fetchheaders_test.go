package composer

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/composer/layout"
	"github.com/inlayhq/inlay/fragments/fetch"
)

// TestPageFieldsExact: the fields a page's fetches to one service share
// are every field fragmentFields adds but the fragment id, capped at
// their number: with every option on, with none, and for a service that
// forwards more headers than fit the room on the stack. The first
// service's are made in the page's room when they fit, with no
// allocation; a later service's in an array of their exact size.
func TestPageFieldsExact(t *testing.T) {
	off := false
	full := &config.Service{Name: "full", Headers: []string{"Accept-Language", "User-Agent", "X-Tenant"},
		Cookies: config.Cookies{All: true}, Authorization: true}
	bare := &config.Service{Name: "bare", Context: &off}
	many := &config.Service{Name: "many"}
	everything := httptest.NewRequest("GET", "/p/42?x=1", nil)
	for _, h := range [][2]string{
		{"Accept-Language", "de"}, {"User-Agent", "test"}, {"X-Tenant", "a"}, {"Cookie", "a=1"},
		{"Authorization", "Bearer x"},
		{"Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, {"Tracestate", "k=v"},
	} {
		everything.Header.Set(h[0], h[1])
	}
	for i := range fieldBuf {
		name := fmt.Sprintf("X-Many-%d", i)
		many.Headers = append(many.Headers, name)
		everything.Header.Set(name, "v")
	}
	plain := httptest.NewRequest("GET", "/p/42", nil)
	slot := &layout.Slot{ID: "box"}
	for _, tc := range []struct {
		name  string
		svc   *config.Service
		r     *http.Request
		first float64 // allocations for the page's first service, at most
		later float64 // and for a later one
	}{
		{"every header, every option", full, everything, 1, 1},
		{"every header, no option", bare, everything, 0, 1},
		{"no optional header", full, plain, 0, 1},
		{"more headers than the room", many, everything, 2, 2},
	} {
		var vals [pageContextValues]string
		pc := newPageContext(&vals, tc.r, "id", "/p/{id}", []string{"id"}, []string{"42"}, "")
		want := fragmentFields(nil, tc.r, tc.svc, &pc, slot)
		want = want[:len(want)-1] // all but the fragment id
		pg := &page{eng: &pageEngine{}, r: tc.r, context: pc}
		for _, later := range []bool{false, true} {
			allocs, which := tc.first, "first service"
			var before pageFieldSets // the page's sets as tc.svc's are made
			if later {
				allocs, which = tc.later, "later service"
				before.of(pg, &config.Service{Name: "other"}) // takes the page's room
			}
			fresh := before
			got := fresh.of(pg, tc.svc)
			if !slices.EqualFunc(got, want, func(a, b fetch.Field) bool { return a.Name == b.Name && slices.Equal(a.Values, b.Values) }) {
				t.Errorf("%s, %s: fields %v, want %v", tc.name, which, got, want)
			}
			if cap(got) != len(got) {
				t.Errorf("%s, %s: %d fields in room for %d", tc.name, which, len(got), cap(got))
			}
			if n := testing.AllocsPerRun(10, func() {
				fresh := before
				fresh.of(pg, tc.svc)
			}); n > allocs {
				t.Errorf("%s, %s: %v allocations, want at most %v", tc.name, which, n, allocs)
			}
		}
	}
}
