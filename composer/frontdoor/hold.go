package frontdoor

import (
	"bytes"
	"net/http"
	"sync"
)

// maxHeld is the most a held response keeps before writing through: a
// page held whole is at most 256 KiB, its headers a few more.
const maxHeld = 512 << 10

var heldBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Held is a response held back on its connection, see [Hold].
type Held struct{ c *headConn }

// Hold makes the connection r arrived on keep what the server writes to
// it until [Held.Release], which sends it all in one write. A page known
// whole, headers and body, then leaves in one system call instead of two:
// Go's server writes through a 4 KiB buffer, which a page of more than
// that overflows, and then writes the rest on its own.
//
// It works for HTTP/1 requests that came through [Listener]; elsewhere
// the Held does nothing. Hold and Release must be called on the goroutine
// that serves r, Release after the response has been flushed to the
// connection (http.ResponseController.Flush), and always: a deferred call
// is the safe form.
func Hold(r *http.Request) Held {
	hc, _ := r.Context().Value(headConnKey{}).(*headConn)
	if hc == nil || r.ProtoMajor != 1 || hc.held != nil {
		return Held{}
	}
	hc.held = heldBuffers.Get().(*bytes.Buffer)
	return Held{hc}
}

// Active reports whether the connection is holding what is written to it.
func (h Held) Active() bool { return h.c != nil && h.c.held != nil }

// Release writes what the connection held, in one write, and lets later
// writes through.
func (h Held) Release() error {
	if !h.Active() {
		return nil
	}
	buf := h.c.held
	h.c.held = nil
	var err error
	if buf.Len() > 0 {
		_, err = h.c.Conn.Write(buf.Bytes())
	}
	if buf.Cap() <= maxHeld {
		buf.Reset()
		heldBuffers.Put(buf)
	}
	return err
}

// Write sends p, or keeps it while the connection is held. A held
// connection that would keep more than maxHeld writes what it has first.
func (c *headConn) Write(p []byte) (int, error) {
	if c.held == nil {
		return c.Conn.Write(p)
	}
	if c.held.Len()+len(p) > maxHeld {
		if c.held.Len() > 0 {
			if _, err := c.Conn.Write(c.held.Bytes()); err != nil {
				return 0, err
			}
			c.held.Reset()
		}
		return c.Conn.Write(p)
	}
	return c.held.Write(p)
}
