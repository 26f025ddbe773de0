package cache

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/internal/stagetest"
)

// E10: a coalesced follower whose leader's answer may not be shared
// fetches again within what is left of its own timeout, not a new one:
// with a 450ms no-store fragment and an 800ms timeout, the followers give
// up at 800ms, where a fresh timeout would have answered at 900ms.
func TestCoalescedFollowerRefetchKeepsItsTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const latency, timeout, n = 450 * time.Millisecond, 800 * time.Millisecond, 5
		up := stagetest.Slow(latency, "Cache-Control", "no-store")
		c := newTestCache(t, up, Config{})
		start := time.Now()
		var took [n]time.Duration
		results := stagetest.FetchAll(context.Background(), stagetest.ReporterFunc(func(ctx context.Context, req *fetch.Request, rep *fetch.Report) (*fetch.Response, error) {
			resp, err := c.Fetch(ctx, req, rep)
			var i int
			fmt.Sscan(req.ID, &i)
			took[i] = time.Since(start)
			return resp, err
		}), n, func(i int) *fetch.Request {
			return &fetch.Request{ID: fmt.Sprint(i), Service: "search", URL: "http://search/ns", Timeout: timeout}
		})()
		var served, timedOut int
		for i, r := range results {
			switch {
			case r.Err == nil && !r.Report.Coalesced && took[i] == latency:
				served++ // the leader
			case fetch.KindOf(r.Err) == fetch.KindTimeout && r.Report.Coalesced && took[i] == timeout:
				timedOut++
			default:
				t.Errorf("fetch %d: got %v after %v (coalesced %v), want the leader's answer at %v or a follower's timeout at %v",
					i, r.Err, took[i], r.Report.Coalesced, latency, timeout)
			}
		}
		if served != 1 || timedOut != n-1 {
			t.Errorf("got %d served and %d timed out, want 1 and %d", served, timedOut, n-1)
		}
	})
}
