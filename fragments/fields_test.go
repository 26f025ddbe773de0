package fragments

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/inlayhq/inlay/fragments/cache"
	"github.com/inlayhq/inlay/fragments/fetch"
)

// A response fetched with the shopper's cookie and not marked public is
// never stored, whatever the fetcher below does with the request.
func TestCredentialedResponsesAreNotShared(t *testing.T) {
	fields := []fetch.Field{{Name: "Accept-Language", Values: []string{"de"}}, {Name: "Cookie", Values: []string{"s=1"}}, {Name: fetch.HeaderRequestID, Values: []string{"r1"}}}
	var upstream atomic.Int64
	// This fetcher never looks at the request's headers.
	next := fetch.FetcherFunc(func(context.Context, *fetch.Request) (*fetch.Response, error) {
		upstream.Add(1)
		return &fetch.Response{Status: 200, Header: http.Header{"Cache-Control": {"max-age=60"}}, Body: []byte("per user")}, nil
	})
	c := cache.New(next, cache.Config{CleanupInterval: -1})
	defer c.Close()
	for range 2 {
		if _, err := c.Fetch(context.Background(), &fetch.Request{URL: "http://t/x", Fields: fields}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := upstream.Load(); n != 2 {
		t.Errorf("upstream fetches: got %d, want 2: a response fetched with cookies and without public was stored", n)
	}
}
