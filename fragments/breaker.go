package fragments

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Defaults of a service's guard.
const (
	DefaultBreakerFailures = 5
	DefaultBreakerOpenFor  = 10 * time.Second
	DefaultBreakerProbes   = 1
	DefaultBreakerWindow   = time.Minute
	DefaultMaxConcurrent   = 128
)

// GuardConfig configures the circuit breaker and concurrency cap of one
// service.
type GuardConfig struct {
	// Failures is how many consecutive failures open the breaker. Zero
	// means DefaultBreakerFailures.
	Failures uint32
	// OpenFor is how long the breaker stays open before it lets probes
	// through. Zero means DefaultBreakerOpenFor.
	OpenFor time.Duration
	// Probes is how many requests a half-open breaker lets through. Zero
	// means DefaultBreakerProbes.
	Probes uint32
	// Window is how often a closed breaker forgets its counts. Zero means
	// DefaultBreakerWindow.
	Window time.Duration
	// MaxConcurrent caps the fetches in flight to the service; overflow is
	// refused at once. Zero means DefaultMaxConcurrent.
	MaxConcurrent int
}

// Guards is a [Fetcher] that gives every service its own circuit breaker
// (github.com/sony/gobreaker/v2) and concurrency cap, so that one sick
// service fails fast without touching the others.
//
// Connect errors, timeouts, broken bodies and 5xx count as failures. A 4xx
// is an answer, so a success. A caller that went away, and a fetch refused
// by the cap, are not counted at all.
type Guards struct {
	next   Fetcher
	config func(service string) GuardConfig
	stats  *Stats
	logger *slog.Logger

	mu     sync.Mutex // protects guards
	guards map[string]*guard
}

var _ Fetcher = (*Guards)(nil)

type guard struct {
	breaker *gobreaker.CircuitBreaker[*Response]
	slots   chan struct{} // one token per fetch in flight
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

// Fetch passes req on unless its service's breaker is open or its
// concurrency cap is reached.
func (g *Guards) Fetch(ctx context.Context, req *Request) (*Response, error) {
	gd := g.guard(req.Service)
	select {
	case gd.slots <- struct{}{}:
	default:
		g.stats.Overflows.Add(1)
		report(req, func(r *Report) { r.Breaker = gd.breaker.State().String() })
		return nil, &Error{Kind: KindOverflow, ID: req.ID, Service: req.Service}
	}
	defer func() { <-gd.slots }()
	resp, err := gd.breaker.Execute(func() (*Response, error) { return g.next.Fetch(ctx, req) })
	report(req, func(r *Report) { r.Breaker = gd.breaker.State().String() })
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		g.stats.BreakerOpen.Add(1)
		return nil, &Error{Kind: KindBreakerOpen, ID: req.ID, Service: req.Service, Err: err}
	}
	return resp, err
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

func (g *Guards) guard(service string) *guard {
	g.mu.Lock()
	defer g.mu.Unlock()
	if gd, ok := g.guards[service]; ok {
		return gd
	}
	cfg := g.config(service)
	failures := cmpOr(cfg.Failures, DefaultBreakerFailures)
	gd := &guard{
		slots: make(chan struct{}, cmpOr(cfg.MaxConcurrent, DefaultMaxConcurrent)),
		breaker: gobreaker.NewCircuitBreaker[*Response](gobreaker.Settings{
			Name:        service,
			MaxRequests: cmpOr(cfg.Probes, DefaultBreakerProbes),
			Interval:    cmpOr(cfg.Window, DefaultBreakerWindow),
			Timeout:     cmpOr(cfg.OpenFor, DefaultBreakerOpenFor),
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
			OnStateChange: func(name string, from, to gobreaker.State) {
				level := slog.LevelWarn
				if to == gobreaker.StateClosed {
					level = slog.LevelInfo
				}
				g.logger.LogAttrs(context.Background(), level, "circuit breaker changed state",
					slog.String("service", name), slog.String("from", from.String()), slog.String("to", to.String()))
			},
			IsSuccessful: countsAsSuccess,
			IsExcluded:   func(err error) bool { return KindOf(err) == KindCanceled },
		}),
	}
	g.guards[service] = gd
	return gd
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

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
