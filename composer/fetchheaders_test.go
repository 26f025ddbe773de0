package composer

import (
	"net/http/httptest"
	"testing"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/composer/layout"
)

// TestMaxFieldsHoldsEveryField keeps maxFields, which sizes the one array
// of a page's request fields, an upper bound of what fragmentFields adds,
// and a tight one: a request with every option on fills it exactly.
func TestMaxFieldsHoldsEveryField(t *testing.T) {
	off := false
	full := &config.Service{Name: "full", Headers: []string{"Accept-Language", "User-Agent", "X-Tenant"},
		Cookies: config.Cookies{All: true}, Authorization: true}
	bare := &config.Service{Name: "bare", Context: &off}
	r := httptest.NewRequest("GET", "/p/42?x=1", nil)
	for _, h := range [][2]string{
		{"Accept-Language", "de"}, {"User-Agent", "test"}, {"X-Tenant", "a"}, {"Cookie", "a=1"},
		{"Authorization", "Bearer x"},
		{"Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, {"Tracestate", "k=v"},
	} {
		r.Header.Set(h[0], h[1])
	}
	pc := newPageContext(r, "id", "/p/{id}", []string{"id"}, []string{"42"}, "")
	slot := &layout.Slot{ID: "box"}
	for _, tc := range []struct {
		svc   *config.Service
		exact bool
	}{{full, true}, {bare, false}} {
		got := len(fragmentFields(nil, r, tc.svc, &pc, slot))
		if max := maxFields(tc.svc); got > max || tc.exact && got != max {
			t.Errorf("%s: %d fields, room for %d", tc.svc.Name, got, max)
		}
	}
}
