package fragments

import (
	"context"
	"sync"
	"time"

	"github.com/inlayhq/inlay/fragments/balance"
	"github.com/inlayhq/inlay/fragments/cache"
	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/guard"
	"github.com/inlayhq/inlay/fragments/transport"
)

// Pending is a fetch begun by [Engine.Start] whose answer is not read
// yet. How it was begun decides what [Pending.Wait] waits on:
//   - a fresh hit, or a stale copy, is resolved: nothing to wait on;
//   - a miss waits on its flight, the one fetch of its key that every
//     caller asking for it at once shares;
//   - a hit-for-miss key whose last answer was small, of a service the
//     lean client reaches with a slot free under its limit, waits on its
//     exchange: the request went out at Start, and Wait reads the answer
//     on the caller's goroutine;
//   - anything else waits on a goroutine of its own that fetches from
//     the service under its guards.
//
// A Pending may be copied before its Wait, and the copy waited for
// instead: what runs on other goroutines is held by pointer.
type Pending struct {
	e   *Engine
	ctx context.Context
	req *fetch.Request
	rep fetch.Report
	how how

	resp *fetch.Response // resolved
	err  error

	miss *miss // waitFlight

	ex     *exchange // waitExchange, until Wait has read it
	g      *goFetch  // waitGoroutine
	waited bool      // Wait waited for the service's answer to its exchange
	quiet  bool      // see Quiet
}

// goFetch is a fetch on a goroutine of its own, which a Pending waits on.
type goFetch struct {
	done chan struct{} // closed once resp and err are set
	resp *fetch.Response
	err  error
}

// miss is a fetch that joined its key's flight: made only for those, so
// that a Pending stays small.
type miss struct {
	look   cache.Lookup
	flight cache.Flight
}

// exchange is a fetch sent at Start, for Wait to read: taken from
// exchanges only for those, so that a Pending stays small, and given back
// once Wait has read it.
type exchange struct {
	ticket guard.Ticket       // the guards' slot, ended in Wait
	x      transport.Exchange // the request, sent
	waited bool               // Wait waited for the service's answer
	g      *group             // the service's version it went to
	in     *instance          // and the instance
	ep     *balance.Endpoint  // the instance in the group's set; nil for none
	sent   time.Time
}

// exchanges keeps the exchanges that Wait is done with: a page sends
// most of its boxes this way, and each would be an allocation of its
// own. Nothing holds an exchange past its Wait: the transport's
// connection goes back to its pool, or is closed, inside it.
var exchanges = sync.Pool{New: func() any { return new(exchange) }}

// how is what a Pending waits on.
type how uint8

const (
	resolved      how = iota // nothing: resp and err are set
	waitFlight               // its flight
	waitExchange             // its exchange, read on the caller's goroutine
	waitGoroutine            // the goroutine that fetches it
	waitCall                 // nothing yet: Wait fetches it, on the caller's goroutine
)

// sentTogetherMaxBody is the largest last answer of a fragment that is
// sent at Start and read at Wait: one that fits, headers and all, in what
// a connection takes in before the service has to wait for it to be read
// (Linux's default TCP receive buffer is 128 KiB). A page reads its
// answers in order, so a later answer must be able to arrive whole
// while the page waits for an earlier one: its service is never held
// up, and the answer is there when the page comes to it, even after a
// slow box used up its deadline.
const sentTogetherMaxBody = 32 << 10

// Start begins fetching req and returns at once, with the fetch's answer
// still to read: see [Pending] for what it waits on. This is how a page
// fetches its boxes: it starts them all, then reads their answers in the
// order it writes them. Every fetch of the engine comes in this way;
// [Engine.Fetch] is Start, then Wait.
//
// The caller must call [Pending.Wait] once, also when it no longer wants
// the answer: the fetch's slot and connection are freed there, at once
// when ctx has ended.
//
// into, when not nil, is where the fetch is kept: a page keeps all of its
// fetches in one slice. It must be a zero Pending.
func (e *Engine) Start(ctx context.Context, req *fetch.Request, into *Pending) *Pending {
	return e.start(ctx, req, true, into)
}

// start begins the fetch. With async unset, the caller waits at once on
// its own goroutine, and a fetch that would need a goroutine of its own
// runs in Wait instead.
func (e *Engine) start(ctx context.Context, req *fetch.Request, async bool, p *Pending) *Pending {
	if p == nil {
		p = &Pending{}
	}
	if e.someCanary.Load() {
		req = e.canaried(req)
	}
	p.e, p.ctx, p.req = e, ctx, req
	p.rep.Canary = req.Canary
	if e.bypass(req) {
		p.rep.Tier = fetch.TierOrigin
		p.toOrigin(async, false)
		return p
	}
	look := e.cache.Lookup(req)
	look.Report(&p.rep)
	switch look.Status {
	case fetch.CacheHit, fetch.CacheStale:
		p.resp = look.Resp
		p.quiet = look.Status == fetch.CacheHit // a stale copy's refresh runs on
	case fetch.CachePass:
		p.toOrigin(async, look.PassBody <= sentTogetherMaxBody)
	default:
		p.how, p.miss = waitFlight, &miss{look: look, flight: e.cache.Join(ctx, req, look)}
	}
	return p
}

// toOrigin begins a fetch from the service, past the cache. small says
// the answer is likely to fit in the connection's buffers, so that it can
// wait there until the caller reads it.
func (p *Pending) toOrigin(async, small bool) {
	e := p.e
	e.stats.UpstreamGets.Add(1)
	if async && small && p.send() {
		return
	}
	if !async {
		p.how = waitCall
		return
	}
	g := &goFetch{done: make(chan struct{})}
	p.how, p.g = waitGoroutine, g
	e, ctx, req := p.e, p.ctx, p.req
	go func() {
		defer close(g.done)
		g.resp, g.err = e.fetchOrigin(ctx, req)
	}()
}

// send sends the request now, for Wait to read its answer, when the
// service's transport can and its limit has a slot free with nobody
// waiting. It reports false, holding nothing, when it did not send.
func (p *Pending) send() bool {
	e, req := p.e, p.req
	svc := (*e.services.Load())[req.Service]
	if svc == nil || svc.can != nil {
		return false // a service with a canary is observed on the goroutine path
	}
	g := svc.group(req.Canary)
	if g.key.hedge {
		return false // a hedge races on goroutines
	}
	in, ep := g.pick(nil)
	if !in.frag.CanStart(req) {
		if ep != nil {
			ep.Done(0, balance.Canceled)
		}
		return false
	}
	t, err := e.guards.Admit(p.ctx, req, false)
	if err != nil {
		if ep != nil {
			ep.Done(0, balance.Canceled)
		}
		if err == guard.ErrWouldWait {
			return false
		}
		p.err = err
		return true
	}
	ex := exchanges.Get().(*exchange)
	ex.ticket, ex.g, ex.in, ex.ep = t, g, in, ep
	if ep != nil {
		g.retry.Deposit()
		ex.sent = time.Now()
	}
	if !in.frag.Start(p.ctx, req, &ex.x) {
		t.Abandon() // nothing was sent (CanStart said it would be)
		if ep != nil {
			ep.Done(0, balance.Canceled)
		}
		ex.release()
		return false
	}
	if ep != nil {
		// Its answer waits in the connection until the caller reads it:
		// past that time the request no longer loads the instance.
		ep.Unload()
	}
	p.ex, p.how = ex, waitExchange
	e.stats.SentTogether.Add(1)
	e.upstreamCount(req.Service).Add(1)
	return true
}

// fetchOrigin fetches req from its service under its guards, with a
// panic turned into the fetch's failure.
func (e *Engine) fetchOrigin(ctx context.Context, req *fetch.Request) (resp *fetch.Response, err error) {
	defer func() {
		if v := recover(); v != nil {
			resp, err = nil, fetch.Panicked(e.stats, e.logger, req, v)
		}
	}()
	return e.origin(ctx, req)
}

// Request returns the request the fetch sent.
func (p *Pending) Request() *fetch.Request { return p.req }

// Ready reports whether Wait would return without waiting for a
// service: the answer, or the first of it, is here. It waits for
// nothing. A page that sees false writes out what it has before it
// waits.
func (p *Pending) Ready() bool {
	switch p.how {
	case waitFlight:
		return p.miss.flight.Ready()
	case waitExchange:
		return p.ex.x.Ready()
	case waitGoroutine:
		select {
		case <-p.g.done:
			return true
		default:
			return false
		}
	case waitCall:
		return false
	}
	return true
}

// Answered is Ready without reading any connection: true for a cache
// hit, a fetch that failed before its request went out, and a flight or
// goroutine that ended. A page asks it of every fetch as it starts them:
// a service has not answered a request sent a moment ago, and a read to
// find that out would cost a system call and a read buffer per fetch.
func (p *Pending) Answered() bool {
	switch p.how {
	case waitExchange:
		return p.ex.x.Answered()
	default:
		return p.Ready()
	}
}

// Wait returns the fetch's answer, and the report of how it was served:
// which cache tier answered, whether it was coalesced, and the state of
// the service's breaker after it. A panic anywhere below fails only this
// fetch.
func (p *Pending) Wait() (resp *fetch.Response, rep fetch.Report, err error) {
	if p.how == resolved && p.err == nil {
		return p.resp, p.rep, nil // a hit: nothing below to guard
	}
	return p.wait()
}

// wait is Wait for a fetch that waits on something, with a panic below
// turned into the fetch's failure.
func (p *Pending) wait() (resp *fetch.Response, rep fetch.Report, err error) {
	defer func() {
		if v := recover(); v != nil {
			resp, err = nil, fetch.Panicked(p.e.stats, p.e.logger, p.req, v)
		}
		rep = p.rep
	}()
	switch p.how {
	case resolved:
		resp, err = p.resp, p.err
	case waitFlight:
		resp, err = p.e.cache.Await(p.ctx, p.req, p.miss.flight, p.miss.look, &p.rep)
	case waitExchange:
		// Its ticket gave the report its breaker state.
		resp, err = p.waitExchange()
		return resp, p.rep, err
	case waitGoroutine:
		<-p.g.done
		resp, err = p.g.resp, p.g.err
	case waitCall:
		resp, err = p.e.fetchOrigin(p.ctx, p.req)
	}
	if c := p.rep.Cache; c != fetch.CacheHit && c != fetch.CacheStale {
		p.rep.Breaker = p.e.guards.Breaker(p.req)
	}
	return resp, p.rep, err
}

// waitExchange reads the exchange's answer, and ends the fetch's ticket.
func (p *Pending) waitExchange() (resp *fetch.Response, err error) {
	var retried bool // see Quiet
	ex := p.ex
	defer func() {
		if v := recover(); v != nil {
			err = &fetch.Error{Kind: fetch.KindPanic, ID: p.req.ID, Service: p.req.Service}
			ex.ticket.Done(err, ex.waited)
			panic(v)
		}
		// A round-trip time is the service's only when Wait waited for
		// the answer: one that was already here says how long the caller
		// took to come for it.
		ex.ticket.Done(err, ex.waited)
		p.rep.Breaker = ex.ticket.Breaker()
		p.ex, p.how, p.resp, p.err, p.waited, p.quiet = nil, resolved, resp, err, ex.waited, !retried
		ex.release()
	}()
	resp, err, ex.waited = ex.x.Wait()
	if ex.ep != nil {
		// When the answer was here before the page came to it, the time
		// since it was sent is the page's, not the instance's.
		ex.ep.Outcome(time.Since(ex.sent), outcomeOf(err), ex.waited)
		ex.g.mark(ex.in, resp)
		if retryable(p.ctx, err) {
			retried = true
			resp, err = ex.g.again(p.ctx, p.req, ex.ep, ex.sent, resp, err)
		}
	}
	return resp, err
}

// release gives the exchange back to exchanges, emptied: nothing it
// pointed to is kept alive by the pool.
func (ex *exchange) release() {
	*ex = exchange{}
	exchanges.Put(ex)
}

// Quiet reports, once Wait has returned, that nothing the fetch began
// can still use its request or its context: it was answered at Start
// from a fresh entry of the local cache, or its request was sent at
// Start and Wait read the answer on the caller's goroutine, with no
// retry. A stale copy's refresh, a flight and a goroutine of the fetch's
// own may each outlive Wait with the request in hand; a retry goes
// through the service's transport, whose own goroutines (net/http's) may
// too. A caller that keeps its requests in memory of its own may reuse
// that memory once every fetch that used it is quiet.
func (p *Pending) Quiet() bool { return p.quiet }

// SentTogether reports whether the fetch's request went out at Start, for
// Wait to read its answer on the caller's goroutine: an answer that is
// small, and most often here by the time it is read.
func (p *Pending) SentTogether() bool { return p.how == waitExchange }
