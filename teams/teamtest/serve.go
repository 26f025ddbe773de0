package teamtest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"
)

// Serve starts hs on a free loopback port, with its listener wrapped by
// wrap when wrap is not nil (the front door's, say), and returns the
// address. When the test ends the server shuts down, given 5 seconds for
// the connections it is closing before they are cut, and the test fails
// if it had stopped serving for any other reason.
func Serve(t testing.TB, hs *http.Server, wrap func(net.Listener) net.Listener) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if wrap != nil {
		ln = wrap(ln)
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	t.Cleanup(func() {
		// Shutdown, not Close: it waits for a connection the server is
		// closing after an error, which a leak check would see left behind.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if hs.Shutdown(ctx) != nil {
			hs.Close() // a request still running: cut it
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: got %v, want http.ErrServerClosed", err)
		}
	})
	return addr
}

// GoodFragment is a fragment body that uses what HTML allows and a strict
// XML reading would not: optional end tags, void elements, self-closing
// SVG. Every check of the fragment contract must pass it.
const GoodFragment = `<section class="team-box">
  <h2>Today</h2>
  <p>First<p>Second
  <ul><li>one<li>two</ul>
  <img src="/team/static/a.png" alt=""><br/>
  <table><tr><td>1<td>2<tr><td>3</table>
  <select><option>a<option>b</select>
  <svg viewBox="0 0 1 1"><path d="M0 0"/></svg>
  <script type="application/ld+json">{"@type": "Thing"}</script>
</section>`
