package metrics

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// children finds the children of a metric vector by their label values
// without the vector's lock and hash on every page: a sync.Map, read
// without locking once a child is known. Label values are bounded (routes,
// services and fragment ids from the config and layouts, outcome names),
// and so is the map.
type children[K comparable, M any] struct {
	known sync.Map // K -> M
	make  func(K) M
}

// of returns the child for k, made once.
func (c *children[K, M]) of(k K) M {
	if v, ok := c.known.Load(k); ok {
		return v.(M)
	}
	v, _ := c.known.LoadOrStore(k, c.make(k))
	return v.(M)
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
