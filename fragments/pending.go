package fragments

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
)

// Pending is a fragment fetch whose request is sent and whose answer is
// not read yet: see [Engine.Start].
type Pending struct {
	e     *Engine
	gd    *guard
	ep    *breaker // the endpoint's breaker; nil when the service has none
	steps steps    // the breakers' second step
	x     h1Exchange
	sent  time.Time
	err   error // the fetch was refused before it was sent: nothing is held

	// dialled, when not nil, is closed once the goroutine that dials a
	// connection for the fetch and sends its request is done.
	dialled chan struct{}
	// sendErr is why the request could not be sent, once it is known.
	sendErr error
}

// sentTogetherMaxBody is the largest last answer of a fragment that
// [Engine.Start] sends: one that fits, headers and all, in what a
// connection takes in before the service has to wait for it to be read
// (Linux's default TCP receive buffer is 128 KiB). A page reads its
// answers in order, so a later answer must be able to arrive whole
// while the page waits for an earlier one: its service is never held
// up, and the answer is there when the page comes to it, even after a
// slow box used up its deadline.
const sentTogetherMaxBody = 32 << 10

// Start sends req now, on the calling goroutine, and returns the fetch
// with its answer still to read, when nothing stands in the way: the
// cache knows the fragment is never stored (a hit-for-miss key) and its
// last answer was small (see sentTogetherMaxBody), the service is
// reached over the lean HTTP/1.1 client, and it has a slot under its
// concurrency limit with nobody waiting. The request goes out on an idle
// kept-alive connection, or on one dialled for it on a goroutine that
// ends once the request is out. Anything else returns nil, and the
// caller fetches with [Engine.Fetch] as usual: a possible hit, a miss to
// coalesce, a large answer, a queue, or the cache turned off, which
// keeps no marks.
//
// This is how a page fetches the boxes no cache can hold: it sends every
// request at once, then reads the answers in the order it writes them.
// No goroutine per fetch, and no read buffer until an answer is read.
// The fetch counts as Fetch would count it: cache, breakers, limit and
// in-flight budget alike.
//
// The caller must call [Pending.Wait] once, also when it no longer wants
// the answer: the fetch's slot and connection are freed there, at once
// when ctx has ended.
func (e *Engine) Start(ctx context.Context, req *fetch.Request) *Pending {
	svc := (*e.services.Load())[req.Service]
	if svc == nil || svc.h1 == nil || !strings.HasPrefix(req.URL, "http://") {
		return nil
	}
	if e.bypass(req) || !e.cache.passesSmall(req, sentTogetherMaxBody) {
		return nil
	}
	u, ok := parseTarget(req.URL)
	if !ok {
		return nil
	}
	gd := e.guards.guard(req.Service)
	if !gd.limiter.tryAcquire() {
		return nil
	}
	ep := gd.endpointOf(req, e.guards)
	conn := svc.h1.idleConn(u.addr) // nil: one is dialled below
	now := time.Now()
	deadline, _ := fetchDeadline(ctx, req, now)
	p := &Pending{e: e, gd: gd, ep: ep, sent: now}
	p.x = h1Exchange{p: svc.h1, c: svc.client, conn: conn, u: u, req: req, ctx: ctx, deadline: deadline}
	x := &p.x
	var err error
	if p.steps, err = e.guards.allow(gd, ep); err != nil {
		if conn != nil {
			svc.h1.put(conn)
		}
		gd.limiter.Release(0, false, true)
		p.count()
		p.err = e.guards.refused(req, err)
		return p
	}
	if conn == nil {
		p.dial(svc.h1)
	} else if err := x.send(); err != nil {
		x.keep = false
		x.close()
		if errors.Is(err, errRetry) {
			p.dial(svc.h1) // the service closed the kept-alive connection: a new one
		} else {
			p.sendErr = err // Wait ends the fetch with it
		}
	}
	p.count()
	e.stats.SentTogether.Add(1)
	e.upstreamCount(req.Service).Add(1)
	return p
}

// dial dials a connection for the fetch and sends its request on a
// goroutine of its own, which ends as soon as the request is out: the
// page's boxes that find no idle connection dial at once, side by side,
// as they would on goroutines of their own, and the page still reads
// their answers itself.
func (p *Pending) dial(h1 *H1Conns) {
	p.dialled = make(chan struct{})
	x := &p.x
	go func() {
		defer close(p.dialled)
		conn, err := h1.dialConn(x.ctx, x.u.addr, x.deadline)
		if err != nil {
			p.sendErr = x.c.fail(x.ctx, x.req, x.deadline, fetch.KindConnect, err)
			return
		}
		x.conn = conn
		if err := x.send(); err != nil {
			x.keep = false
			x.close()
			p.sendErr = err
		}
	}()
}

// Request returns the request the fetch sent.
func (p *Pending) Request() *fetch.Request { return p.x.req }

// count counts the fetch as the cache counts one that goes to the
// service.
func (p *Pending) count() { p.e.cache.countPass(p.x.req) }

// reportBreaker notes the service's breaker state in the fetch's report,
// as Fetch does.
func (p *Pending) reportBreaker() { p.gd.report(p.x.req, p.ep) }

// Wait reads the answer and returns it as [Engine.Fetch] would have.
// onBlock, when not nil, is called once if the answer is not here yet,
// just before Wait waits for it. An answer whose deadline passed before
// Wait was called is taken as far as it is already here, with nothing
// waited for: the time was spent on the caller's earlier waits, and a
// complete answer costs nothing more to show.
func (p *Pending) Wait(onBlock func()) (resp *fetch.Response, err error) {
	if p.err != nil {
		p.reportBreaker()
		return nil, p.err
	}
	x := &p.x
	blocked := false
	if p.dialled != nil {
		select {
		case <-p.dialled:
		default:
			blocked = true // the page waits for the service's connection
			if onBlock != nil {
				onBlock()
				onBlock = nil
			}
			<-p.dialled
		}
	}
	defer func() {
		if v := recover(); v != nil {
			resp, err = nil, panicked(p.e.stats, p.e.logger, x.req, v)
		}
		p.steps.done(err)
		// A round-trip time is the service's only when Wait waited for
		// the answer: one that was already here says how long the caller
		// took to come for it.
		kind := fetch.KindOf(err)
		p.gd.limiter.Release(time.Since(p.sent), kind == fetch.KindTimeout,
			kind == fetch.KindCanceled || kind == fetch.KindPanic || !blocked && kind != fetch.KindTimeout)
		p.reportBreaker()
	}()
	if p.sendErr != nil {
		return nil, p.sendErr
	}
	func() {
		defer func() {
			blocked = blocked || x.conn.blocked
			x.close()
		}()
		x.conn.onBlock = onBlock
		resp, err = x.receive()
	}()
	if errors.Is(err, errRetry) && x.ctx.Err() == nil {
		// The service had closed the kept-alive connection before it
		// read the request: once more, on another, as Fetch does.
		blocked = true
		resp, err = x.p.fetch(x.ctx, x.c, x.req, x.deadline)
	}
	return resp, err
}
