// Package metrics exposes Inlay's Prometheus metrics: page latency and
// time to first byte per route, fragment latency and outcomes per service
// and fragment, cache and breaker state, pages in flight.
//
// Label values are bounded: route patterns from the config, service names
// and fragment ids from the layouts, never raw URLs.
package metrics

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/inlayhq/inlay/composer/layout"
	"github.com/inlayhq/inlay/fragments"
	"github.com/inlayhq/inlay/fragments/cache"
	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/guard"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is a composer.Observer that records into its own Prometheus
// registry.
type Metrics struct {
	reg    *prometheus.Registry
	server atomic.Pointer[Source] // the server whose counters are read

	pagesInFlight    prometheus.Gauge
	pageDuration     *prometheus.HistogramVec
	pageTTFB         *prometheus.HistogramVec
	pageDegraded     *prometheus.CounterVec
	fragmentDuration *prometheus.HistogramVec
	fragmentOutcomes *prometheus.CounterVec
	fragmentFallback *prometheus.CounterVec
	gatewayDuration  *prometheus.HistogramVec
	primaryFailures  *prometheus.CounterVec
	droppedCookies   *prometheus.CounterVec
	gatewayStale     *prometheus.CounterVec
	unknownPaths     prometheus.Counter

	hot hotChildren // the children recorded into on every page
}

// Source is what the metrics read at each scrape: a composer.Server, its
// fetch engine's counters and its layouts.
type Source interface {
	FetchStats() *fetch.Stats
	UpstreamRequests() map[string]int64
	SharedTier() (configured, healthy bool)
	Layouts() *layout.Folder
	Cache() *cache.Cache
	Guards() *guard.Guards
	ServiceNames() []string
	Engine() *fragments.Engine
}

// latencyBuckets cover fragment and page times from sub-millisecond cache
// hits to multi-second timeouts.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New returns Metrics with the Go runtime and process collectors and
// Inlay's own metrics registered.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.pagesInFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "inlay_pages_in_flight", Help: "Pages being composed.",
	})
	m.pageDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "inlay_page_duration_seconds", Help: "Time to compose and stream a whole page.", Buckets: latencyBuckets,
	}, []string{"route", "status"})
	m.pageTTFB = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "inlay_page_ttfb_seconds", Help: "Time until a page's headers left.", Buckets: latencyBuckets,
	}, []string{"route"})
	m.pageDegraded = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "inlay_page_degraded_boxes_total", Help: "Boxes that showed a fallback instead of their fragment.",
	}, []string{"route"})
	m.fragmentDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "inlay_fragment_duration_seconds", Help: "Time to get a fragment, fallback included.", Buckets: latencyBuckets,
	}, []string{"service", "fragment"})
	m.fragmentOutcomes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "inlay_fragment_outcomes_total", Help: "Fragment fetches by outcome: ok, stale, timeout, error, breaker_open, overflow, canceled.",
	}, []string{"service", "fragment", "outcome"})
	m.fragmentFallback = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "inlay_fragment_fallbacks_total", Help: "Boxes filled from fallback-src after their fragment failed.",
	}, []string{"service", "fragment"})
	m.gatewayDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "inlay_gateway_request_duration_seconds", Help: "Gateway requests by route and status: time until the whole response was sent.", Buckets: latencyBuckets,
	}, []string{"route", "status"})
	m.primaryFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "inlay_primary_failures_total", Help: "Pages answered with an error page because the primary fragment failed, by its service and the page's status.",
	}, []string{"service", "status"})
	m.droppedCookies = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "inlay_dropped_cookies_total", Help: "Set-Cookie headers of non-primary fragments kept from shoppers, by service.",
	}, []string{"service"})
	m.gatewayStale = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "inlay_gateway_stale_served_total", Help: "Gateway requests answered with a stale stored copy (a team's asset while the team is down, or within stale-while-revalidate), by service.",
	}, []string{"service"})
	m.unknownPaths = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "inlay_unknown_path_requests_total", Help: "Requests for paths no page, gateway or Inlay route serves (answered 404).",
	})
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.pagesInFlight, m.pageDuration, m.pageTTFB, m.pageDegraded,
		m.fragmentDuration, m.fragmentOutcomes, m.fragmentFallback, m.gatewayDuration,
		m.primaryFailures, m.droppedCookies, m.gatewayStale, m.unknownPaths,
		&serverCollector{m: m},
	)
	m.initChildren()
	return m
}

// Attach makes the metrics read the counters of srv (cache, breakers,
// composer). Call it again after a config reload swaps the server.
func (m *Metrics) Attach(srv Source) { m.server.Store(&srv) }

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry returns the registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// PageStarted counts a page in flight.
func (m *Metrics) PageStarted(string) { m.pagesInFlight.Inc() }

// PageDone records a finished page.
func (m *Metrics) PageDone(route string, status int, total, ttfb time.Duration, degraded int) {
	m.pagesInFlight.Dec()
	m.hot.pageDuration.of(routeStatus{route, status}).Observe(total.Seconds())
	if ttfb <= 0 && degraded == 0 {
		return
	}
	c := m.hot.page.of(route)
	if ttfb > 0 {
		c.ttfb.Observe(ttfb.Seconds())
	}
	if degraded > 0 {
		c.degraded.Add(float64(degraded))
	}
}

// FragmentDone records one fragment fetch.
func (m *Metrics) FragmentDone(service, fragment, outcome string, fallback bool, d time.Duration) {
	slot := slotKey{service, fragment}
	c := m.hot.slot.of(slot)
	c.duration.Observe(d.Seconds())
	m.hot.outcome.of(slotOutcome{slot, outcome}).Inc()
	if fallback {
		c.fallback.Inc()
	}
}

// GatewayDone records one gateway request. Its histogram's count is the
// number of requests by route and status.
func (m *Metrics) GatewayDone(route string, status int, d time.Duration) {
	m.gatewayDuration.WithLabelValues(route, strconv.Itoa(status)).Observe(d.Seconds())
}

// PrimaryFailed counts a page answered with an error page.
func (m *Metrics) PrimaryFailed(service string, status int) {
	m.primaryFailures.WithLabelValues(service, strconv.Itoa(status)).Inc()
}

// CookieDropped counts a non-primary fragment's Set-Cookie kept from the
// shopper.
func (m *Metrics) CookieDropped(service string) { m.droppedCookies.WithLabelValues(service).Inc() }

// GatewayStale counts a gateway request answered with a stale stored
// copy.
func (m *Metrics) GatewayStale(service string) { m.gatewayStale.WithLabelValues(service).Inc() }

// UnknownPath counts a request for a path nothing serves.
func (m *Metrics) UnknownPath() { m.unknownPaths.Inc() }
