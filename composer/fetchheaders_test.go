package composer

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/composer/layout"
)

// TestMaxFieldsHoldsEveryField keeps maxFields, which sizes the fields a
// page's fetches to one service share, an upper bound of what
// fragmentFields adds, and a tight one: a request with every option on
// fills it exactly, and so does a request that sends none of the
// optional headers.
func TestMaxFieldsHoldsEveryField(t *testing.T) {
	off := false
	full := &config.Service{Name: "full", Headers: []string{"Accept-Language", "User-Agent", "X-Tenant"},
		Cookies: config.Cookies{All: true}, Authorization: true}
	bare := &config.Service{Name: "bare", Context: &off}
	everything := httptest.NewRequest("GET", "/p/42?x=1", nil)
	for _, h := range [][2]string{
		{"Accept-Language", "de"}, {"User-Agent", "test"}, {"X-Tenant", "a"}, {"Cookie", "a=1"},
		{"Authorization", "Bearer x"},
		{"Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, {"Tracestate", "k=v"},
	} {
		everything.Header.Set(h[0], h[1])
	}
	plain := httptest.NewRequest("GET", "/p/42", nil)
	slot := &layout.Slot{ID: "box"}
	for _, tc := range []struct {
		name  string
		svc   *config.Service
		r     *http.Request
		exact bool
	}{
		{"every header, every option", full, everything, true},
		{"every header, no option", bare, everything, false},
		{"no optional header", full, plain, true},
	} {
		pc := newPageContext(tc.r, "id", "/p/{id}", []string{"id"}, []string{"42"}, "")
		got := len(fragmentFields(nil, tc.r, tc.svc, &pc, slot))
		if max := maxFields(tc.svc, tc.r, &pc); got > max || tc.exact && got != max {
			t.Errorf("%s: %d fields, room for %d", tc.name, got, max)
		}
	}
}
