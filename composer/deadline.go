package composer

import (
	"context"
	"sync"
	"time"
)

// pageDeadline is a page's deadline context, made on first use: a page
// whose boxes are all fresh in the cache never asks it anything, and
// makes no timer. Any use (its deadline, its Done channel, a value)
// makes it; cancel ends it, made or not.
type pageDeadline struct {
	parent   context.Context
	deadline time.Time

	once     sync.Once
	ctx      context.Context
	stop     context.CancelFunc
	mu       sync.Mutex
	canceled bool // cancel came before anything made it
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
// started its fetches has nothing to end.
func (p *pageDeadline) cancel() {
	p.mu.Lock()
	p.canceled = true
	stop := p.stop
	p.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// Deadline returns the page's deadline, or its parent's when sooner.
func (p *pageDeadline) Deadline() (time.Time, bool) { return p.get().Deadline() }

// Done is closed when the page's deadline passes, the shopper leaves, or
// the page is done.
func (p *pageDeadline) Done() <-chan struct{} { return p.get().Done() }

// Err says why Done was closed.
func (p *pageDeadline) Err() error { return p.get().Err() }

// Value returns the parent's value for key.
func (p *pageDeadline) Value(key any) any { return p.get().Value(key) }
