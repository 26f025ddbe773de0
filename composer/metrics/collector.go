package metrics

import (
	"github.com/inlayhq/inlay/fragments"
	"github.com/prometheus/client_golang/prometheus"
)

// serverCollector reads the attached server's counters at scrape time, so
// the request path only bumps atomics.
type serverCollector struct{ m *Metrics }

var (
	descCache = prometheus.NewDesc("inlay_cache_requests_total",
		"Fragment fetches asked of the cache, by result: hit, miss, stale, pass (hit-for-miss), coalesced.", []string{"result"}, nil)
	descCacheBytes   = prometheus.NewDesc("inlay_cache_bytes", "Bytes held by the fragment cache.", nil, nil)
	descCacheEntries = prometheus.NewDesc("inlay_cache_entries", "Entries in the fragment cache, hit-for-miss markers included.", nil, nil)
	descCacheEvicted = prometheus.NewDesc("inlay_cache_evictions_total", "Entries evicted to stay within the byte budget.", nil, nil)
	descUpstream     = prometheus.NewDesc("inlay_upstream_requests_total", "Fragment requests that reached a team service, by service.", []string{"service"}, nil)
	descRefused      = prometheus.NewDesc("inlay_fetches_refused_total", "Fetches refused before any request, by reason: breaker_open, overflow.", []string{"reason"}, nil)
	descBreaker      = prometheus.NewDesc("inlay_breaker_state", "Circuit breaker state per service: 1 for the current state.", []string{"service", "state"}, nil)
	descReloadErrors = prometheus.NewDesc("inlay_layout_reload_errors_total", "Layout reloads that found problems (the last good versions kept serving).", nil, nil)
	descLimit        = prometheus.NewDesc("inlay_concurrency_limit", "Adaptive concurrency limit per service: fetches it lets be in flight.", []string{"service"}, nil)
	descWaiting      = prometheus.NewDesc("inlay_fetches_waiting", "Fetches waiting for a service's concurrency limit.", []string{"service"}, nil)
	descQueued       = prometheus.NewDesc("inlay_fetches_queued_total", "Fetches that waited for a service's concurrency limit before they were sent.", nil, nil)
	descSent         = prometheus.NewDesc("inlay_fetches_sent_together_total", "Fragment requests a page sent with its others and whose answers it read in document order on its own goroutine, rather than each on a goroutine of its own.", nil, nil)
	descPanics       = prometheus.NewDesc("inlay_fetch_panics_total", "Fetches failed by a panic in the fetch code (each logged with its stack).", nil, nil)
	descTierHits     = prometheus.NewDesc("inlay_cache_tier_hits_total", "Fragment fetches answered by each cache tier: local (in-process), shared (Valkey/Redis), origin (the team's service).", []string{"tier"}, nil)
	descSharedErrors = prometheus.NewDesc("inlay_shared_cache_errors_total", "Shared cache tier calls that failed or were refused; the fetch went on without the tier.", nil, nil)
	descCacheRefused = prometheus.NewDesc("inlay_cache_refused_total", "Responses marked shareable that the cache did not store, by reason: credential_in_body (fetched with the shopper's credentials, and the body holds one of them).", []string{"reason"}, nil)
	descSharedPanics = prometheus.NewDesc("inlay_shared_cache_panics_total", "Shared cache tier calls that panicked below the tier (each logged with its stack); the fetch went on without the tier.", nil, nil)
	descLeaseWaits   = prometheus.NewDesc("inlay_shared_cache_lease_waits_total", "Fetches that waited for another replica's lease on a cold key.", nil, nil)
	descLeaseTimeout = prometheus.NewDesc("inlay_shared_cache_lease_timeouts_total", "Lease waits that ended with their deadline before a result.", nil, nil)
	descPurges       = prometheus.NewDesc("inlay_cache_purges_total", "Purge-by-tag calls made on this replica.", nil, nil)
	descPurged       = prometheus.NewDesc("inlay_cache_purged_entries_total", "Entries dropped by purges made on this replica.", nil, nil)
	descInstReqs     = prometheus.NewDesc("inlay_instance_requests_total", "Fetches a service's instance answered or failed, by service (a canary's is SERVICE canary), instance and result: ok, failed.", []string{"service", "instance", "result"}, nil)
	descInstLatency  = prometheus.NewDesc("inlay_instance_latency_seconds", "An instance's peak-EWMA latency estimate, on which each fetch's choice of instance weighs.", []string{"service", "instance"}, nil)
	descInstWeight   = prometheus.NewDesc("inlay_instance_weight", "An instance's share weight: from 0.1 while it is eased in to 1; 0 while it is ejected.", []string{"service", "instance"}, nil)
	descInstEjected  = prometheus.NewDesc("inlay_instance_ejections_total", "Times an instance was left out of the choice for failing.", []string{"service", "instance"}, nil)
	descInstInFlight = prometheus.NewDesc("inlay_instance_in_flight", "Fetches in flight to an instance.", []string{"service", "instance"}, nil)
	descRetries      = prometheus.NewDesc("inlay_retries_total", "Extra fetches sent to another instance, by kind (retry: after a failure before any answer; hedge: while the first was slow), across services.", []string{"kind"}, nil)
	descBudget       = prometheus.NewDesc("inlay_retry_budget_total", "A service's fetches against its retry budget, by what: requests (first tries), spent (retries and hedges sent), refused (wanted, over the budget).", []string{"service", "what"}, nil)
	descRollbacks    = prometheus.NewDesc("inlay_canary_rollbacks_total", "Times a service's canary was rolled back for doing worse than the stable version.", []string{"service"}, nil)
	descCanaryWeight = prometheus.NewDesc("inlay_canary_weight", "The percent of shoppers a service's canary takes now.", []string{"service"}, nil)
	descSharedUp     = prometheus.NewDesc("inlay_shared_cache_up", "1 while the shared cache tier is connected and its breaker closed; 0 while the replica runs on its in-process tier alone. Absent without a shared tier.", nil, nil)
)

func (c *serverCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCache, descCacheBytes, descCacheEntries, descCacheEvicted, descUpstream, descRefused, descBreaker, descReloadErrors, descLimit, descWaiting, descQueued, descSent, descPanics,
		descCacheRefused, descTierHits, descSharedErrors, descSharedPanics, descLeaseWaits, descLeaseTimeout, descPurges, descPurged, descSharedUp,
		descInstReqs, descInstLatency, descInstWeight, descInstEjected, descInstInFlight, descRetries, descBudget, descRollbacks, descCanaryWeight} {
		ch <- d
	}
}

func (c *serverCollector) Collect(ch chan<- prometheus.Metric) {
	p := c.m.server.Load()
	if p == nil {
		return
	}
	srv := *p
	fs := srv.FetchStats()
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(descCache, fs.CacheHits.Load(), "hit")
	counter(descCache, fs.CacheMisses.Load(), "miss")
	counter(descCache, fs.StaleServed.Load(), "stale")
	counter(descCache, fs.Passes.Load(), "pass")
	counter(descCache, fs.Coalesced.Load(), "coalesced")
	counter(descCacheEvicted, fs.Evictions.Load())
	counter(descCacheRefused, fs.CredentialRefused.Load(), "credential_in_body")
	for service, n := range srv.UpstreamRequests() {
		counter(descUpstream, n, service)
	}
	counter(descRefused, fs.BreakerOpen.Load(), "breaker_open")
	counter(descRefused, fs.Overflows.Load(), "overflow")
	counter(descQueued, fs.Queued.Load())
	counter(descSent, fs.SentTogether.Load())
	counter(descPanics, fs.Panics.Load())
	counter(descTierHits, fs.CacheHits.Load(), "local")
	counter(descTierHits, fs.SharedHits.Load(), "shared")
	counter(descTierHits, fs.UpstreamGets.Load(), "origin")
	counter(descSharedErrors, fs.SharedErrors.Load())
	counter(descSharedPanics, fs.SharedPanics.Load())
	counter(descLeaseWaits, fs.LeaseWaits.Load())
	counter(descLeaseTimeout, fs.LeaseTimeouts.Load())
	counter(descPurges, fs.Purges.Load())
	counter(descPurged, fs.Purged.Load())
	if configured, healthy := srv.SharedTier(); configured {
		up := 0.0
		if healthy {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(descSharedUp, prometheus.GaugeValue, up)
	}
	counter(descReloadErrors, srv.Layouts().ReloadErrors())
	counter(descRetries, fs.Retries.Load(), "retry")
	counter(descRetries, fs.Hedges.Load(), "hedge")
	if e := srv.Engine(); e != nil {
		collectInstances(ch, e)
	}
	if cache := srv.Cache(); cache != nil {
		ch <- prometheus.MustNewConstMetric(descCacheBytes, prometheus.GaugeValue, float64(cache.Bytes()))
		ch <- prometheus.MustNewConstMetric(descCacheEntries, prometheus.GaugeValue, float64(cache.Len()))
	}
	if guards := srv.Guards(); guards != nil {
		for _, service := range srv.ServiceNames() {
			current := guards.State(service)
			for _, state := range []string{"closed", "half-open", "open"} {
				v := 0.0
				if state == current {
					v = 1
				}
				ch <- prometheus.MustNewConstMetric(descBreaker, prometheus.GaugeValue, v, service, state)
			}
			ch <- prometheus.MustNewConstMetric(descLimit, prometheus.GaugeValue, float64(guards.Limit(service)), service)
			ch <- prometheus.MustNewConstMetric(descWaiting, prometheus.GaugeValue, float64(guards.Waiting(service)), service)
		}
	}
}

// collectInstances reports each service's instances, retry budget and
// canary.
func collectInstances(ch chan<- prometheus.Metric, e *fragments.Engine) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for service, insts := range e.Instances() {
		for _, in := range insts {
			counter(descInstReqs, in.Requests-in.Failures, service, in.Addr, "ok")
			counter(descInstReqs, in.Failures, service, in.Addr, "failed")
			gauge(descInstLatency, in.EWMA.Seconds(), service, in.Addr)
			gauge(descInstWeight, in.Weight, service, in.Addr)
			counter(descInstEjected, in.Ejections, service, in.Addr)
			gauge(descInstInFlight, float64(in.InFlight), service, in.Addr)
		}
	}
	for service, b := range e.RetryBudgets() {
		counter(descBudget, b.Requests, service, "requests")
		counter(descBudget, b.Withdrawn, service, "spent")
		counter(descBudget, b.Refused, service, "refused")
	}
	for service, n := range e.CanaryRollbacks() {
		counter(descRollbacks, n, service)
	}
	for service, st := range e.Canaries() {
		gauge(descCanaryWeight, float64(st.Weight), service)
	}
}
