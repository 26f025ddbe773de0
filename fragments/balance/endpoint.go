package balance

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Outcome is how a fetch to an endpoint ended, as [Endpoint.Done] is told.
type Outcome uint8

const (
	// Success is an answer that was not a server error: a 2xx, 3xx or
	// 4xx status.
	Success Outcome = iota
	// Failure is a server error (a 5xx status), a timeout, or a failure
	// after the answer began. Its latency counts at least the service's
	// p95, so that an endpoint that fails fast draws no traffic for it.
	Failure
	// ConnFailure is a failure before any byte of the answer arrived:
	// connection refused or reset, a kept-alive connection closed. It
	// counts as a Failure, and ConsecutiveConnFailures of them in a row
	// eject the endpoint at once.
	ConnFailure
	// Canceled is a fetch the caller gave up for its own reasons (the
	// other one of a hedged pair answered first, the page went away): it
	// ends the fetch and counts in no estimate or rate.
	Canceled
)

// String returns the outcome's name.
func (o Outcome) String() string {
	switch o {
	case Success:
		return "success"
	case Failure:
		return "failure"
	case ConnFailure:
		return "connection failure"
	case Canceled:
		return "canceled"
	}
	return "unknown"
}

// Cells of an endpoint's window.
const (
	cellRequests = iota
	cellFailures
)

// Endpoint is one address of a service, as a [Set] picks it. The same
// address taken out and later added back after its drain was reported is
// a new Endpoint.
type Endpoint struct {
	set  *Set
	addr string

	inflight atomic.Int64

	mu    sync.Mutex    // serialises updates of the estimate
	est   atomic.Uint64 // peak-EWMA latency in ns, as float64 bits; 0: no sample
	stamp atomic.Int64  // when est was last updated

	fadeFrom     atomic.Int64 // the weight grows from minWeight from here
	ejectedUntil atomic.Int64 // 0: never ejected
	level        uint         // doublings of the next ejection; under set.mu
	ejections    atomic.Uint64
	consecutive  atomic.Int64 // connection failures in a row
	win          *window      // requests and failures

	requests, failures, connFailures atomic.Uint64

	draining atomic.Bool
	reported bool // drain reported; under set.mu
}

// Addr returns the endpoint's address, host:port.
func (e *Endpoint) Addr() string { return e.addr }

// Done ends a fetch that Set.Pick or Set.PickOther chose e for, with the time
// it took (to its answer's headers, or to the failure) and how it ended.
// It must be called exactly once per pick.
func (e *Endpoint) Done(latency time.Duration, o Outcome) {
	e.end(latency, o, true)
	e.release()
}

// Unload ends a picked fetch's count in flight before its outcome is
// known: a request sent whose answer waits for its caller to read it, in
// the connection's buffers, loads the endpoint no more than its answer
// takes to come, which the caller cannot tell. Such a fetch is then
// ended with Outcome, not Done.
func (e *Endpoint) Unload() { e.release() }

// Outcome ends a fetch that was unloaded: like Done, without its count
// in flight. When timed is false (an answer read some time after it
// came, as a page reads its boxes in document order), how it ended
// counts but its time is unknown and feeds no latency estimate.
func (e *Endpoint) Outcome(latency time.Duration, o Outcome, timed bool) {
	e.end(latency, o, timed)
}

// end counts a fetch's outcome and, when timed, learns its latency.
func (e *Endpoint) end(latency time.Duration, o Outcome, timed bool) {
	s := e.set
	e.requests.Add(1)
	switch o {
	case Failure:
		e.failures.Add(1)
	case ConnFailure:
		e.failures.Add(1)
		e.connFailures.Add(1)
	}
	if o == Canceled {
		return
	}
	now := s.now()
	if e.ejectedAt(now) || e.draining.Load() {
		return
	}
	switch {
	case timed:
		e.learn(now, latency, o)
	case o == Success:
		e.win.add(now, cellRequests, 1)
		e.consecutive.Store(0)
	default:
		e.learn(now, 0, o) // a failure weighs as the service's p95, whatever its time
	}
}

// release ends one fetch in flight, reporting a draining endpoint once it
// has none.
func (e *Endpoint) release() {
	if e.inflight.Add(-1) == 0 && e.draining.Load() {
		e.set.reportIdle(e)
	}
}

// learn feeds a fetch's end to the latency estimate and outlier
// detection.
func (e *Endpoint) learn(now int64, latency time.Duration, o Outcome) {
	s := e.set
	latency = max(latency, minSample)
	e.win.add(now, cellRequests, 1)
	if o == Success {
		s.lat.Observe(latency)
		e.consecutive.Store(0)
		e.observe(now, latency)
		return
	}
	e.observe(now, max(latency, time.Duration(s.p95(now))))
	e.win.add(now, cellFailures, 1)
	if o == ConnFailure {
		if e.consecutive.Add(1) >= int64(s.cfg.ConsecutiveConnFailures) {
			s.eject(e, now, "consecutive connection failures")
			return
		}
	} else {
		e.consecutive.Store(0)
	}
	if s.outlier(e, now) {
		s.eject(e, now, "failure rate above its siblings'")
	}
}

// observe feeds one latency sample to the peak-EWMA estimate: a sample
// above the estimate replaces it, one below is averaged in with a weight
// that grows with the time since the last sample.
func (e *Endpoint) observe(now int64, sample time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := float64(sample)
	prev := math.Float64frombits(e.est.Load())
	if prev != 0 && x < prev {
		w := math.Exp(-float64(max(now-e.stamp.Load(), 0)) / float64(e.set.cfg.Decay))
		x = prev*w + x*(1-w)
	}
	e.est.Store(math.Float64bits(x))
	e.stamp.Store(now)
}

// estimate returns the latency estimate in ns, decayed towards 0 by the
// time since its last sample, so that an endpoint left alone is tried
// again; 0 before any sample.
func (e *Endpoint) estimate(now int64, decay time.Duration) float64 {
	est := math.Float64frombits(e.est.Load())
	if est == 0 {
		return 0
	}
	age := now - e.stamp.Load()
	if age <= 0 {
		return est
	}
	return max(est*math.Exp(-float64(age)/float64(decay)), math.SmallestNonzeroFloat64)
}

// ejectedAt reports whether e is ejected at now.
func (e *Endpoint) ejectedAt(now int64) bool { return now < e.ejectedUntil.Load() }

// EndpointStats is an endpoint's state and counters, for metrics.
type EndpointStats struct {
	// Addr is the endpoint's address.
	Addr string
	// Requests counts the fetches ended, Failures those that failed
	// (ConnFailures included), ConnFailures those that failed before any
	// byte of the answer, since the endpoint joined the set.
	Requests, Failures, ConnFailures uint64
	// InFlight is how many fetches to it are in flight now.
	InFlight int64
	// EWMA is its peak-EWMA latency estimate now; 0 before any sample
	// (and again after an ejection).
	EWMA time.Duration
	// Weight is its fade-in weight, from 0.1 to 1; 0 while it is ejected.
	Weight float64
	// Ejected tells whether it is out of the choice now, and EjectedUntil
	// until when.
	Ejected      bool
	EjectedUntil time.Time
	// Ejections counts its ejections.
	Ejections uint64
	// Draining tells that it left the set and fetches to it are still in
	// flight.
	Draining bool
}
