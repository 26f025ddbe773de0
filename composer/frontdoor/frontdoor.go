package frontdoor

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
)

// MaxRequestHead is the largest request head the front door accepts, from
// the request line to the blank line: over it, the answer is 431.
const MaxRequestHead = 32 << 10

// HeadSlack is what Go's server reads on top of MaxHeaderBytes before it
// answers 431 (net/http's initialReadLimitSize adds 4096).
const HeadSlack = 4096

// Listener records the request heads its connections read, for
// CheckFraming.
func Listener(ln net.Listener) net.Listener { return headListener{ln} }

type headListener struct{ net.Listener }

// Accept wraps each connection so that it records its request heads.
func (l headListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &headConn{Conn: c, recording: true}, nil
}

// headConn keeps the bytes read since the connection was opened or went
// idle, up to MaxRequestHead: the head of the request being read.
type headConn struct {
	net.Conn
	mu        sync.Mutex // protects head and recording
	head      []byte
	recording bool
	// held keeps what is written while a response is held (see Hold);
	// nil otherwise. Only the goroutine serving the request touches it.
	held *bytes.Buffer
}

// Read records what it reads while the head is being read.
func (c *headConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		if c.recording {
			keep := min(n, MaxRequestHead-len(c.head))
			c.head = append(c.head, p[:keep]...)
			if len(c.head) >= MaxRequestHead {
				c.recording = false
			}
		}
		c.mu.Unlock()
	}
	return n, err
}

// rearm starts recording the next request's head.
func (c *headConn) rearm() {
	c.mu.Lock()
	c.head, c.recording = c.head[:0], true
	c.mu.Unlock()
}

// take returns the recorded bytes and stops recording: the rest is body.
// They are not copied: nothing writes them again before rearm, which Go's
// server calls (through ConnState) on the connection's own goroutine once
// the request's handler has returned.
func (c *headConn) take() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recording = false
	return c.head
}

type headConnKey struct{}

// ConnContext makes the connection available to CheckFraming.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if hc, ok := c.(*headConn); ok {
		return context.WithValue(ctx, headConnKey{}, hc)
	}
	return ctx
}

// ConnState rearms a connection's recording when it waits for the next
// request.
func ConnState(c net.Conn, state http.ConnState) {
	if hc, ok := c.(*headConn); ok && state == http.StateIdle {
		hc.rearm()
	}
}

// CheckFraming refuses or closes requests whose raw head is ambiguous, then
// serves the rest with next.
func CheckFraming(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hc, _ := r.Context().Value(headConnKey{}).(*headConn)
		if hc == nil || r.ProtoMajor != 1 {
			next.ServeHTTP(w, r)
			return
		}
		switch judgeHead(hc.take(), r) {
		case headRefused:
			w.Header().Set("Connection", "close")
			http.Error(w, "Bad Request: ambiguous message framing", http.StatusBadRequest)
			return
		case headClose:
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// Verdicts on a request head.
const (
	headOK      = iota
	headClose   // serve it, then close the connection
	headRefused // answer 400 and close
)

// judgeHead reads the raw head of r: its request line must be r's (or its
// end, when the server read the first bytes ahead), then its header lines.
func judgeHead(raw []byte, r *http.Request) int {
	end := bytes.Index(raw, []byte("\n"))
	if end < 0 {
		return headClose
	}
	line := strings.TrimSuffix(string(raw[:end]), "\r")
	want := r.Method + " " + r.RequestURI + " " + r.Proto
	if line == "" || !strings.HasSuffix(want, line) || len(line) < len(want)-1 {
		return headClose // not this request's head: it was read ahead
	}
	var te, cl bool
	rest := raw[end+1:]
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return headClose // the head did not fit the recording
		}
		h := bytes.TrimSuffix(rest[:i], []byte("\r"))
		rest = rest[i+1:]
		if len(h) == 0 {
			break
		}
		if h[0] == ' ' || h[0] == '\t' {
			return headRefused // obs-fold
		}
		name, _, _ := bytes.Cut(h, []byte(":"))
		switch {
		case bytes.EqualFold(bytes.TrimSpace(name), []byte("Transfer-Encoding")):
			te = true
		case bytes.EqualFold(bytes.TrimSpace(name), []byte("Content-Length")):
			cl = true
		}
	}
	switch {
	case te && r.ProtoMinor == 0:
		return headRefused
	case te && cl:
		return headClose
	}
	return headOK
}
