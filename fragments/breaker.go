package fragments

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Defaults of a service's guard.
const (
	// DefaultBreakerFailureRate is the share of failed fetches within the
	// window that opens the breaker.
	DefaultBreakerFailureRate = 0.5
	// DefaultBreakerMinRequests is how many fetches the window must hold
	// before its failure rate counts, so that two failures of a quiet
	// service do not open it.
	DefaultBreakerMinRequests = 20
	// DefaultBreakerWindow is the rolling window the failure rate is
	// measured over, in buckets of DefaultBreakerBucket.
	DefaultBreakerWindow = 10 * time.Second
	// DefaultBreakerBucket is the step the window rolls by.
	DefaultBreakerBucket  = time.Second
	DefaultBreakerOpenFor = 10 * time.Second
	DefaultBreakerProbes  = 1
	// maxEndpointBreakers bounds the per-endpoint breakers of one
	// service. Endpoints come from layouts, so there are few; past the
	// bound a new endpoint shares the service's breaker only.
	maxEndpointBreakers = 256
)

// GuardConfig configures the circuit breaker and concurrency limit of one
// service. Zero fields take the defaults.
type GuardConfig struct {
	// Failures, when set, also opens the breaker after that many failures
	// in a row, whatever the rate. Zero means no such rule: the failure
	// rate decides.
	Failures uint32
	// FailureRate is the share of failed fetches within Window that opens
	// the breaker, once Window holds MinRequests fetches. Zero means
	// DefaultBreakerFailureRate.
	FailureRate float64
	// MinRequests is the least number of fetches in Window before the
	// rate counts. Zero means DefaultBreakerMinRequests.
	MinRequests uint32
	// Window is the rolling window of the failure rate. Zero means
	// DefaultBreakerWindow.
	Window time.Duration
	// OpenFor is how long the breaker stays open before it lets probes
	// through. Zero means DefaultBreakerOpenFor.
	OpenFor time.Duration
	// Probes is how many requests a half-open breaker lets through. Zero
	// means DefaultBreakerProbes.
	Probes uint32
	// PerEndpoint gives every endpoint of the service (its src path as the
	// layout writes it) a breaker of its own as well, so that one broken
	// endpoint fails fast without blacking out the service's other boxes.
	PerEndpoint bool
	// MaxConcurrent is the hard ceiling of the adaptive concurrency
	// limit. Zero means DefaultMaxConcurrent.
	MaxConcurrent int
	// MaxQueue bounds the fetches waiting for the limit. Zero means
	// DefaultMaxQueue.
	MaxQueue int
}

// Guards is a [Fetcher] that gives every service its own circuit breaker
// (github.com/sony/gobreaker/v2) and adaptive concurrency limit, so that
// one sick service fails fast without touching the others, and a healthy
// one is never refused.
//
// Connect errors, timeouts, broken bodies and 5xx count as failures. A 4xx
// is an answer, so a success. A caller that went away, and a fetch that
// never got a slot, are not counted at all.
type Guards struct {
	next   Fetcher
	config func(service string) GuardConfig
	stats  *Stats
	logger *slog.Logger

	mu     sync.RWMutex // protects guards; every fetch reads them
	guards map[string]*guard
}

var _ Fetcher = (*Guards)(nil)

// guard is the breaker and limit of one service.
type guard struct {
	cfg     GuardConfig
	breaker *breaker
	limiter *Limiter

	mu        sync.Mutex // protects endpoints
	endpoints map[string]*breaker
}

// NewGuards returns Guards in front of next. config gives each service's
// settings; nil means the defaults for all. stats and logger may be nil.
func NewGuards(next Fetcher, config func(service string) GuardConfig, stats *Stats, logger *slog.Logger) *Guards {
	if config == nil {
		config = func(string) GuardConfig { return GuardConfig{} }
	}
	if stats == nil {
		stats = &Stats{}
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Guards{next: next, config: config, stats: stats, logger: logger, guards: map[string]*guard{}}
}

// Reconfigure reads every service's settings again. A service whose
// settings did not change keeps its breaker state, counts and limit; a
// changed one starts afresh.
func (g *Guards) Reconfigure() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for name, gd := range g.guards {
		if g.config(name) != gd.cfg {
			delete(g.guards, name)
		}
	}
}

// Fetch passes req on unless its service's (or endpoint's) breaker is
// open, once the service's concurrency limit gives it a slot.
func (g *Guards) Fetch(ctx context.Context, req *Request) (*Response, error) {
	gd := g.guard(req.Service)
	if st := gd.breaker.State(); st == gobreaker.StateOpen {
		// Fail fast: an open breaker refuses without queueing.
		g.stats.BreakerOpen.Add(1)
		report(req, func(r *Report) { r.Breaker = st.String() })
		return nil, &Error{Kind: KindBreakerOpen, ID: req.ID, Service: req.Service, Err: gobreaker.ErrOpenState}
	}
	// The fetch's own deadline runs from now: a wait for the limit is part
	// of it.
	var deadline time.Time
	if req.Timeout > 0 {
		deadline = time.Now().Add(req.Timeout)
	}
	queued, err := gd.limiter.Acquire(ctx, deadline)
	if queued {
		g.stats.Queued.Add(1)
	}
	if err != nil {
		report(req, func(r *Report) { r.Breaker = gd.breaker.State().String() })
		switch {
		case errors.Is(err, errQueueFull):
			g.stats.Overflows.Add(1)
			return nil, &Error{Kind: KindOverflow, ID: req.ID, Service: req.Service, Err: err}
		case errors.Is(err, errQueueTimeout):
			return nil, &Error{Kind: KindTimeout, ID: req.ID, Service: req.Service, Err: err}
		}
		return nil, ctxFailure(ctx, req, err)
	}
	if queued && req.Timeout > 0 {
		// What is left of the deadline after the wait.
		left := *req
		left.Timeout = max(time.Until(deadline), time.Nanosecond)
		req = &left
	}
	start := time.Now()
	resp, err := g.execute(gd, ctx, req)
	kind := KindOf(err)
	gd.limiter.Release(time.Since(start), kind == KindTimeout,
		kind == KindCanceled || kind == KindBreakerOpen || kind == KindPanic)
	report(req, func(r *Report) { r.Breaker = gd.breaker.State().String() })
	return resp, err
}

// execute runs the fetch through the endpoint's breaker, if the service
// has them, and the service's.
func (g *Guards) execute(gd *guard, ctx context.Context, req *Request) (*Response, error) {
	done, err := g.allow(gd, req)
	if err != nil {
		return nil, err
	}
	return run(done, func() (*Response, error) { return g.next.Fetch(ctx, req) })
}

// allow is the first step of a fetch through the service's breaker and,
// if the service has them, its endpoint's: it fails with a
// [KindBreakerOpen] error when one of them refuses. done is the second
// step, given the fetch's error once it is known, on any goroutine: a
// fetch sent by [Engine.Start] is read later than it was allowed.
func (g *Guards) allow(gd *guard, req *Request) (done func(error), err error) {
	service, err := gd.breaker.Allow()
	if err != nil {
		return nil, g.refused(req, err)
	}
	ep := gd.endpoint(req, g)
	if ep == nil {
		return service, nil
	}
	endpoint, err := ep.Allow()
	if err != nil {
		service(err) // the endpoint's refusal is the service's failed fetch, as a nested Execute would count it
		return nil, g.refused(req, err)
	}
	return func(err error) { endpoint(err); service(err) }, nil
}

// refused is the error of a fetch a breaker would not let through.
func (g *Guards) refused(req *Request, err error) error {
	g.stats.BreakerOpen.Add(1)
	return &Error{Kind: KindBreakerOpen, ID: req.ID, Service: req.Service, Err: err}
}

// run calls fetch and gives its error to done, as gobreaker's Execute
// does: a panic in fetch is a failure, and panics on.
func run[T any](done func(error), fetch func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			done(fmt.Errorf("%v", p))
			panic(p)
		}
	}()
	v, err = fetch()
	done(err)
	return v, err
}

// ctxFailure is the error of a fetch whose context ended before it was
// sent: a timeout if its deadline passed, else a cancellation.
func ctxFailure(ctx context.Context, req *Request, err error) *Error {
	kind := KindCanceled
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		kind = KindTimeout
	}
	return &Error{Kind: kind, ID: req.ID, Service: req.Service, Err: err}
}

// State returns the breaker state of a service: "closed", "half-open" or
// "open".
func (g *Guards) State(service string) string {
	return g.guard(service).breaker.State().String()
}

// Counts returns the breaker counts of a service.
func (g *Guards) Counts(service string) gobreaker.Counts {
	return g.guard(service).breaker.Counts()
}

// Waiting returns how many fetches wait for a service's concurrency limit.
func (g *Guards) Waiting(service string) int {
	return g.guard(service).limiter.Waiting()
}

// Limit returns the current concurrency limit of a service.
func (g *Guards) Limit(service string) int {
	return g.guard(service).limiter.Limit()
}

func (g *Guards) guard(service string) *guard {
	g.mu.RLock()
	gd, ok := g.guards[service]
	g.mu.RUnlock()
	if ok {
		return gd
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if gd, ok := g.guards[service]; ok {
		return gd
	}
	cfg := g.config(service)
	gd = &guard{
		cfg:     cfg,
		breaker: g.newBreaker(service, cfg),
		limiter: NewLimiter(LimiterConfig{Max: cfg.MaxConcurrent, MaxQueue: cfg.MaxQueue}),
	}
	g.guards[service] = gd
	return gd
}

// endpoint returns the breaker of req's endpoint, or nil when the service
// has none.
func (gd *guard) endpoint(req *Request, g *Guards) *breaker {
	if !gd.cfg.PerEndpoint {
		return nil
	}
	name := req.endpoint()
	gd.mu.Lock()
	defer gd.mu.Unlock()
	if b, ok := gd.endpoints[name]; ok {
		return b
	}
	if len(gd.endpoints) >= maxEndpointBreakers {
		return nil
	}
	if gd.endpoints == nil {
		gd.endpoints = map[string]*breaker{}
	}
	b := g.newBreaker(req.Service+" "+name, gd.cfg)
	gd.endpoints[name] = b
	return b
}

// newBreaker makes a breaker that opens on the failure rate over a
// rolling window, or on Failures in a row when that is set.
func (g *Guards) newBreaker(name string, cfg GuardConfig) *breaker {
	rate := cmp.Or(cfg.FailureRate, DefaultBreakerFailureRate)
	minRequests := cmp.Or(cfg.MinRequests, DefaultBreakerMinRequests)
	window := cmp.Or(cfg.Window, DefaultBreakerWindow)
	return gobreaker.NewTwoStepCircuitBreaker[*Response](gobreaker.Settings{
		Name:         name,
		MaxRequests:  cmp.Or(cfg.Probes, DefaultBreakerProbes),
		Interval:     window,
		BucketPeriod: min(DefaultBreakerBucket, window),
		Timeout:      cmp.Or(cfg.OpenFor, DefaultBreakerOpenFor),
		ReadyToTrip: func(c gobreaker.Counts) bool {
			if cfg.Failures > 0 && c.ConsecutiveFailures >= cfg.Failures {
				return true
			}
			return c.Requests >= minRequests && float64(c.TotalFailures) >= rate*float64(c.Requests)
		},
		OnStateChange: func(name string, from, to gobreaker.State) {
			level := slog.LevelWarn
			if to == gobreaker.StateClosed {
				level = slog.LevelInfo
			}
			g.logger.LogAttrs(context.Background(), level, "circuit breaker changed state",
				slog.String("service", name), slog.String("from", from.String()), slog.String("to", to.String()))
		},
		IsSuccessful: countsAsSuccess,
		IsExcluded:   func(err error) bool { k := KindOf(err); return k == KindCanceled || k == KindPanic },
	})
}

// countsAsSuccess says which outcomes do not count against a service: an
// answer, even a 4xx, and contract slips such as a wrong content type or an
// oversized body, which say nothing of the service's health.
func countsAsSuccess(err error) bool {
	switch KindOf(err) {
	case KindConnect, KindTimeout, KindBody:
		return false
	case KindStatus:
		var fe *Error
		return errors.As(err, &fe) && fe.Status < http.StatusInternalServerError
	}
	return err == nil || KindOf(err) != 0
}

// breaker is a circuit breaker in two steps: a fetch is allowed, then
// its outcome told, so that one sent now and read later is counted as
// one run whole.
type breaker = gobreaker.TwoStepCircuitBreaker[*Response]

// errQueueFull is why a fetch was refused by a service's limit.
var errQueueFull = errors.New("concurrency limit reached and wait queue full")
