package metrics

import (
	"maps"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// children finds the children of a metric vector by their label values
// without the vector's lock and hash on every page: a map of the known
// children, read through an atomic pointer with no lock, and copied whole
// when a child is added. Label values are bounded (routes, services and
// fragment ids from the config and layouts, outcome names), so the map
// stays small and soon stops changing. A typed map hashes its keys with
// the compiler's own functions, where a sync.Map of these struct keys
// hashed them through reflection on every page.
type children[K comparable, M any] struct {
	known atomic.Pointer[map[K]M]
	mu    sync.Mutex // serialises additions
	make  func(K) M
}

// of returns the child for k, made once.
func (c *children[K, M]) of(k K) M {
	if v, ok := c.load()[k]; ok {
		return v
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	known := c.load()
	if v, ok := known[k]; ok {
		return v // added while this call waited for the lock
	}
	next := make(map[K]M, len(known)+1)
	maps.Copy(next, known)
	v := c.make(k)
	next[k] = v
	c.known.Store(&next)
	return v
}

// load returns the known children; nil, which reads as empty, before the
// first.
func (c *children[K, M]) load() map[K]M {
	if m := c.known.Load(); m != nil {
		return *m
	}
	return nil
}

// Keys of the children the observer methods touch on every page.
type (
	routeStatus struct {
		route  string
		status int
	}
	slotKey     struct{ service, fragment string }
	slotOutcome struct {
		slotKey
		outcome string
	}
)

// pageChildren are the per-route children PageDone records into.
type pageChildren struct {
	ttfb     prometheus.Observer
	degraded prometheus.Counter
}

// slotChildren are the per-fragment children FragmentDone records into.
type slotChildren struct {
	duration prometheus.Observer
	fallback prometheus.Counter
}

// hotChildren holds the children of the metrics recorded on every page.
type hotChildren struct {
	pageDuration children[routeStatus, prometheus.Observer]
	page         children[string, pageChildren]
	slot         children[slotKey, slotChildren]
	outcome      children[slotOutcome, prometheus.Counter]
}

func (m *Metrics) initChildren() {
	m.hot.pageDuration.make = func(k routeStatus) prometheus.Observer {
		return m.pageDuration.WithLabelValues(k.route, strconv.Itoa(k.status))
	}
	m.hot.page.make = func(route string) pageChildren {
		return pageChildren{ttfb: m.pageTTFB.WithLabelValues(route), degraded: m.pageDegraded.WithLabelValues(route)}
	}
	m.hot.slot.make = func(k slotKey) slotChildren {
		return slotChildren{
			duration: m.fragmentDuration.WithLabelValues(k.service, k.fragment),
			fallback: m.fragmentFallback.WithLabelValues(k.service, k.fragment),
		}
	}
	m.hot.outcome.make = func(k slotOutcome) prometheus.Counter {
		return m.fragmentOutcomes.WithLabelValues(k.service, k.fragment, k.outcome)
	}
}
