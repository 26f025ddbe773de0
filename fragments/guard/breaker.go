package guard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
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
	// bound the new endpoints share one breaker, otherEndpoints.
	maxEndpointBreakers = 256
	// otherEndpoints names the breaker of the endpoints past
	// maxEndpointBreakers. A src path starts with a slash, so it names
	// no endpoint.
	otherEndpoints = "(other endpoints)"
	// gatewayEndpoint names the breaker of a service's gateway requests:
	// to the breakers they are one endpoint of the service.
	gatewayEndpoint = "(gateway)"
	// minSpan is the least number of endpoints whose breakers must be
	// open at once for the service's breaker to open; see [Guards].
	minSpan = 2
)

// Config configures the circuit breaker and concurrency limit of one
// service. Zero fields take the defaults.
type Config struct {
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
	// ServiceOnly gives the service its one breaker and no breaker per
	// endpoint (per_endpoint: false): every fetch's failure counts against
	// the whole service. By default every endpoint (its src path as the
	// layout writes it) has a breaker of its own, which alone counts its
	// failures, and the service's breaker opens only when failures span
	// the service (see [Guards]).
	ServiceOnly bool
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
//
// By default every endpoint of a service (a src path as the layout writes
// it; the gateway's requests are one more) has a breaker of its own, and
// only it counts the endpoint's fetches and refuses them once it opens. An
// endpoint's failures, and its breaker's refusals, never count at the
// service level: the service's breaker opens only when failures span the
// service, that is when the breakers of at least two of its endpoints, and
// of at least half of those it has been asked for, are open (or half-open)
// at once; or, for a service that has been asked for one endpoint only,
// when that one's is. Until then the service's breaker does not count a
// failure at all. One broken endpoint, or one URL that an attacker found
// to fail, takes down its own endpoint and no other; a service that is
// down breaks every endpoint, and once half of them have opened, its
// other boxes fail fast too, without each paying min_requests failures.
// The breakers learn a service's endpoints as they are asked for, before
// any breaker is consulted; so "one endpoint only" holds only until
// another box of the service is asked for, which then counts however the
// service's breaker answers it. A service whose breaker opened that way
// closes it again with its next probe that succeeds, and from then on the
// one endpoint's failures do not count. With [Config.ServiceOnly] the
// service has its one breaker, which counts every fetch.
//
// A timeout caused by Inlay's own queue is not the service's failure. A
// fetch that waited for the concurrency limit and is left, once it has a
// slot, less time than the service's usual latency ([Limiter.Latency]) is
// refused at once as [KindOverflow], never sent. One that is sent and
// times out counts against the breakers and cuts the limit only if it
// was sent with at least the healthy tolerance over the usual latency
// (one and a half times it, as the limit's gradient judges a sample) left:
// a service slower than that is slower than usual, while a timeout with
// less left says more of the queue than of the service.
type Guards struct {
	config func(service string) Config
	stats  *fetch.Stats
	logger *slog.Logger

	mu     sync.RWMutex // protects guards; every fetch reads them
	guards map[string]*guard
}

// guard is the breaker and limit of one service.
type guard struct {
	cfg     Config
	breaker *breaker
	limiter *Limiter

	mu        sync.Mutex                          // serializes adding to endpoints
	endpoints atomic.Pointer[map[string]*breaker] // replaced whole when one is added: every fetch reads it
}

// New returns the guards of every service. config gives each
// service's settings; nil means the defaults for all. stats and logger
// may be nil.
func New(config func(service string) Config, stats *fetch.Stats, logger *slog.Logger) *Guards {
	if config == nil {
		config = func(string) Config { return Config{} }
	}
	if stats == nil {
		stats = &fetch.Stats{}
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Guards{config: config, stats: stats, logger: logger, guards: map[string]*guard{}}
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

// Ticket is a fetch the guards let through: its slot under the service's
// concurrency limit and the breakers' second step, which [Ticket.Done]
// ends once the fetch's outcome is known, on any goroutine.
type Ticket struct {
	gd     *guard
	ep     *breaker
	st     steps
	req    *fetch.Request // with its timeout cut to what the queue left
	start  time.Time
	theirs bool // a timeout of the fetch is the service's (see Guards)
}

// ErrWouldWait is the error of [Guards.Admit] told not to wait, when the
// service's limit has no slot free now: nothing is held.
var ErrWouldWait = errors.New("no slot free under the concurrency limit now")

// Admit asks the guards of req's service for a slot: the breakers
// (service, and endpoint when it has them) and the concurrency limit. An
// open breaker refuses at once. With wait, a fetch over the limit waits
// in the service's queue within its own deadline; without, it gets
// [ErrWouldWait] and holds nothing. The ticket is valid for
// [Ticket.Breaker] even when Admit fails; only a ticket that came with
// no error is ended with Done.
func (g *Guards) Admit(ctx context.Context, req *fetch.Request, wait bool) (Ticket, error) {
	gd := g.guard(req.Service)
	t := Ticket{gd: gd, ep: gd.endpointOf(req, g), req: req, theirs: true}
	if gd.breaker.state() == gobreaker.StateOpen {
		// Fail fast: an open breaker refuses without queueing.
		g.stats.BreakerOpen.Add(1)
		t.ep = nil
		return t, &fetch.Error{Kind: fetch.KindBreakerOpen, ID: req.ID, Service: req.Service, Err: gobreaker.ErrOpenState}
	}
	if !wait {
		if !gd.limiter.tryAcquire() {
			return t, ErrWouldWait
		}
	} else if err := g.wait(ctx, &t); err != nil {
		return t, err
	}
	t.start = time.Now()
	st, err := g.allow(gd, t.ep)
	if err != nil {
		gd.limiter.Release(0, false, true)
		return t, g.refused(req, err)
	}
	st.queueTimeout = !t.theirs
	t.st = st
	return t, nil
}

// wait takes a slot under the service's limit for t's fetch, waiting in
// its queue within the fetch's own deadline, which runs from now: a
// wait for the limit is part of it.
func (g *Guards) wait(ctx context.Context, t *Ticket) error {
	req, gd := t.req, t.gd
	var deadline time.Time
	if req.Timeout > 0 {
		deadline = time.Now().Add(req.Timeout)
	}
	queued, err := gd.limiter.Acquire(ctx, deadline)
	if queued {
		g.stats.Queued.Add(1)
	}
	var left time.Duration // of the fetch's time, or ctx's if sooner, once it waited
	if err == nil && queued {
		left, err = gd.inTime(ctx, deadline)
	}
	if err != nil {
		switch {
		case errors.Is(err, errQueueFull), errors.Is(err, errTooLate):
			g.stats.Overflows.Add(1)
			return &fetch.Error{Kind: fetch.KindOverflow, ID: req.ID, Service: req.Service, Err: err}
		case errors.Is(err, errQueueTimeout):
			return &fetch.Error{Kind: fetch.KindTimeout, ID: req.ID, Service: req.Service, Err: err}
		}
		return ctxFailure(ctx, req, err)
	}
	// A timeout is the service's only with time enough to answer as
	// usual: a fetch sent at once has its whole deadline.
	t.theirs = !queued || left < 0 || left >= gd.limiter.tolerated()
	if queued && req.Timeout > 0 {
		// What is left of the deadline after the wait.
		cut := *req
		cut.Timeout = max(time.Until(deadline), time.Nanosecond)
		t.req = &cut
	}
	return nil
}

// Fetch fetches req through next under the guards of its service: it
// waits for a slot under the limit, and tells the breakers and the limit
// the outcome. It returns the state of the breakers after the fetch (see
// [Ticket.Breaker]).
func (g *Guards) Fetch(ctx context.Context, req *fetch.Request, next fetch.Fetcher) (resp *fetch.Response, breaker string, err error) {
	t, err := g.Admit(ctx, req, true)
	if err != nil {
		return nil, t.Breaker(), err
	}
	defer func() {
		if v := recover(); v != nil {
			t.Done(&fetch.Error{Kind: fetch.KindPanic, ID: req.ID, Service: req.Service, Err: fmt.Errorf("panic: %v", v)}, true)
			panic(v)
		}
		t.Done(err, true)
		breaker = t.Breaker()
	}()
	resp, err = next.Fetch(ctx, t.Request())
	return resp, "", err
}

// Breaker returns the state of the breakers of req's service, as
// [Ticket.Breaker] would after a fetch of it.
func (g *Guards) Breaker(req *fetch.Request) string {
	gd := g.guard(req.Service)
	t := Ticket{gd: gd, ep: gd.endpointOf(req, g)}
	return t.Breaker()
}

// Abandon ends a ticket whose fetch was never sent: it counts nothing,
// and gives its slot back.
func (t *Ticket) Abandon() {
	t.st.done(errNotCounted)
	t.gd.limiter.Release(0, false, true)
}

// Request returns the request to send: the one admitted, with its
// timeout cut to what a wait in the queue left of it.
func (t *Ticket) Request() *fetch.Request { return t.req }

// Done tells the breakers and the limit the fetch's outcome, once.
// measured says whether the time since Admit is the service's: false
// when the answer was already there before anyone waited for it, and the
// time says more of the caller than of the service.
func (t *Ticket) Done(err error, measured bool) {
	t.st.done(err)
	kind := fetch.KindOf(err)
	timedOut := kind == fetch.KindTimeout && t.theirs
	t.gd.limiter.Release(time.Since(t.start), timedOut,
		kind == fetch.KindCanceled || kind == fetch.KindBreakerOpen || kind == fetch.KindPanic ||
			kind == fetch.KindTimeout && !timedOut || !measured && kind != fetch.KindTimeout)
}

// Breaker returns the state of the breakers that guarded the fetch: the
// endpoint's when it is the more open, else the service's.
func (t *Ticket) Breaker() string {
	st := t.gd.breaker.state()
	if t.ep != nil && st == gobreaker.StateClosed {
		st = t.ep.state()
	}
	return st.String()
}

// inTime checks a fetch that waited in the queue and was given a slot,
// and returns what is left of its deadline (or ctx's, if sooner; -1 when
// it has neither). When that is less than the service's usual latency, it
// gives the slot back and fails with errTooLate. Before the first answer
// of the service there is nothing to go by, and the fetch goes.
func (gd *guard) inTime(ctx context.Context, deadline time.Time) (left time.Duration, err error) {
	if d, ok := ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
		deadline = d
	}
	if deadline.IsZero() {
		return -1, nil
	}
	left = time.Until(deadline)
	if usual := gd.limiter.Latency(); usual > 0 && left < usual {
		gd.limiter.Release(0, false, true)
		return left, errTooLate
	}
	return left, nil
}

// errTooLate is why a fetch that waited for the limit was not sent: too
// little of its deadline was left for the service to answer as usual.
var errTooLate = errors.New("slot came with less time left than the service usually takes to answer")

// tolerated is the least time left with which a fetch that waited in the
// queue and then timed out counts it against the service.
func (l *Limiter) tolerated() time.Duration {
	return time.Duration(float64(l.Latency()) * rttTolerance)
}

// allow is the first step of a fetch through the service's breaker and,
// if the service has them, its endpoint's (ep, from [guard.endpoint]): it
// fails with the breaker's error when one of them refuses. The second
// step is [steps.done], given the fetch's error once it is known, on any
// goroutine: a fetch sent by [Engine.Start] is read later than it was
// allowed.
//
// With endpoint breakers, the service's closed breaker is not asked:
// it would count nothing of the fetch but a failure that spans the
// service, which done tells it then. Open, it refuses; half-open, the
// fetch may be its probe.
func (g *Guards) allow(gd *guard, ep *breaker) (steps, error) {
	if ep == nil {
		service, err := gd.breaker.Allow()
		return steps{gd: gd, service: service}, err
	}
	var service func(error)
	if gd.breaker.state() != gobreaker.StateClosed {
		var err error
		if service, err = gd.breaker.Allow(); err != nil {
			return steps{}, err
		}
	}
	own, err := ep.Allow()
	if err != nil {
		if service != nil {
			service(errNotCounted) // the endpoint's refusal is no fetch of the service's
		}
		return steps{}, err
	}
	return steps{gd: gd, own: own, service: service}, nil
}

// steps is the second step of a fetch through the breakers: a plain
// value, so that the fetches of a healthy service make no closure for it.
type steps struct {
	gd           *guard
	own          func(error) // the endpoint's breaker's; nil when the service has none
	service      func(error) // the service's; nil when allow did not ask it
	queueTimeout bool        // a timeout of this fetch is the queue's doing, not the service's
}

// done tells the breakers the fetch's outcome.
func (st steps) done(err error) {
	if st.queueTimeout && fetch.KindOf(err) == fetch.KindTimeout {
		err = errors.Join(err, errNotCounted)
	}
	if st.own == nil {
		st.service(err)
		return
	}
	st.own(err)
	switch {
	case failed(err) && !st.gd.spans():
		err = errors.Join(err, errNotCounted) // the endpoint's failure, not the service's
	case failed(err) && st.service == nil:
		// A failure that spans the service: the service's breaker was
		// not asked, being closed, and counts it now (unless it opened
		// meanwhile).
		if service, e := st.gd.breaker.Allow(); e == nil {
			service(err)
		}
		return
	}
	if st.service != nil {
		st.service(err)
	}
}

// errNotCounted marks an outcome the breakers leave out, as they leave
// out a caller that went away: the refusal of an endpoint's breaker, or
// at the service level a failure that does not span the service, or a
// timeout that the queue caused.
var errNotCounted = errors.New("not counted against the service")

// excluded says which outcomes a breaker does not count at all.
func excluded(err error) bool {
	k := fetch.KindOf(err)
	return k == fetch.KindCanceled || k == fetch.KindPanic || errors.Is(err, errNotCounted)
}

// failed says which outcomes a breaker counts as failures.
func failed(err error) bool { return !excluded(err) && !countsAsSuccess(err) }

// refused is the error of a fetch a breaker would not let through.
func (g *Guards) refused(req *fetch.Request, err error) error {
	g.stats.BreakerOpen.Add(1)
	return &fetch.Error{Kind: fetch.KindBreakerOpen, ID: req.ID, Service: req.Service, Err: err}
}

// run calls fetch and gives its error to st, as gobreaker's Execute
// does: a panic in fetch is a failure, and panics on.
func run[T any](st steps, fetch func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			st.done(fmt.Errorf("%v", p))
			panic(p)
		}
	}()
	v, err = fetch()
	st.done(err)
	return v, err
}

// ctxFailure is the error of a fetch whose context ended before it was
// sent: a timeout if its deadline passed, else a cancellation.
func ctxFailure(ctx context.Context, req *fetch.Request, err error) *fetch.Error {
	kind := fetch.KindCanceled
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		kind = fetch.KindTimeout
	}
	return &fetch.Error{Kind: kind, ID: req.ID, Service: req.Service, Err: err}
}

// State returns the breaker state of a service: "closed", "half-open" or
// "open".
func (g *Guards) State(service string) string {
	return g.guard(service).breaker.State().String()
}

// Counts returns the counts of a service's own breaker. With a breaker per
// endpoint (the default), it is told only the failures that span the
// service, and a fetch while it is closed is not counted there: see
// [Guards.EndpointCounts] for an endpoint's.
func (g *Guards) Counts(service string) gobreaker.Counts {
	return g.guard(service).breaker.Counts()
}

// EndpointCounts returns the counts of the breaker of one endpoint of a
// service: a src path as the layout writes it. They are zero when the
// endpoint has no breaker (yet, or per_endpoint is off).
func (g *Guards) EndpointCounts(service, endpoint string) gobreaker.Counts {
	if m := g.guard(service).endpoints.Load(); m != nil {
		if b, ok := (*m)[endpoint]; ok {
			return b.Counts()
		}
	}
	return gobreaker.Counts{}
}

// Waiting returns how many fetches wait for a service's concurrency limit.
func (g *Guards) Waiting(service string) int {
	return g.guard(service).limiter.Waiting()
}

// InFlight returns how many fetches of a service hold a slot under its
// concurrency limit.
func (g *Guards) InFlight(service string) int {
	return g.guard(service).limiter.InFlight()
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
		limiter: NewLimiter(LimiterConfig{Max: cfg.MaxConcurrent, MaxQueue: cfg.MaxQueue}),
	}
	var trip func(gobreaker.Counts) bool
	if !cfg.ServiceOnly {
		trip = func(gobreaker.Counts) bool { return gd.spans() }
	}
	gd.breaker = g.newBreaker(service, cfg, trip)
	g.guards[service] = gd
	return gd
}

// endpointOf returns the breaker of req's endpoint; see [guard.endpoint].
func (gd *guard) endpointOf(req *fetch.Request, g *Guards) *breaker {
	if gd.cfg.ServiceOnly {
		return nil
	}
	return gd.endpoint(endpointName(req), g)
}

// endpoint returns the breaker of an endpoint, made on its first use, or
// nil when the service has none. It takes no lock once the endpoint is
// known.
func (gd *guard) endpoint(name string, g *Guards) *breaker {
	if gd.cfg.ServiceOnly {
		return nil
	}
	if m := gd.endpoints.Load(); m != nil {
		if b, ok := (*m)[name]; ok {
			return b
		}
	}
	gd.mu.Lock()
	defer gd.mu.Unlock()
	var known map[string]*breaker
	if m := gd.endpoints.Load(); m != nil {
		known = *m
	}
	if b, ok := known[name]; ok {
		return b
	}
	if len(known) >= maxEndpointBreakers {
		name = otherEndpoints
		if b, ok := known[name]; ok {
			return b
		}
	}
	next := make(map[string]*breaker, len(known)+1)
	maps.Copy(next, known)
	b := g.newBreaker(gd.breaker.Name()+" "+name, gd.cfg, nil)
	next[name] = b
	gd.endpoints.Store(&next)
	return b
}

// spans reports whether failures span the service: the breakers of at
// least minSpan of its endpoints, and of at least half of them, are not
// closed; or those of all, when it has fewer than minSpan. See [Guards]
// for why.
func (gd *guard) spans() bool {
	m := gd.endpoints.Load()
	if m == nil {
		return false
	}
	open := 0
	for _, b := range *m {
		if b.state() != gobreaker.StateClosed {
			open++
		}
	}
	return open > 0 && open >= min(minSpan, len(*m)) && 2*open >= len(*m)
}

// newBreaker makes a breaker that opens on the failure rate over a
// rolling window, or on Failures in a row when that is set; or, when trip
// is not nil, on trip alone.
func (g *Guards) newBreaker(name string, cfg Config, trip func(gobreaker.Counts) bool) *breaker {
	rate := cmp.Or(cfg.FailureRate, DefaultBreakerFailureRate)
	minRequests := cmp.Or(cfg.MinRequests, DefaultBreakerMinRequests)
	window := cmp.Or(cfg.Window, DefaultBreakerWindow)
	if trip == nil {
		trip = func(c gobreaker.Counts) bool {
			if cfg.Failures > 0 && c.ConsecutiveFailures >= cfg.Failures {
				return true
			}
			return c.Requests >= minRequests && float64(c.TotalFailures) >= rate*float64(c.Requests)
		}
	}
	b := new(breaker)
	b.TwoStepCircuitBreaker = gobreaker.NewTwoStepCircuitBreaker[*fetch.Response](gobreaker.Settings{
		Name:         name,
		MaxRequests:  cmp.Or(cfg.Probes, DefaultBreakerProbes),
		Interval:     window,
		BucketPeriod: min(DefaultBreakerBucket, window),
		Timeout:      cmp.Or(cfg.OpenFor, DefaultBreakerOpenFor),
		ReadyToTrip:  trip,
		OnStateChange: func(name string, from, to gobreaker.State) {
			b.tripped.Store(to != gobreaker.StateClosed)
			level := slog.LevelWarn
			if to == gobreaker.StateClosed {
				level = slog.LevelInfo
			}
			g.logger.LogAttrs(context.Background(), level, "circuit breaker changed state",
				slog.String("service", name), slog.String("from", from.String()), slog.String("to", to.String()))
		},
		IsSuccessful: countsAsSuccess,
		IsExcluded:   excluded,
	})
	return b
}

// countsAsSuccess says which outcomes do not count against a service: an
// answer, even a 4xx, and contract slips such as a wrong content type or an
// oversized body, which say nothing of the service's health.
func countsAsSuccess(err error) bool {
	switch fetch.KindOf(err) {
	case fetch.KindConnect, fetch.KindTimeout, fetch.KindBody:
		return false
	case fetch.KindStatus:
		var fe *fetch.Error
		return errors.As(err, &fe) && fe.Status < http.StatusInternalServerError
	}
	return err == nil || fetch.KindOf(err) != 0
}

// breaker is a circuit breaker in two steps: a fetch is allowed, then
// its outcome told, so that one sent now and read later is counted as
// one run whole.
type breaker struct {
	*gobreaker.TwoStepCircuitBreaker[*fetch.Response]
	// tripped mirrors the state for [breaker.state]: true from the
	// moment the breaker opens until it closes again. gobreaker sets its
	// state under its lock and tells OnStateChange there, so a fetch
	// that reads false reads what State would have said a moment before.
	tripped atomic.Bool
}

// state is State, without the lock and the clock that State takes while
// the breaker is closed: a healthy service's fetches ask it several times
// each. Only a tripped breaker asks State, which also moves an open
// breaker to half-open once its time is up.
func (b *breaker) state() gobreaker.State {
	if !b.tripped.Load() {
		return gobreaker.StateClosed
	}
	return b.State()
}

// errQueueFull is why a fetch was refused by a service's limit.
var errQueueFull = errors.New("concurrency limit reached and wait queue full")

// endpointName returns the name of req's endpoint.
func endpointName(r *fetch.Request) string {
	if r.Asset {
		return gatewayEndpoint // one breaker with the route's streamed requests
	}
	if r.Endpoint != "" {
		return r.Endpoint
	}
	if u, err := url.Parse(r.URL); err == nil {
		return u.Path
	}
	return r.URL
}
