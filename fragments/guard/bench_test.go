package guard

import (
	"context"
	"testing"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/internal/stagetest"
)

// BenchmarkTicket is what the guards cost a fetch of a healthy service
// that a page sends and reads later: a slot and the breakers' leave, the
// outcome told, and the breakers' state read from the ticket for the
// fetch's report.
func BenchmarkTicket(b *testing.B) {
	g := New(nil, nil, stagetest.DiscardLogger())
	req := &fetch.Request{ID: "box", Service: "search", URL: "http://search/box", Endpoint: "/box"}
	ctx := context.Background()
	for b.Loop() {
		t, err := g.Admit(ctx, req, false)
		if err != nil {
			b.Fatal(err)
		}
		t.Done(nil, true)
		if t.Breaker() != "closed" { // as an exchange reads it for its report
			b.Fatal("breaker not closed")
		}
	}
}
