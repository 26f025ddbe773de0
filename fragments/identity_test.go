package fragments

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/inlayhq/inlay/fragments/cache"
	"github.com/inlayhq/inlay/fragments/fetch"
)

// L14: A fragment fetched with an identity assertion is credentialed: stored
// only when it says public or s-maxage, and never keyed by the assertion
// (a response that varies on it is not stored at all).
func TestIdentityAssertionIsCredentialed(t *testing.T) {
	for _, tc := range []struct {
		name      string
		header    http.Header
		wantFetch int64
	}{
		{"private by default", http.Header{"Cache-Control": {"max-age=60"}}, 2},
		{"public", http.Header{"Cache-Control": {"public, max-age=60"}}, 1},
		{"s-maxage", http.Header{"Cache-Control": {"s-maxage=60"}}, 1},
		{"varies on the assertion", http.Header{"Cache-Control": {"public, max-age=60"}, "Vary": {fetch.HeaderIdentity}}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var upstream atomic.Int64
			next := fetch.FetcherFunc(func(context.Context, *fetch.Request) (*fetch.Response, error) {
				upstream.Add(1)
				return &fetch.Response{Status: 200, Header: tc.header.Clone(), Body: []byte("box")}, nil
			})
			c := cache.New(next, cache.Config{CleanupInterval: -1})
			defer c.Close()
			for _, assertion := range []string{"eyJ.shopper-a.sig", "eyJ.shopper-b.sig"} {
				fields := []fetch.Field{{Name: fetch.HeaderIdentity, Values: []string{assertion}}}
				if _, err := c.Fetch(context.Background(), &fetch.Request{URL: "http://t/x", Fields: fields}, nil); err != nil {
					t.Fatal(err)
				}
			}
			if n := upstream.Load(); n != tc.wantFetch {
				t.Errorf("upstream fetches: %d, want %d", n, tc.wantFetch)
			}
		})
	}
}
