package fragments

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/internal/poison"
	"github.com/inlayhq/inlay/teams/teamtest"
)

func TestReleasedBodyIsPoisoned(t *testing.T) {
	if !poison.Enabled() {
		t.Skip("poisoning is off while benchmarks run")
	}
	forEachClient(t, testReleasedBodyIsPoisoned)
}

func testReleasedBodyIsPoisoned(t *testing.T, newClient clientMaker) {
	const sent = "<p>hello</p>"
	srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, sent)
	})
	c := newClient(t, 0)
	c.Budget = fetch.NewBudget(1 << 20)
	resp, err := c.Fetch(t.Context(), fragmentRequest(srv.URL, safetyTimeout))
	if err != nil {
		t.Fatal(err)
	}
	body := resp.Body
	if string(body) != sent {
		t.Fatalf("body before release: %q, want %q", body, sent)
	}
	resp.Release()
	if want := bytes.Repeat([]byte{poison.Byte}, len(sent)); !bytes.Equal(body, want) {
		t.Errorf("body after release: %q, want the poison %q", body, want)
	}
}
