package balance

import (
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of a [RetryBudgetConfig].
const (
	// DefaultRetryRatio is the share of a service's requests that may be
	// sent again, as retries and hedges together.
	DefaultRetryRatio = 0.1
	// DefaultRetryWindow is how far back the budget counts requests.
	DefaultRetryWindow = 10 * time.Second
	// DefaultRetryMinPerSecond is the floor of the budget: a service
	// with little traffic may still be sent one extra fetch a second.
	DefaultRetryMinPerSecond = 1.0
)

// RetryBudgetConfig configures a [RetryBudget]. Zero fields take the
// defaults.
type RetryBudgetConfig struct {
	// Ratio is the extra fetches allowed per request of the window: 0.1
	// allows one retry or hedge per ten requests. Negative allows none,
	// the floor included.
	Ratio float64
	// Window is how far back requests and extra fetches are counted.
	Window time.Duration
	// MinPerSecond is the floor: this many extra fetches a second, over
	// the window, are allowed whatever the traffic.
	MinPerSecond float64
}

// RetryBudget bounds the extra fetches (retries and hedges) sent to one
// service to a share of its requests over a sliding window, as Finagle's
// and Envoy's retry budgets do: when a service fails as a whole, retries
// stay a small addition to its load instead of multiplying it. It is safe
// for concurrent use.
type RetryBudget struct {
	ratio float64
	floor float64 // extra fetches per window, whatever the traffic
	base  time.Time
	win   *window // requests, extra fetches

	mu sync.Mutex // Withdraw's check and count

	requests, withdrawn, refused atomic.Uint64
}

// Cells of a budget's window.
const (
	cellDeposits = iota
	cellWithdrawals
)

// NewRetryBudget returns a budget with nothing spent.
func NewRetryBudget(cfg RetryBudgetConfig) *RetryBudget {
	if cfg.Ratio == 0 {
		cfg.Ratio = DefaultRetryRatio
	}
	cfg.Window = positiveOr(cfg.Window, DefaultRetryWindow)
	cfg.MinPerSecond = positiveOr(cfg.MinPerSecond, DefaultRetryMinPerSecond)
	b := &RetryBudget{
		ratio: cfg.Ratio,
		floor: cfg.MinPerSecond * cfg.Window.Seconds(),
		base:  time.Now(),
		win:   newWindow(cfg.Window, 2),
	}
	if cfg.Ratio < 0 {
		b.ratio, b.floor = 0, 0
	}
	return b
}

func (b *RetryBudget) now() int64 { return int64(time.Since(b.base)) }

// Deposit counts one request to the service: each fetch asked for, not
// its retries and hedges.
func (b *RetryBudget) Deposit() {
	b.requests.Add(1)
	b.win.add(b.now(), cellDeposits, 1)
}

// Withdraw takes one extra fetch from the budget, reporting false, and
// taking nothing, when the window's extra fetches already reach the
// ratio of its requests or the floor, whichever is larger.
func (b *RetryBudget) Withdraw() bool {
	now := b.now()
	var c [2]float64 // by cell: deposits, withdrawals
	b.mu.Lock()
	b.win.sums(now, c[:])
	ok := c[cellWithdrawals]+1 <= max(b.ratio*c[cellDeposits], b.floor)
	if ok {
		b.win.add(now, cellWithdrawals, 1)
	}
	b.mu.Unlock()
	if ok {
		b.withdrawn.Add(1)
	} else {
		b.refused.Add(1)
	}
	return ok
}

// RetryBudgetStats counts what a budget was asked, since it was made.
type RetryBudgetStats struct {
	// Requests counts deposits, Withdrawn the extra fetches allowed,
	// Refused those refused.
	Requests, Withdrawn, Refused uint64
}

// Stats returns the budget's counters.
func (b *RetryBudget) Stats() RetryBudgetStats {
	return RetryBudgetStats{
		Requests:  b.requests.Load(),
		Withdrawn: b.withdrawn.Load(),
		Refused:   b.refused.Load(),
	}
}
