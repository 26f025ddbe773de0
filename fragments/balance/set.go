package balance

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of a [Config].
const (
	// DefaultFadeIn is how long a new endpoint takes to reach its full
	// share of the picks.
	DefaultFadeIn = 30 * time.Second
	// DefaultDecay is the time constant of the peak-EWMA latency: an
	// estimate not refreshed for this long has fallen to 1/e of itself,
	// so an endpoint left alone is tried again. As in Linkerd.
	DefaultDecay = 10 * time.Second
	// DefaultConsecutiveConnFailures is how many connection failures in a
	// row eject an endpoint at once.
	DefaultConsecutiveConnFailures = 5
	// DefaultWindow is how far back failure rates and the service's
	// latency quantiles look.
	DefaultWindow = 10 * time.Second
	// DefaultMinRequests is how many requests an endpoint, and its
	// siblings together, must have answered within the window before
	// their failure rates are compared.
	DefaultMinRequests = 20
	// DefaultFailureMargin is how far an endpoint's failure rate must
	// stand above its siblings' (0.3 is 30 points: 35 % against 5 %) to
	// eject it.
	DefaultFailureMargin = 0.3
	// DefaultEjectionTime is how long an endpoint's first ejection lasts;
	// each further one lasts twice the one before.
	DefaultEjectionTime = 30 * time.Second
	// DefaultMaxEjectionTime caps an ejection's length. An endpoint that
	// stays in for this long after an ejection starts again from
	// DefaultEjectionTime.
	DefaultMaxEjectionTime = 5 * time.Minute
)

const (
	// minWeight is a fading-in endpoint's weight when it starts: a tenth
	// of a full one, as Envoy's slow start.
	minWeight = 0.1
	// unmeasured is the cost of an endpoint with no latency estimate and
	// fetches in flight: above any measured cost (11 days times 100,000
	// fetches in flight), and small enough that adding the fetches in
	// flight still counts.
	unmeasured = 1e15
	// p95Refresh is how long the service's p95 is reused before it is
	// read from its tracker again.
	p95Refresh = 100 * time.Millisecond
	// drawTries bounds the random draws of one candidate.
	drawTries = 8
	// minSample is the floor of a latency sample: a sample is never 0,
	// which marks an endpoint with no sample.
	minSample = time.Microsecond
)

// Config configures a [Set]. Zero fields take the defaults.
type Config struct {
	// FadeIn is how long an endpoint added by [Set.Update], or back from
	// an ejection, takes to grow from a tenth of a full weight to a full
	// one; its share of the picks grows with it. Negative means no
	// fade-in.
	FadeIn time.Duration
	// Decay is the time constant of the peak-EWMA latency estimates.
	Decay time.Duration
	// ConsecutiveConnFailures is how many [ConnFailure] outcomes in a row
	// eject an endpoint.
	ConsecutiveConnFailures int
	// Window is how far back failure rates and the service's latency
	// quantiles ([Set.P95]) look.
	Window time.Duration
	// MinRequests is how many requests an endpoint, and its siblings
	// together, must have within Window before their failure rates are
	// compared.
	MinRequests int
	// FailureMargin is how much higher than its siblings' (as a
	// difference of rates, 0 to 1) an endpoint's failure rate must be to
	// eject it.
	FailureMargin float64
	// EjectionTime is the length of an endpoint's first ejection; each
	// further one doubles it, up to MaxEjectionTime.
	EjectionTime time.Duration
	// MaxEjectionTime caps the length of an ejection.
	MaxEjectionTime time.Duration
	// Source, if set, draws the random choices, so that a test repeats
	// them. It is used under a lock. Nil means math/rand/v2's global
	// generator, which takes no lock.
	Source rand.Source
	// OnDrained, if set, is called once for each endpoint that left the
	// set (see [Set.Update]) when its last fetch in flight has ended, so
	// that the caller can close its connections. It is called with no
	// lock held, on the goroutine that ended that fetch or called Update,
	// and should not block.
	OnDrained func(*Endpoint)
	// Logger receives ejections and returns. Nil means slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	c.FadeIn = cmp.Or(c.FadeIn, DefaultFadeIn) // negative: no fade-in
	c.Decay = positiveOr(c.Decay, DefaultDecay)
	c.ConsecutiveConnFailures = positiveOr(c.ConsecutiveConnFailures, DefaultConsecutiveConnFailures)
	c.Window = positiveOr(c.Window, DefaultWindow)
	c.MinRequests = positiveOr(c.MinRequests, DefaultMinRequests)
	c.FailureMargin = positiveOr(c.FailureMargin, DefaultFailureMargin)
	c.EjectionTime = positiveOr(c.EjectionTime, DefaultEjectionTime)
	c.MaxEjectionTime = max(positiveOr(c.MaxEjectionTime, DefaultMaxEjectionTime), c.EjectionTime)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// positiveOr returns v, or def when v is zero or negative.
func positiveOr[T int | float64 | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Set is the live endpoints of one service, and the state the choice
// among them needs. It is safe for concurrent use.
type Set struct {
	cfg  Config
	base time.Time // times are nanoseconds since base, on the monotonic clock

	live atomic.Pointer[[]*Endpoint]
	lat  *Tracker

	p95v  atomic.Int64
	p95At atomic.Int64

	rmu sync.Mutex
	rng *rand.Rand

	mu       sync.Mutex // Update, ejections, drain reports
	draining map[string]*Endpoint
}

// NewSet returns the set of the given addresses ("ip:port" or
// "host:port"), all at their full weight at once. It fails, naming the
// address, when one is not host:port with a port from 1 to 65535, or when
// there is none.
func NewSet(addrs []string, cfg Config) (*Set, error) {
	norm, err := normalize(addrs)
	if err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Set{
		cfg:      cfg,
		base:     time.Now(),
		lat:      NewTracker(cfg.Window),
		draining: make(map[string]*Endpoint),
	}
	if cfg.Source != nil {
		s.rng = rand.New(cfg.Source)
	}
	s.p95At.Store(math.MinInt64 / 2)
	eps := make([]*Endpoint, len(norm))
	for i, a := range norm {
		eps[i] = s.newEndpoint(a, math.MinInt64/2)
	}
	s.live.Store(&eps)
	return s, nil
}

// now is the time in nanoseconds since the set was made.
func (s *Set) now() int64 { return int64(time.Since(s.base)) }

func (s *Set) newEndpoint(addr string, fadeFrom int64) *Endpoint {
	e := &Endpoint{set: s, addr: addr, win: newWindow(s.cfg.Window, 2)}
	e.fadeFrom.Store(fadeFrom)
	return e
}

// Update makes addrs the set's endpoints, after a re-resolve. An address
// that is new is eased in over the fade-in time. An address that is gone
// is drained: it is never picked again, the fetches in flight to it end
// as usual, and Config.OnDrained is called once the last one has. An
// address that comes back while it drains is taken back as it was. Update
// fails, and changes nothing, when an address is not host:port or when
// there is none: a resolver that answered nothing leaves the service on
// the endpoints it had.
func (s *Set) Update(addrs []string) error {
	norm, err := normalize(addrs)
	if err != nil {
		return err
	}
	now := s.now()
	s.mu.Lock()
	old := *s.live.Load()
	gone := make(map[string]*Endpoint, len(old))
	for _, e := range old {
		gone[e.addr] = e
	}
	next := make([]*Endpoint, 0, len(norm))
	var added, revived int
	for _, a := range norm {
		if e := gone[a]; e != nil {
			next = append(next, e)
			delete(gone, a)
			continue
		}
		if e := s.draining[a]; e != nil {
			e.fadeFrom.Store(now)
			e.draining.Store(false)
			delete(s.draining, a)
			next = append(next, e)
			revived++
			continue
		}
		next = append(next, s.newEndpoint(a, now))
		added++
	}
	var idle []*Endpoint
	for _, e := range old {
		if gone[e.addr] != e {
			continue
		}
		e.draining.Store(true)
		if e.inflight.Load() == 0 {
			e.reported = true
			idle = append(idle, e)
		} else {
			s.draining[e.addr] = e
		}
	}
	s.live.Store(&next)
	s.mu.Unlock()
	if added+revived+len(gone) > 0 {
		s.cfg.Logger.Info("endpoints updated", "added", added, "returned", revived,
			"removed", len(gone), "endpoints", len(next))
	}
	for _, e := range idle {
		s.drained(e)
	}
	return nil
}

// drained tells the caller that e has nothing in flight and is out.
func (s *Set) drained(e *Endpoint) {
	if s.cfg.OnDrained != nil {
		s.cfg.OnDrained(e)
	}
}

// reportIdle reports e as drained if it is draining, idle and not yet
// reported.
func (s *Set) reportIdle(e *Endpoint) {
	s.mu.Lock()
	ok := e.draining.Load() && !e.reported && e.inflight.Load() == 0
	if ok {
		e.reported = true
		if s.draining[e.addr] == e {
			delete(s.draining, e.addr)
		}
	}
	s.mu.Unlock()
	if ok {
		s.drained(e)
	}
}

// Len returns how many endpoints the set has, ejected ones included,
// draining ones not.
func (s *Set) Len() int { return len(*s.live.Load()) }

// Pick chooses the endpoint for a fetch: of two drawn at random (each
// drawn in proportion to its fade-in weight, ejected ones never), the one
// of lower cost, its fetches in flight plus one times its latency
// estimate. The fetch counts as in flight from now: the caller must end
// it with [Endpoint.Done], exactly once. Pick reports false only when
// every endpoint is ejected or draining, which the cap on ejections keeps
// from happening while the set has endpoints.
func (s *Set) Pick() (*Endpoint, bool) { return s.pick(nil) }

// PickOther is Pick for a retry or a hedge: it never chooses not. It
// reports false when no other endpoint can be chosen.
func (s *Set) PickOther(not *Endpoint) (*Endpoint, bool) { return s.pick(not) }

func (s *Set) pick(not *Endpoint) (*Endpoint, bool) {
	// A draw can race with an Update that drains the endpoint drawn:
	// draw again from the new list.
	for range 4 {
		eps := *s.live.Load()
		now := s.now()
		a := s.draw(eps, not, nil, now, true)
		if a == nil {
			return nil, false
		}
		if b := s.draw(eps, not, a, now, false); b != nil && s.cost(b, now) < s.cost(a, now) {
			a = b
		}
		a.inflight.Add(1)
		if !a.draining.Load() {
			return a, true
		}
		a.release()
	}
	return nil, false
}

// draw returns an endpoint of eps at random, neither not nor other nor
// ejected, accepted with the probability of its fade-in weight. After
// drawTries refusals it returns nil, or, if must, the first endpoint
// that is neither not, other nor ejected, from a random place.
func (s *Set) draw(eps []*Endpoint, not, other *Endpoint, now int64, must bool) *Endpoint {
	n := len(eps)
	if n == 0 {
		return nil
	}
	for range drawTries {
		e := eps[s.intn(n)]
		if e == not || e == other || e.ejectedAt(now) {
			continue
		}
		if w := s.weight(e, now); w < 1 && s.float64() >= w {
			continue
		}
		return e
	}
	if !must {
		return nil
	}
	start := s.intn(n)
	for i := range n {
		e := eps[(start+i)%n]
		if e != not && e != other && !e.ejectedAt(now) {
			return e
		}
	}
	return nil
}

// cost is the load of e: its fetches in flight plus one times its latency
// estimate. An endpoint with no estimate yet (new, or back from an
// ejection) costs nothing while nothing is in flight to it, so that it is
// tried at once, and more than any measured one while its first fetch is
// in flight, so that it is tried once before it is loaded; as Finagle's
// peak EWMA does.
func (s *Set) cost(e *Endpoint, now int64) float64 {
	in := e.inflight.Load()
	est := e.estimate(now, s.cfg.Decay)
	if est == 0 {
		if in == 0 {
			return 0
		}
		return unmeasured + float64(in)
	}
	return est * float64(in+1)
}

// weight is e's fade-in weight at now, from minWeight to 1.
func (s *Set) weight(e *Endpoint, now int64) float64 {
	fade := int64(s.cfg.FadeIn)
	if fade <= 0 {
		return 1
	}
	age := now - e.fadeFrom.Load()
	if age >= fade {
		return 1
	}
	return max(float64(age)/float64(fade), minWeight)
}

func (s *Set) intn(n int) int {
	if s.rng == nil {
		return rand.IntN(n)
	}
	s.rmu.Lock()
	defer s.rmu.Unlock()
	return s.rng.IntN(n)
}

func (s *Set) float64() float64 {
	if s.rng == nil {
		return rand.Float64()
	}
	s.rmu.Lock()
	defer s.rmu.Unlock()
	return s.rng.Float64()
}

// P95 returns the service's recent p95 latency, of the fetches that
// succeeded within the window, read again from its tracker at most every
// 100 ms; 0 before any succeeded. A fetch unanswered after it is the one
// to hedge.
func (s *Set) P95() time.Duration { return time.Duration(s.p95(s.now())) }

func (s *Set) p95(now int64) int64 {
	if now-s.p95At.Load() < int64(p95Refresh) {
		return s.p95v.Load()
	}
	v := int64(s.lat.Quantile(0.95))
	s.p95v.Store(v)
	s.p95At.Store(now)
	return v
}

// outlier reports whether e's failure rate over the window stands above
// its siblings' by the margin, each side with enough requests.
func (s *Set) outlier(e *Endpoint, now int64) bool {
	min := float64(s.cfg.MinRequests)
	var own, sib, c [2]float64 // requests and failures, by cell
	e.win.sums(now, own[:])
	if own[cellRequests] < min {
		return false
	}
	for _, o := range *s.live.Load() {
		if o != e {
			o.win.sums(now, c[:])
			sib[cellRequests] += c[cellRequests]
			sib[cellFailures] += c[cellFailures]
		}
	}
	if sib[cellRequests] < min {
		return false
	}
	return own[cellFailures]/own[cellRequests]-sib[cellFailures]/sib[cellRequests] >= s.cfg.FailureMargin
}

// eject takes e out of the choice, unless it is out already, draining, or
// half of the set's endpoints already are.
func (s *Set) eject(e *Endpoint, now int64, reason string) {
	s.mu.Lock()
	if e.draining.Load() || e.ejectedAt(now) {
		s.mu.Unlock()
		return
	}
	eps := *s.live.Load()
	out := 0
	for _, o := range eps {
		if o.ejectedAt(now) {
			out++
		}
	}
	if out+1 > len(eps)/2 {
		s.mu.Unlock()
		return
	}
	if last := e.ejectedUntil.Load(); last != 0 && now-last >= int64(s.cfg.MaxEjectionTime) {
		e.level = 0
	}
	d := s.cfg.EjectionTime << e.level
	if d <= 0 || d >= s.cfg.MaxEjectionTime {
		d = s.cfg.MaxEjectionTime
	} else {
		e.level++
	}
	until := now + int64(d)
	e.est.Store(0)
	e.consecutive.Store(0)
	e.win.reset()
	e.fadeFrom.Store(until)
	e.ejectedUntil.Store(until)
	e.ejections.Add(1)
	s.mu.Unlock()
	s.cfg.Logger.Warn("endpoint ejected", "endpoint", e.addr, "reason", reason, "for", d)
}

// Snapshot appends to dst the state of every endpoint, the live ones in
// the set's order and then the draining ones by address, and returns it.
func (s *Set) Snapshot(dst []EndpointStats) []EndpointStats {
	now := s.now()
	for _, e := range *s.live.Load() {
		dst = append(dst, s.stats(e, now))
	}
	s.mu.Lock()
	draining := make([]*Endpoint, 0, len(s.draining))
	for _, e := range s.draining {
		draining = append(draining, e)
	}
	s.mu.Unlock()
	slices.SortFunc(draining, func(a, b *Endpoint) int { return strings.Compare(a.addr, b.addr) })
	for _, e := range draining {
		dst = append(dst, s.stats(e, now))
	}
	return dst
}

func (s *Set) stats(e *Endpoint, now int64) EndpointStats {
	st := EndpointStats{
		Addr:         e.addr,
		Requests:     e.requests.Load(),
		Failures:     e.failures.Load(),
		ConnFailures: e.connFailures.Load(),
		InFlight:     e.inflight.Load(),
		EWMA:         time.Duration(e.estimate(now, s.cfg.Decay)),
		Ejections:    e.ejections.Load(),
		Draining:     e.draining.Load(),
		Weight:       s.weight(e, now),
	}
	if until := e.ejectedUntil.Load(); now < until {
		st.Ejected = true
		st.EjectedUntil = s.base.Add(time.Duration(until))
		st.Weight = 0
	}
	return st
}

// normalize checks addrs and returns them in canonical form, each once,
// in their order.
func normalize(addrs []string) ([]string, error) {
	if len(addrs) == 0 {
		return nil, errors.New("no endpoint addresses")
	}
	seen := make(map[string]bool, len(addrs))
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		c, err := canonical(a)
		if err != nil {
			return nil, err
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out, nil
}

// canonical checks that addr is host:port with a port from 1 to 65535
// and returns it with an IP address in its canonical form and a host name
// in lower case.
func canonical(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("endpoint address %q: %w", addr, err)
	}
	if host == "" {
		return "", fmt.Errorf("endpoint address %q: no host", addr)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return "", fmt.Errorf("endpoint address %q: port %q is not a number from 1 to 65535", addr, port)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(ip.Unmap(), uint16(p)).String(), nil
	}
	return net.JoinHostPort(strings.ToLower(host), port), nil
}
