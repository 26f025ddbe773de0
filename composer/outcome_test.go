package composer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/guard"
)

// One mapping from a failure to the shopper's status, for pages and the
// gateway alike.
func TestFailureStatus(t *testing.T) {
	fe := func(k fetch.Kind) error { return &fetch.Error{Kind: k, ID: "box", Service: "team"} }
	cases := []struct {
		name string
		err  error
		gone bool // the shopper's request ended
		want int
	}{
		{"fragment timeout", fe(fetch.KindTimeout), false, http.StatusGatewayTimeout},
		{"route's header timeout", errHeaderTimeout, false, http.StatusGatewayTimeout},
		{"deadline", fmt.Errorf("proxy: %w", context.DeadlineExceeded), false, http.StatusGatewayTimeout},
		{"breaker open", fe(fetch.KindBreakerOpen), false, http.StatusServiceUnavailable},
		{"queue full", fe(fetch.KindOverflow), false, http.StatusServiceUnavailable},
		{"gateway breaker open", fmt.Errorf("service basket: %w", guard.ErrBreakerOpen), false, http.StatusServiceUnavailable},
		{"body too large", &http.MaxBytesError{Limit: 1}, false, http.StatusRequestEntityTooLarge},
		{"upload stalled", fmt.Errorf("reading body: %w", os.ErrDeadlineExceeded), false, http.StatusRequestTimeout},
		{"shopper left", fe(fetch.KindCanceled), true, statusClientClosed},
		{"shopper left, any error", errors.New("read: connection reset"), true, statusClientClosed},
		{"5xx", fe(fetch.KindStatus), false, http.StatusBadGateway},
		{"connect", fe(fetch.KindConnect), false, http.StatusBadGateway},
		{"anything else", errors.New("boom"), false, http.StatusBadGateway},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			if tc.gone {
				cancel()
			} else {
				defer cancel()
			}
			r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
			if got := failureStatus(r, tc.err); got != tc.want {
				t.Errorf("failureStatus(%v): got %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

// A box served from a copy within stale-while-revalidate is counted as
// "stale", the same whether the page read it at once at its start or
// after a wait.
func TestStaleBoxCountedStale(t *testing.T) {
	memTest(t, func(t *testing.T, way memWay) {
		obs := &outcomeObserver{}
		s := newMemShop(t, way, shopConfig{
			observer: obs,
			layouts:  map[string]string{"p.html": fmt.Sprintf(faultLayout, "")},
			pages:    "  - path: /\n    layout: p.html",
		}, map[string]http.HandlerFunc{
			"shell": htmlHandler(0, "<h1>main</h1>", "Cache-Control", "no-store"),
			"box":   htmlHandler(0, "<p>box</p>", "Cache-Control", "public, max-age=1, stale-while-revalidate=600"),
		}, guard.Config{Failures: 100})
		if status, body := s.get(t, "/"); status != http.StatusOK || body != boxPage("<p>box</p>") {
			t.Fatalf("first page: %d %q", status, body)
		}
		synctest.Wait()
		time.Sleep(2 * time.Second) // the box's copy is stale now, within its stale-while-revalidate
		obs.reset()
		if status, body := s.get(t, "/"); status != http.StatusOK || body != boxPage("<p>box</p>") {
			t.Fatalf("page with the stale copy: %d %q", status, body)
		}
		synctest.Wait() // the background refresh is done
		if got := obs.counts()["box box stale"]; got != 1 {
			t.Errorf("box counted stale %d times, want 1; counts: %v", got, obs.counts())
		}
	})
}
