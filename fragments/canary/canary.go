package canary

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Buckets is how many buckets the shoppers are hashed into: a weight of w
// percent gives the canary the shoppers of the first w×100.
const Buckets = 10_000

// Defaults of the automatic analysis.
const (
	// DefaultWindow is how far back the analysis looks.
	DefaultWindow = 10 * time.Second
	// DefaultMinRequests is how many canary requests the window must hold
	// before the canary is judged, so that a couple of early failures do
	// not roll it back. At weight 10 of 100 requests a second it is
	// reached in 2 s.
	DefaultMinRequests = 20
	// DefaultFailureMargin is how far the canary's failure rate may go
	// above the stable version's before it is rolled back: 5 points (a
	// stable version failing 1% of requests leaves its canary up to 6%).
	DefaultFailureMargin = 0.05
	// DefaultLatencyFactor is how many times the stable version's p99 the
	// canary's p99 may reach before it is rolled back.
	DefaultLatencyFactor = 1.5
	// DefaultLatencyFloor is the least stable p99 the factor applies to:
	// a canary is never rolled back for a p99 under
	// DefaultLatencyFactor×DefaultLatencyFloor (75 ms), however fast the
	// stable version, since a few milliseconds more on a fast service is
	// noise, not a fault.
	DefaultLatencyFloor = 50 * time.Millisecond
)

const (
	// slotWidth is the width of one slot of the rolling window.
	slotWidth = time.Second
	// maxWindow bounds Config.Window.
	maxWindow = 5 * time.Minute
	// judgeEvery is how often, at most, the window is judged: the
	// canary's requests trigger it, one of them at a time.
	judgeEvery = 250 * time.Millisecond
)

// Config configures a [Canary]. Zero fields take the defaults.
type Config struct {
	// Service names the service whose canary this is. It keys the
	// shoppers' buckets and the logs.
	Service string
	// Weight is the percent of shoppers given the canary, 0 to 100.
	Weight int
	// Window is how far back the analysis looks, rounded up to whole
	// seconds: DefaultWindow when zero, at most 5 minutes.
	Window time.Duration
	// MinRequests is how many canary requests the window must hold for
	// the canary to be judged: DefaultMinRequests when zero.
	MinRequests int
	// FailureMargin is how much the canary's failure rate may exceed the
	// stable version's, as a fraction (0.05 is 5 points):
	// DefaultFailureMargin when zero.
	FailureMargin float64
	// LatencyFactor is how many times the stable p99 the canary's p99 may
	// reach: DefaultLatencyFactor when zero, more than 1.
	LatencyFactor float64
	// LatencyFloor is the least stable p99 LatencyFactor applies to:
	// DefaultLatencyFloor when zero.
	LatencyFloor time.Duration
	// Logger receives the rollbacks and weight changes. Nil means
	// slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	c.Window = cmp.Or(c.Window, DefaultWindow)
	c.MinRequests = cmp.Or(c.MinRequests, DefaultMinRequests)
	c.FailureMargin = cmp.Or(c.FailureMargin, DefaultFailureMargin)
	c.LatencyFactor = cmp.Or(c.LatencyFactor, DefaultLatencyFactor)
	c.LatencyFloor = cmp.Or(c.LatencyFloor, DefaultLatencyFloor)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	var errs []error
	if c.Service == "" {
		errs = append(errs, errors.New("the service is not named"))
	}
	if err := checkWeight(c.Weight); err != nil {
		errs = append(errs, err)
	}
	if c.Window < 0 || c.Window > maxWindow {
		errs = append(errs, fmt.Errorf("window %s is not between 1s and %s", c.Window, maxWindow))
	}
	if c.MinRequests < 0 {
		errs = append(errs, fmt.Errorf("min requests %d is negative", c.MinRequests))
	}
	if !(c.FailureMargin > 0 && c.FailureMargin <= 1) {
		errs = append(errs, fmt.Errorf("failure margin %g is not in (0, 1]", c.FailureMargin))
	}
	if !(c.LatencyFactor > 1) {
		errs = append(errs, fmt.Errorf("latency factor %g is not above 1", c.LatencyFactor))
	}
	if c.LatencyFloor < 0 {
		errs = append(errs, fmt.Errorf("latency floor %s is negative", c.LatencyFloor))
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("canary of %q: %w", c.Service, err)
	}
	return c, nil
}

func checkWeight(w int) error {
	if w < 0 || w > 100 {
		return fmt.Errorf("weight %d is not a percent from 0 to 100", w)
	}
	return nil
}

// State is a snapshot of a canary, for the readiness JSON and the admin
// API.
type State struct {
	// Weight is the percent of shoppers the canary gets now: 0 once
	// rolled back.
	Weight int `json:"weight"`
	// ConfiguredWeight is the weight it was given, by the config or the
	// last SetWeight.
	ConfiguredWeight int `json:"configured_weight"`
	// RolledBack tells whether the analysis took the canary out.
	RolledBack bool `json:"rolled_back"`
	// Reason says why it was rolled back, with the figures it was judged
	// on.
	Reason string `json:"reason,omitempty"`
	// Since is when this state began: the canary made, its weight set or
	// its rollback.
	Since time.Time `json:"since"`
}

// Canary is the canary of one service: which shoppers get it, and how it
// does against the stable version. It is safe for concurrent use; Chooses
// and Observe take no lock.
type Canary struct {
	cfg    Config
	origin time.Time // the window's slots count seconds since then
	slots  []slot

	weight    atomic.Int64 // percent of shoppers, 0 once rolled back
	nextJudge atomic.Int64 // nanoseconds since origin
	gen       atomic.Uint64
	rollbacks atomic.Uint64

	mu         sync.Mutex // the state changes: rollback, SetWeight
	configured int
	rolledBack bool
	reason     string
	since      time.Time
}

// New makes the canary cfg describes.
func New(cfg Config) (*Canary, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	n := int((cfg.Window + slotWidth - 1) / slotWidth)
	c := &Canary{cfg: cfg, origin: time.Now(), slots: make([]slot, n), configured: cfg.Weight}
	c.since = c.origin
	for i := range c.slots {
		c.slots[i].sec.Store(-1)
	}
	c.weight.Store(int64(cfg.Weight))
	return c, nil
}

// Service names the service whose canary this is.
func (c *Canary) Service() string { return c.cfg.Service }

// Chooses tells whether the shopper gets the canary at its current weight.
// shopper is the shopper's stable id (see package composer/shopper).
func (c *Canary) Chooses(shopper string) bool {
	w := int(c.weight.Load())
	switch {
	case w <= 0:
		return false
	case w >= 100:
		return true
	}
	return bucket(c.cfg.Service, shopper) < w*(Buckets/100)
}

// bucket places a shopper of a service in one of Buckets buckets: the
// 64-bit FNV-1a hash of the service's name, a zero byte and the shopper
// id, mixed by MurmurHash3's finalizer (FNV-1a alone leaves ids that
// differ in their last characters, such as counters, bunched together)
// and mapped onto the buckets by its high bits. The service's name is in
// the hash so that each service's canary gets shoppers of its own, not
// the same few percent for every team. The same inputs give the same
// bucket in every process, on every replica.
func bucket(service, shopper string) int {
	h := fnv.New64a()
	_, _ = h.Write([]byte(service))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(shopper))
	return int((fmix64(h.Sum64()) >> 32) * Buckets >> 32)
}

// fmix64 is MurmurHash3's 64-bit finalizer: every bit of x flips each bit
// of the result with a probability near one half.
func fmix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// Observe counts one answer: of the canary or the stable version, how long
// it took and whether it failed. An answer of the canary may trigger the
// analysis, which rolls the canary back when it does worse.
func (c *Canary) Observe(canary bool, latency time.Duration, failed bool) {
	now := time.Since(c.origin)
	sec := int64(now / slotWidth)
	s := &c.slots[sec%int64(len(c.slots))]
	s.claim(sec)
	t := &s.v[version(canary)]
	t.requests.Add(1)
	if failed {
		t.failures.Add(1)
	}
	t.hist[histIndex(latency)].Add(1)
	if canary {
		c.maybeJudge(int64(now), sec)
	}
}

func version(canary bool) int {
	if canary {
		return 1
	}
	return 0
}

// maybeJudge judges the window when the last judgement is old enough and
// no other request does it now.
func (c *Canary) maybeJudge(now, sec int64) {
	next := c.nextJudge.Load()
	if now < next || !c.nextJudge.CompareAndSwap(next, now+int64(judgeEvery)) {
		return
	}
	if c.weight.Load() == 0 {
		return
	}
	gen := c.gen.Load()
	stable, canary := c.window(sec)
	if reason := c.judge(&stable, &canary); reason != "" {
		c.rollBack(gen, reason)
	}
}

// window sums the slots of the window that ends at second sec.
func (c *Canary) window(sec int64) (stable, canary summary) {
	n := int64(len(c.slots))
	for i := range c.slots {
		s := &c.slots[i]
		if at := s.sec.Load(); at > sec-n && at <= sec {
			stable.add(&s.v[0])
			canary.add(&s.v[1])
		}
	}
	return stable, canary
}

// judge says why the canary does worse than the stable version, or ""
// when it does not, or when the window holds too few of its requests to
// tell. A stable version with too few requests of its own counts as
// failing none, and its latency is not compared.
func (c *Canary) judge(stable, canary *summary) string {
	minReq := uint64(c.cfg.MinRequests) // at least 1: zero took the default, New refused a negative one
	if canary.requests < minReq {
		return ""
	}
	known := stable.requests >= minReq
	cr, sr := canary.failureRate(), 0.0
	if known {
		sr = stable.failureRate()
	}
	if cr > sr+c.cfg.FailureMargin {
		return fmt.Sprintf("failure rate %.1f%% against %.1f%% for the stable version (margin %g points), over %d canary requests in %s",
			cr*100, sr*100, c.cfg.FailureMargin*100, canary.requests, c.windowLength())
	}
	if !known {
		return ""
	}
	cp, sp := canary.p99(), stable.p99()
	if limit := time.Duration(c.cfg.LatencyFactor * float64(max(sp, c.cfg.LatencyFloor))); cp > limit {
		return fmt.Sprintf("p99 %s against %s for the stable version (at most %g times, floor %s), over %d canary requests in %s",
			readable(cp), readable(sp), c.cfg.LatencyFactor, c.cfg.LatencyFloor, canary.requests, c.windowLength())
	}
	return ""
}

// readable rounds a bucket's bound for a log: to the millisecond from
// 10 ms up.
func readable(d time.Duration) time.Duration {
	if d >= 10*time.Millisecond {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Microsecond)
}

func (c *Canary) windowLength() time.Duration { return time.Duration(len(c.slots)) * slotWidth }

// rollBack drops the weight to 0, unless the canary was set anew since the
// window judged was read (gen), or is out already.
func (c *Canary) rollBack(gen uint64, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen || c.rolledBack || c.weight.Load() == 0 {
		return
	}
	c.weight.Store(0)
	c.rolledBack, c.reason, c.since = true, reason, time.Now()
	c.rollbacks.Add(1)
	c.cfg.Logger.LogAttrs(context.Background(), slog.LevelWarn, "canary rolled back",
		slog.String("service", c.cfg.Service), slog.Int("configured_weight", c.configured), slog.String("reason", reason))
}

// SetWeight gives the canary n percent of the shoppers, from 0 to 100, and
// makes it the configured weight: the admin API and a config reload bring
// a rolled-back canary back this way. The window starts empty, so that
// the figures that rolled it back do not roll it back again.
func (c *Canary) SetWeight(n int) error {
	if err := checkWeight(n); err != nil {
		return fmt.Errorf("canary of %q: %w", c.cfg.Service, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	for i := range c.slots {
		c.slots[i].clear()
	}
	c.weight.Store(int64(n))
	was := c.configured
	c.configured, c.rolledBack, c.reason, c.since = n, false, "", time.Now()
	c.cfg.Logger.LogAttrs(context.Background(), slog.LevelInfo, "canary weight set",
		slog.String("service", c.cfg.Service), slog.Int("weight", n), slog.Int("was", was))
	return nil
}

// Weight is the percent of shoppers the canary gets now.
func (c *Canary) Weight() int { return int(c.weight.Load()) }

// Rollbacks counts the times the analysis rolled the canary back, for
// inlay_canary_rollbacks_total{service}.
func (c *Canary) Rollbacks() uint64 { return c.rollbacks.Load() }

// State is a snapshot of the canary.
func (c *Canary) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return State{
		Weight:           int(c.weight.Load()),
		ConfiguredWeight: c.configured,
		RolledBack:       c.rolledBack,
		Reason:           c.reason,
		Since:            c.since,
	}
}
