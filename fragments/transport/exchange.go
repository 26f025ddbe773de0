package transport

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
)

// Exchange is a fetch of the lean client whose request is sent and whose
// answer is not read yet: see [Transport.Start]. Its zero value is ready
// for Start; it is used once.
//
// The request goes out on an idle kept-alive connection, or on one
// dialled for it on a goroutine that ends once the request is out. The
// answer waits in the connection's buffers until Wait reads it, on the
// caller's goroutine: no goroutine per fetch, and no read buffer until an
// answer is read.
//
// A connection without raw reads (one that a [Config.Dial] made, such as
// an in-memory pipe) cannot tell what is here from what is not, nor read
// without waiting: an answer left in it could not be taken once its
// deadline has passed. Its answer is read as it comes, on a goroutine of
// the exchange's own, as net/http's transport would.
type Exchange struct {
	x     h1Exchange
	conns *H1Conns

	// dialled, when not nil, is closed once the goroutine of the fetch is
	// done: the one that dials a connection for it and sends its request,
	// and, over a connection without raw reads, reads its answer.
	dialled chan struct{}
	// sendErr is why the request could not be sent, once it is known.
	sendErr error
	// read reports that the goroutine read the answer: resp and err.
	read bool
	resp *fetch.Response
	err  error
}

// start sends req over c's lean connections, and reports false when it
// cannot: req is not a plain http:// URL.
func (x *Exchange) start(ctx context.Context, c *Client, req *fetch.Request) bool {
	u, ok := startTarget(req)
	if !ok {
		return false
	}
	p := c.Conns
	now := time.Now()
	conn := p.idleConn(u.addr, now) // nil: one is dialled below
	deadline, _ := fetchDeadline(ctx, req, now)
	x.conns = p
	x.x = h1Exchange{p: p, c: c, conn: conn, u: u, req: req, ctx: ctx, deadline: deadline}
	if conn == nil {
		x.dial()
	} else if err := x.x.send(); err != nil {
		x.x.keep = false
		x.x.close()
		if errors.Is(err, errRetry) {
			x.dial() // the service closed the kept-alive connection: a new one
		} else {
			x.sendErr = err // Wait ends the fetch with it
		}
	} else if conn.raw == nil {
		x.dialled = make(chan struct{})
		go func() {
			defer close(x.dialled)
			x.receive()
		}()
	}
	return true
}

// receive reads the answer and ends the exchange: on the goroutine of a
// connection without raw reads, which reads the answer as it comes.
func (x *Exchange) receive() {
	h := &x.x
	defer h.close()
	x.resp, x.err = h.receive()
	x.read = true
}

// dial dials a connection for the fetch and sends its request on a
// goroutine of its own, which ends as soon as the request is out: the
// page's boxes that find no idle connection dial at once, side by side,
// as they would on goroutines of their own, and the page still reads
// their answers itself.
func (x *Exchange) dial() {
	x.dialled = make(chan struct{})
	h := &x.x
	go func() {
		defer close(x.dialled)
		conn, err := x.conns.dialConn(h.ctx, h.u.addr, h.deadline)
		if err != nil {
			x.sendErr = h.c.fail(h.ctx, h.req, h.deadline, fetch.KindConnect, err)
			return
		}
		h.conn = conn
		if err := h.send(); err != nil {
			h.keep = false
			h.close()
			x.sendErr = err
			return
		}
		if conn.raw == nil {
			x.receive()
		}
	}()
}

// Ready reports whether Wait would find something to read at once: the
// request is out and the service has begun to answer (or failed). It
// waits for nothing. A page that sees false writes out what it has
// before it waits.
func (x *Exchange) Ready() bool {
	return !x.dialling() && (x.sendErr != nil || x.read || x.x.conn.readable())
}

// Answered reports, without reading the connection, whether Wait would
// return at once: the request could not be sent, or the answer was read.
// Right after [Exchange.Start] a service has not answered yet, so a
// caller that starts many fetches asks this and saves a read per fetch
// (and the read buffer it takes); [Exchange.Ready] is for the moment
// before a wait.
func (x *Exchange) Answered() bool {
	return !x.dialling() && (x.sendErr != nil || x.read)
}

// dialling reports that the exchange's connection is still being dialled
// (and its request not yet sent).
func (x *Exchange) dialling() bool {
	if x.dialled == nil {
		return false
	}
	select {
	case <-x.dialled:
		return false
	default:
		return true
	}
}

// Wait reads the answer whole and returns it as [Transport.Fetch] would
// have. waited reports whether it had to wait for the service: when it
// did not, the time since the request was sent says more of the caller
// than of the service. An answer whose deadline passed before Wait was
// called is taken as far as it is already here, with nothing waited
// for: the time was spent on the caller's earlier waits, and a complete
// answer costs nothing more to show.
func (x *Exchange) Wait() (resp *fetch.Response, err error, waited bool) {
	h := &x.x
	if x.dialled != nil {
		select {
		case <-x.dialled:
		default:
			waited = true // the caller waits for the service's connection
			<-x.dialled
		}
	}
	switch {
	case x.sendErr != nil:
		return nil, x.sendErr, waited
	case x.read:
		resp, err = x.resp, x.err
	default:
		func() {
			defer func() {
				waited = waited || h.conn.blocked
				h.close()
			}()
			resp, err = h.receive()
		}()
	}
	if errors.Is(err, errRetry) && h.ctx.Err() == nil {
		// The service had closed the kept-alive connection before it
		// read the request: once more, on another, as Fetch does.
		waited = true
		resp, err = x.conns.fetch(h.ctx, h.c, h.req, h.deadline)
	}
	return resp, err, waited
}

// Deadline is when the exchange's fetch must have ended.
func (x *Exchange) Deadline() time.Time { return x.x.deadline }

// startTarget is where an exchange sends req: a plain http:// URL only.
func startTarget(req *fetch.Request) (target, bool) {
	if !strings.HasPrefix(req.URL, "http://") {
		return target{}, false
	}
	return parseTarget(req.URL)
}
