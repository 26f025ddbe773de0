package fragments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inlayhq/inlay/fragments/balance"
	"github.com/inlayhq/inlay/fragments/cache"
	"github.com/inlayhq/inlay/fragments/canary"
	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/guard"
	"github.com/inlayhq/inlay/fragments/resolve"
	"github.com/inlayhq/inlay/fragments/transport"
)

// Engine is Inlay's fetch engine: made once per process and kept for as
// long as the process lives, across config reloads. It runs every fetch
// through the cache, then the service's circuit breaker and adaptive
// concurrency limit, then HTTP over the service's own connection pool.
//
// A reload calls [Engine.Configure] with the new settings. A service
// whose address or protocol changed gets a new pool, and its old pool is
// closed once its last request has ended; an unchanged service keeps its
// connections, breaker state and limit; the cache and every stale copy
// in it survive. Counters are the engine's, so they never go back to zero.
type Engine struct {
	opts   EngineOptions
	stats  *fetch.Stats
	logger *slog.Logger
	cache  *cache.Cache
	guards *guard.Guards

	budget     *fetch.Budget // bodies in flight across all pages
	upstream   sync.Map      // service name → *atomic.Int64: requests sent, across reloads
	cacheOff   atomic.Bool
	someOff    atomic.Bool                         // some service has NoCache set
	someCanary atomic.Bool                         // some service has a canary
	services   atomic.Pointer[map[string]*service] // replaced whole by Configure
	mu         sync.Mutex                          // serializes Configure and Close
	closed     bool                                // guarded by mu
	shared     SharedConfig                        // the shared tier's settings in use; guarded by mu
}

var _ fetch.Fetcher = (*Engine)(nil)

// EngineOptions are what an Engine keeps for its whole life.
type EngineOptions struct {
	// Logger receives the engine's logs. If nil, slog.Default() is used.
	Logger *slog.Logger
	// Transport, when not nil, carries every request of every service,
	// fragments and gateway alike, instead of a pool per service under
	// the dial policy. Tests use it to reach in-memory services.
	Transport http.RoundTripper
	// Dial, when not nil, makes every connection to every service,
	// fragments and gateway alike, instead of a net.Dialer; Transport
	// takes precedence over it. Unlike Transport, it keeps the transport
	// each service would have without it (the lean HTTP/1.1 client for a
	// plain-http service on Unix, net/http's otherwise), and the dial
	// policy still applies: to the address dialled when it is an IP
	// address, and to the address the connection reached when it has one.
	// Tests use it to reach in-memory services over connections.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Lookup, when not nil, looks up the names of the services' URLs
	// instead of Go's resolver, and Settings.Resolver is not used: a shop
	// that finds its instances its own way, or a test.
	Lookup resolve.Lookuper
	// CleanupInterval is how often the cache drops expired entries; see
	// [cache.Config.CleanupInterval].
	CleanupInterval time.Duration
}

// Settings are the parts of the engine a config reload may change.
type Settings struct {
	// Services are the team services fragments come from.
	Services []ServiceConfig
	// MaxBodyBytes caps a fragment body. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxInflightBytes is the memory budget of fragment bodies in flight
	// across all pages; see [Budget]. Zero means DefaultMaxInflightBytes.
	MaxInflightBytes int64
	// Cache configures the cache. Its MaxBytes, HitForMiss and NegativeTTL
	// are read when the engine is made; later changes need a restart.
	Cache cache.Config
	// CacheDisabled sends every fetch to the service.
	CacheDisabled bool
	// Shared configures the shared tier beneath the in-process cache.
	// The zero value means none. A change on reload replaces the tier's
	// client.
	Shared SharedConfig
	// Resolver, when valid, is the one DNS server every lookup of a
	// service's name goes to; the zero value means the system's.
	Resolver netip.AddrPort
}

// ServiceConfig is one team service as the engine sees it.
type ServiceConfig struct {
	// Name is the service's name in the config and in layouts.
	Name string
	// URL is the service's base URL. Its host:port is the one internal
	// address the dial policy lets this service's pool reach.
	URL *url.URL
	// H2C speaks HTTP/2 without TLS to the service.
	H2C bool
	// NoCache sends every fetch of the service to it, past the cache, and
	// stores none of its answers: for a service a developer is editing.
	NoCache bool
	// Guard configures the service's breaker and concurrency limit.
	Guard guard.Config
	// Endpoints are the base URLs of the service's instances when the
	// config lists them (endpoints:); requests are still made for URL,
	// the first of them. Empty means URL alone. A host that is a name is
	// looked up again every ResolveEvery, and each of its addresses is an
	// instance.
	Endpoints []*url.URL
	// ResolveEvery is how often the names of the service's URLs are
	// looked up again. Zero means resolve.DefaultEvery.
	ResolveEvery time.Duration
	// FadeIn is how long a new instance's share of the fetches takes to
	// grow to full. Zero means balance.DefaultFadeIn; negative, none.
	FadeIn time.Duration
	// MaxConnAge retires a kept-alive connection once it is this old.
	// Zero means never.
	MaxConnAge time.Duration
	// RetryBudget is the share of extra fetches (retries and hedges)
	// allowed per request. Zero means balance.DefaultRetryRatio;
	// negative, none.
	RetryBudget float64
	// Hedge sends a second request to another instance once the first is
	// slower than the service's recent p95.
	Hedge bool
	// Canary, when not nil, is another version of the service that a
	// stable share of the shoppers get.
	Canary *CanaryConfig
}

// CanaryConfig is a service's canary: another version of it, at URL,
// that Weight percent of the shoppers get for all of that service's boxes
// and gateway routes, rolled back (its weight set to 0) when it does
// worse than the stable version.
type CanaryConfig struct {
	URL    *url.URL
	Weight int
}

// service is the engine's state for one team service.
type service struct {
	cfg    ServiceConfig
	stable *group
	canary *group         // nil without a canary
	can    *canary.Canary // nil without a canary
}

// NewEngine returns an engine with the given settings. Close stops it.
func NewEngine(opts EngineOptions, settings Settings) *Engine {
	e := &Engine{opts: opts, stats: settings.Cache.Stats, logger: opts.Logger, budget: fetch.NewBudget(settings.MaxInflightBytes)}
	if e.stats == nil {
		e.stats = &fetch.Stats{}
	}
	if e.logger == nil {
		e.logger = slog.Default()
	}
	e.services.Store(&map[string]*service{})
	e.guards = guard.New(e.guardConfig, e.stats, e.logger)
	cc := settings.Cache
	cc.Stats, cc.Logger, cc.CleanupInterval = e.stats, e.logger, opts.CleanupInterval
	e.cache = cache.New(fetch.FetcherFunc(e.origin), cc)
	e.Configure(settings)
	return e
}

// Configure applies new settings in place. It never fails: the settings
// were validated with the config they came from.
func (e *Engine) Configure(settings Settings) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	e.cacheOff.Store(settings.CacheDisabled)
	e.someOff.Store(slices.ContainsFunc(settings.Services, func(sc ServiceConfig) bool { return sc.NoCache }))
	e.budget.SetMax(settings.MaxInflightBytes)
	e.configureShared(settings.Shared)
	old := *e.services.Load()
	next := make(map[string]*service, len(settings.Services))
	someCanary := false
	for _, sc := range settings.Services {
		next[sc.Name] = e.configureService(old[sc.Name], sc, settings)
		someCanary = someCanary || sc.Canary != nil
	}
	e.someCanary.Store(someCanary)
	e.services.Store(&next)
	for name, o := range old {
		n := next[name]
		if n == nil || n.stable != o.stable {
			o.stable.close()
		}
		if o.canary != nil && (n == nil || n.canary != o.canary) {
			o.canary.close()
		}
	}
	e.guards.Reconfigure()
}

// configureService makes a service's state from its settings, keeping
// what o (its state before, or nil) had that the change leaves as it was:
// its instances and their connections, its canary's analysis.
func (e *Engine) configureService(o *service, sc ServiceConfig, settings Settings) *service {
	svc := &service{cfg: sc}
	urls := sc.Endpoints
	if len(urls) == 0 && sc.URL != nil {
		urls = []*url.URL{sc.URL}
	}
	if o != nil && o.stable.key == groupKeyOf(urls, sc, settings) {
		svc.stable = o.stable // its instances, connections and choices go on
	} else {
		svc.stable = e.newGroup(sc.Name, urls, sc, settings)
	}
	if sc.Canary == nil {
		return svc
	}
	curls := []*url.URL{sc.Canary.URL}
	if o != nil && o.canary != nil && o.canary.key == groupKeyOf(curls, sc, settings) {
		svc.canary = o.canary
	} else {
		svc.canary = e.newGroup(sc.Name+" canary", curls, sc, settings)
	}
	if o != nil && o.can != nil {
		svc.can = o.can // its rollback count and window go on; a reload sets the weight again
		if err := svc.can.SetWeight(sc.Canary.Weight); err != nil {
			e.logger.Warn("canary weight refused", slog.String("service", sc.Name), slog.String("error", err.Error()))
		}
		return svc
	}
	can, err := canary.New(canary.Config{Service: sc.Name, Weight: sc.Canary.Weight, Logger: e.logger})
	if err != nil {
		e.logger.Warn("canary not started", slog.String("service", sc.Name), slog.String("error", err.Error()))
		svc.canary.close()
		svc.canary = nil
		return svc
	}
	svc.can = can
	return svc
}

// group returns the group a request goes to: the canary's when the
// engine chose it for the request.
func (s *service) group(canaried bool) *group {
	if canaried && s.canary != nil {
		return s.canary
	}
	return s.stable
}

// Fetch fetches a fragment through the cache, the service's guard and
// its pool: [Engine.Start], then [Pending.Wait]. A panic anywhere below
// fails only this fetch.
func (e *Engine) Fetch(ctx context.Context, req *fetch.Request) (*fetch.Response, error) {
	var p Pending
	resp, _, err := e.start(ctx, req, false, &p).Wait()
	return resp, err
}

// Peek returns what the cache holds for req, fresh or stale, without
// fetching; see [Cache.Peek].
func (e *Engine) Peek(req *fetch.Request) (*fetch.Response, bool) {
	if e.bypass(req) {
		return nil, false
	}
	return e.cache.Peek(req)
}

// bypass reports whether req goes past the cache: when the cache is off,
// when the request says so, or when its service is never cached.
func (e *Engine) bypass(req *fetch.Request) bool {
	if e.cacheOff.Load() || req.NoCache {
		return true
	}
	if !e.someOff.Load() {
		return false
	}
	svc := (*e.services.Load())[req.Service]
	return svc != nil && svc.cfg.NoCache
}

// origin fetches req from its service, under the service's guards.
func (e *Engine) origin(ctx context.Context, req *fetch.Request) (*fetch.Response, error) {
	resp, _, err := e.guards.Fetch(ctx, req, fetch.FetcherFunc(e.send))
	return resp, err
}

// send is the bottom of the stack: one HTTP fetch over the service's pool.
func (e *Engine) send(ctx context.Context, req *fetch.Request) (*fetch.Response, error) {
	svc := (*e.services.Load())[req.Service]
	if svc == nil {
		return nil, &fetch.Error{Kind: fetch.KindConnect, ID: req.ID, Service: req.Service, Err: fmt.Errorf("no service %q is configured", req.Service)}
	}
	e.upstreamCount(req.Service).Add(1)
	g := svc.group(req.Canary)
	var start time.Time // read only when something weighs the fetch's time here
	if req.Asset || svc.can != nil {
		start = time.Now()
	}
	var resp *fetch.Response
	var err error
	if req.Asset {
		in, ep := g.pick(nil)
		resp, err = transport.FetchAsset(ctx, in.gate, req, e.cache.MaxEntry(), cache.DefaultNegativeTTL)
		g.done(in, ep, start, nil, err)
	} else {
		resp, err = g.fetch(ctx, req)
	}
	if svc.can != nil {
		svc.can.Observe(req.Canary, time.Since(start), canaryFailed(err))
	}
	return resp, err
}

func (e *Engine) upstreamCount(service string) *atomic.Int64 {
	if n, ok := e.upstream.Load(service); ok {
		return n.(*atomic.Int64)
	}
	n, _ := e.upstream.LoadOrStore(service, new(atomic.Int64))
	return n.(*atomic.Int64)
}

// UpstreamRequests returns how many fragment requests reached each
// service, since the engine was made. A cache hit or a coalesced fetch is
// never one; a background refresh is.
func (e *Engine) UpstreamRequests() map[string]int64 {
	out := map[string]int64{}
	e.upstream.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

func (e *Engine) guardConfig(name string) guard.Config {
	if svc := (*e.services.Load())[name]; svc != nil {
		return svc.cfg.Guard
	}
	return guard.Config{}
}

// GatewayTransport returns the transport of a service's gateway requests:
// under the service's breaker and concurrency limit (see
// [Guards.RoundTripper]), over a pool of its own beside the fragments', so
// a burst of gateway traffic never takes the fragments' connections. The
// pool is looked up for each request, so a reload that moves the service
// takes effect at once.
func (e *Engine) GatewayTransport(name string) http.RoundTripper {
	return e.guards.RoundTripper(name, gatewayPool{e: e, service: name})
}

// gatewayPool sends a request through the current gateway pool of a
// service.
type gatewayPool struct {
	e       *Engine
	service string
}

func (p gatewayPool) RoundTrip(r *http.Request) (*http.Response, error) {
	svc := (*p.e.services.Load())[p.service]
	if svc == nil {
		return nil, fmt.Errorf("gateway: no service %q is configured", p.service)
	}
	g := svc.group(svc.can != nil && svc.can.Chooses(ShopperOf(r.Context())))
	start := time.Now()
	resp, o, err := g.gatewayRoundTrip(r)
	if svc.can != nil {
		svc.can.Observe(g == svc.canary, time.Since(start), o == balance.Failure || o == balance.ConnFailure)
	}
	return resp, err
}

// Stats returns the engine's counters.
func (e *Engine) Stats() *fetch.Stats { return e.stats }

// Guards returns the per-service breakers and limits.
func (e *Engine) Guards() *guard.Guards { return e.guards }

// Cache returns the fragment cache.
func (e *Engine) Cache() *cache.Cache { return e.cache }

// Close stops the cache's background work and closes every pool once its
// requests have ended. The engine serves no fetch after it.
func (e *Engine) Close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	services := *e.services.Load()
	e.mu.Unlock()
	e.cache.Close()
	if st := e.cache.SetShared(nil); st != nil {
		st.Close()
	}
	for _, svc := range services {
		svc.stable.close()
		if svc.canary != nil {
			svc.canary.close()
		}
	}
}

// canaryFailed says which outcomes count as failures when a canary is
// compared with its stable version: what degrades a box (an error, a
// timeout, a 5xx, a broken contract), not a 4xx answer, nor a fetch the
// shopper or Inlay itself gave up on.
func canaryFailed(err error) bool {
	switch fetch.KindOf(err) {
	case 0, fetch.KindCanceled, fetch.KindPanic, fetch.KindBreakerOpen, fetch.KindOverflow, fetch.KindBudget:
		return false
	case fetch.KindStatus:
		fe, ok := errors.AsType[*fetch.Error](err)
		return !ok || fe.Status >= http.StatusInternalServerError
	}
	return true
}
