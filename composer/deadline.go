package composer

import (
	"context"
	"slices"
	"sync"
	"time"
)

// pageDeadline is a page's deadline context, made on first use: a page
// whose boxes are all fresh in the cache never asks it anything, and
// makes no timer. Its Done channel or a value makes it; its deadline
// and its error do not. cancel ends it, made or not.
//
// The page's fetches learn that it was canceled through OnCancel, which
// makes no context: the fetches sent together, reading their answers on
// the page's goroutine, share one watch of the shopper's request.
type pageDeadline struct {
	parent   context.Context
	deadline time.Time

	once     sync.Once
	ctx      context.Context
	stop     context.CancelFunc
	mu       sync.Mutex
	canceled bool // cancel came before anything made it

	// Under mu: the functions OnCancel registered and not yet run or
	// stopped; the watch of the parent they share, once one was
	// registered; and whether they were taken to run (cut: the page was
	// canceled or its shopper left), after which a function registered
	// runs at once.
	cuts        []*pageCut
	parentWatch func() bool
	cut         bool
}

// pageCut is one function registered with OnCancel.
type pageCut struct {
	p    *pageDeadline
	f    func()
	done bool // run or stopped; under p.mu
}

var _ context.Context = (*pageDeadline)(nil)

func (p *pageDeadline) get() context.Context {
	p.once.Do(func() {
		ctx, stop := context.WithDeadline(p.parent, p.deadline)
		p.mu.Lock()
		p.ctx, p.stop = ctx, stop
		if p.canceled {
			stop()
		}
		p.mu.Unlock()
	})
	return p.ctx
}

// cancel ends the page's fetches that still run. A page that never
// started its fetches has nothing to end. It reports whether no function
// OnCancel registered was run or can still run, nor the watch of the
// parent: then no goroutine of its own can still touch p.
func (p *pageDeadline) cancel() (quiet bool) {
	p.mu.Lock()
	p.canceled = true
	stop, watch, cuts := p.stop, p.parentWatch, p.takeCuts()
	p.mu.Unlock()
	if stop != nil {
		stop()
	}
	// The watch is stopped only here: false means the shopper's request
	// ended first, and runCuts runs or ran.
	quiet = watch == nil || watch()
	startCuts(cuts)
	return quiet && len(cuts) == 0
}

// OnCancel arranges for f to run, on a goroutine of its own, once the
// page is canceled or its shopper's request ends, and returns a stop
// that keeps f from running and reports whether it did. It is
// context.AfterFunc for the page's fetches, without a context of the
// page's own and with one watch of the parent for all of them. Unlike
// AfterFunc, it does not run f when the page's deadline passes: a fetch
// sets that deadline on its connection itself (see Deadline).
func (p *pageDeadline) OnCancel(f func()) (stop func() bool) {
	c := &pageCut{p: p, f: f}
	p.mu.Lock()
	if p.cut {
		c.done = true
		p.mu.Unlock()
		go f()
		return c.stop
	}
	p.cuts = append(p.cuts, c)
	if p.parentWatch == nil {
		// AfterFunc never runs runCuts on this goroutine, so mu may be
		// held.
		p.parentWatch = context.AfterFunc(p.parent, p.runCuts)
	}
	p.mu.Unlock()
	return c.stop
}

// runCuts runs the functions OnCancel registered, once: the shopper's
// request ended.
func (p *pageDeadline) runCuts() {
	p.mu.Lock()
	cuts := p.takeCuts()
	p.mu.Unlock()
	startCuts(cuts)
}

// takeCuts takes the functions OnCancel registered, to be run, and makes
// any registered later run at once. p.mu is held.
func (p *pageDeadline) takeCuts() []*pageCut {
	cuts := p.cuts
	p.cuts, p.cut = nil, true
	for _, c := range cuts {
		c.done = true
	}
	return cuts
}

// startCuts runs each cut's function on a goroutine of its own, as
// context.AfterFunc does.
func startCuts(cuts []*pageCut) {
	for _, c := range cuts {
		go c.f()
	}
}

// stop keeps c's function from running, and reports whether it did.
func (c *pageCut) stop() bool {
	p := c.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.done {
		return false
	}
	c.done = true
	if i := slices.Index(p.cuts, c); i >= 0 {
		p.cuts = slices.Delete(p.cuts, i, i+1)
	}
	return true
}

// Deadline returns the page's deadline, or its parent's when sooner. It
// makes nothing: every fetch of the page asks it.
func (p *pageDeadline) Deadline() (time.Time, bool) {
	if d, ok := p.parent.Deadline(); ok && d.Before(p.deadline) {
		return d, true
	}
	return p.deadline, true
}

// Done is closed when the page's deadline passes, the shopper leaves, or
// the page is done.
func (p *pageDeadline) Done() <-chan struct{} { return p.get().Done() }

// Err says why Done was closed, or would be now. Until something made
// the context it makes none: every fetch of the page asks it before
// reading its answer.
func (p *pageDeadline) Err() error {
	p.mu.Lock()
	made, canceled := p.ctx != nil, p.canceled
	p.mu.Unlock()
	switch {
	case made:
		return p.ctx.Err()
	case canceled:
		return context.Canceled
	}
	if err := p.parent.Err(); err != nil {
		return err
	}
	if !time.Now().Before(p.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// Value returns the parent's value for key.
func (p *pageDeadline) Value(key any) any { return p.get().Value(key) }
