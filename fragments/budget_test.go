package fragments

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlayhq/inlay/fragments/cache"
	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/internal/stagetest"
	"github.com/inlayhq/inlay/fragments/transport"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// The in-flight budget gets every byte back when nobody takes a response:
// a flight whose callers all left before its answer came, and a
// background refresh whose answer may not be stored.
func TestBudgetComesBackWhenNobodyTakesTheResponse(t *testing.T) {
	gate := make(chan struct{})
	held := make(chan struct{}, 1)
	var noStore atomic.Bool
	srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/held" {
			held <- struct{}{}
			<-gate
		}
		w.Header().Set("Content-Type", "text/html")
		if noStore.Load() {
			w.Header().Set("Cache-Control", "no-store")
		} else {
			w.Header().Set("Cache-Control", "max-age=0, stale-while-revalidate=60")
		}
		w.Write([]byte("<p>a body of some size</p>"))
	})
	budget := fetch.NewBudget(1 << 20)
	client := &transport.Client{Transport: transport.NewTransport(), Budget: budget}
	c := cache.New(client, cache.Config{CleanupInterval: -1, Logger: stagetest.DiscardLogger()})

	// The caller leaves; the answer comes after.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Fetch(ctx, &fetch.Request{ID: "x", Service: "s", URL: srv.URL + "/held", Timeout: 10 * time.Second}, nil)
		done <- err
	}()
	<-held // the flight's request is at the service
	cancel()
	<-done
	close(gate)

	// A stale copy within stale-while-revalidate starts a refresh, whose
	// answer is no-store now.
	if _, err := c.Fetch(context.Background(), &fetch.Request{ID: "y", Service: "s", URL: srv.URL + "/swr", Timeout: 10 * time.Second}, nil); err != nil {
		t.Fatal(err)
	}
	noStore.Store(true)
	if _, err := c.Fetch(context.Background(), &fetch.Request{ID: "y", Service: "s", URL: srv.URL + "/swr", Timeout: 10 * time.Second}, nil); err != nil {
		t.Fatal(err)
	}
	c.Close() // waits for the refresh
	teamtest.WaitUntil(t, "the budget is all given back once every caller is done", func() bool { return budget.Used() == 0 })
}
