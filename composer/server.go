package composer

import (
	"cmp"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/inlayhq/inlay/composer/auth"
	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/composer/layout"
	"github.com/inlayhq/inlay/fragments"
	"github.com/inlayhq/inlay/fragments/cache"
	"github.com/inlayhq/inlay/fragments/canary"
	"github.com/inlayhq/inlay/fragments/contract"
	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/guard"
	"github.com/inlayhq/inlay/static"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.opentelemetry.io/otel/trace"
)

// Options are the parts of a Server that do not come from the config file.
type Options struct {
	// Engine fetches fragments and carries gateway requests. It is made
	// once per process and outlives config reloads: the caller applies a
	// new config to it with Engine.Configure([EngineSettings]) once New
	// accepted that config. If nil, New makes one for this server alone,
	// which Close closes.
	Engine *fragments.Engine
	// FetchTransport, for the engine New makes, carries every fragment
	// and gateway request instead of a pool per service under the dial
	// policy. Tests use it to reach in-memory services.
	FetchTransport http.RoundTripper
	// Transport, when not nil, carries every gateway request instead of
	// the engine's gateway pools, and no gateway answer is cached.
	Transport http.RoundTripper
	// CacheCleanup is the cache cleanup interval of the engine New makes;
	// see [cache.Config.CleanupInterval]. Negative means none, as
	// synctest bubbles want.
	CacheCleanup time.Duration
	// LayoutFS holds the layout files. If nil, the config's layouts folder
	// on disk is used.
	LayoutFS fs.FS
	// Logger receives the server's logs. If nil, slog.Default() is used.
	Logger *slog.Logger
	// WriteIdleTimeout is how long one write of a page to a shopper may
	// take before the connection is cut. Zero means DefaultWriteIdleTimeout.
	WriteIdleTimeout time.Duration
	// Observer is told about every page and fragment, for metrics. Nil
	// means none.
	Observer Observer
	// TracerProvider makes a span per page and per fragment, and the
	// fragment's span context is sent to its service. Nil means no spans:
	// the shopper's valid traceparent is passed on as it came.
	TracerProvider trace.TracerProvider
	// AccessLog logs one line per page. It is on in production setups;
	// tests and benchmarks may leave it off.
	AccessLog bool
	// Auth is the sign-in of a config with an auth block, which may
	// outlive this server (its sessions survive a config reload); New
	// makes it answer errors with this server's error pages. Nil means New
	// makes one, which Close closes.
	Auth *auth.Auth
}

// Server is Inlay's shopper-facing HTTP handler: page routes that compose
// layouts, gateway routes that proxy to team services, and /-/health.
type Server struct {
	cfg       *config.Config
	layouts   *layout.Folder
	engine    *fragments.Engine
	ownEngine bool // made by New, closed by Close
	logger    *slog.Logger
	echo      *echo.Echo
	observer  Observer
	tracer    trace.Tracer // nil when tracing is off
	accessLog bool
	ready     atomic.Bool
	live      *liveReload // dev mode's live reload; nil outside dev mode
	pages     *pageEngine // composes the pages of every route and error page
	auth      *auth.Auth  // sign-in; nil without an auth block
	ownAuth   bool        // made by New, closed by Close
	// hosts are the hosts the shop answers for; nil for any.
	hosts       *config.HostAllowlist
	misdirected logFolder  // folds the log lines of 421 answers
	gateways    []*gateway // the gateway routes, for the assets fragments declare
	preloads    preloader  // fetches of those assets into the cache
}

// New builds a Server from a validated config. It loads every layout and
// fails, with FILE:LINE:COL problems, if any layout is broken or a page
// names a layout that does not exist.
func New(cfg *config.Config, opts Options) (*Server, error) {
	s := &Server{cfg: cfg, engine: opts.Engine, logger: opts.Logger, hosts: cfg.AllowedHosts()}
	s.observer, s.accessLog = opts.Observer, opts.AccessLog
	if s.observer == nil {
		s.observer = nopObserver{}
	}
	if opts.TracerProvider != nil {
		s.tracer = opts.TracerProvider.Tracer("github.com/inlayhq/inlay/composer")
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if err := s.loadLayouts(cfg, opts.LayoutFS); err != nil {
		return nil, err
	}
	if err := s.setupAuth(cfg, opts); err != nil {
		return nil, err
	}
	// Only now, with nothing left to fail: the cache starts a goroutine.
	if s.engine == nil {
		s.engine = fragments.NewEngine(fragments.EngineOptions{
			Logger:          s.logger,
			Transport:       opts.FetchTransport,
			CleanupInterval: opts.CacheCleanup,
		}, EngineSettings(cfg))
		s.ownEngine = true
	}
	s.pages = s.newPageEngine(cfg, opts)
	s.echo = s.router(cfg, opts)
	if len(s.gateways) > 0 && opts.Transport == nil {
		// The latest config's routes preload the assets of the fragments
		// the engine stores, across reloads.
		s.engine.OnStored(s.preloadAssets)
	} else {
		s.engine.OnStored(nil)
	}
	return s, nil
}

// loadLayouts loads the layouts folder (fsys, else the config's folder on
// disk), checks that every page's layout is there, and keeps the pages'
// and error pages' layouts through reloads that lose their files.
func (s *Server) loadLayouts(cfg *config.Config, fsys fs.FS) error {
	if fsys == nil {
		if p := layout.FolderProblem(cfg); p != nil {
			return config.Problems{p}
		}
		fsys = layout.Dir(cfg.LayoutsDir())
	}
	layouts, err := layout.Load(fsys, cfg.LayoutsDir(), cfg.Services)
	if err != nil {
		return err
	}
	s.layouts = layouts
	if ps := layout.CheckPages(cfg, layouts); len(ps) > 0 {
		return ps
	}
	for _, p := range cfg.Pages {
		layouts.Require(p.Layout)
	}
	for _, name := range cfg.ErrorPages {
		layouts.Require(name)
	}
	return nil
}

// newPageEngine is what composes the pages of every route and error page.
func (s *Server) newPageEngine(cfg *config.Config, opts Options) *pageEngine {
	pe := &pageEngine{
		fetch:      s.engine,
		observer:   s.observer,
		logger:     s.logger,
		tracer:     s.tracer,
		writeIdle:  cmp.Or(opts.WriteIdleTimeout, DefaultWriteIdleTimeout),
		earlyHints: cfg.EarlyHintsEnabled(),
		errorPage:  s.renderErrorDetail,
		hasErrorPage: func(status int) bool {
			name, _ := cfg.ErrorPage(status)
			return name != ""
		},
	}
	if cfg.Dev {
		pe.overlay = s.writeOverlay
	}
	return pe
}

// router is the echo app of the public listener: probes, dev mode's and
// sign-in's reserved paths, static files, gateway routes and pages.
func (s *Server) router(cfg *config.Config, opts Options) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleEchoError
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: s.logPanic}))
	e.Use(s.requestIDMiddleware)
	e.GET("/-/health", func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store") // a cache in front must not answer for a process
		return c.String(http.StatusOK, "ok\n")
	})
	e.GET("/-/ready", s.readyHandler)
	s.devRoutes(e)
	s.authRoutes(e)
	e.Match([]string{http.MethodGet, http.MethodHead}, static.Prefix+"*", echo.WrapHandler(static.Handler()))
	e.Match([]string{http.MethodGet, http.MethodHead}, static.FaviconPath, echo.WrapHandler(static.FaviconHandler())) // a page route of that path wins
	for _, g := range cfg.Gateway {
		transport := opts.Transport
		if transport == nil {
			transport = s.engine.GatewayTransport(g.Service)
		}
		// Any names only the methods echo knows; the route's not-found
		// handler takes every other one (PURGE, M-SEARCH, ...), which
		// echo would otherwise refuse with a 405. The gateway refuses
		// TRACE and CONNECT itself.
		gw := s.newGateway(g, transport, opts.Transport == nil)
		s.gateways = append(s.gateways, gw)
		h := echo.WrapHandler(gw)
		e.Any(g.Prefix+"*", h)
		e.RouteNotFound(g.Prefix+"*", h)
	}
	for _, p := range cfg.Pages {
		e.Match([]string{http.MethodGet, http.MethodHead}, echoRoute(p.Path), s.pageHandler(p))
	}
	return e
}

// EngineSettings are the fetch engine's settings that cfg describes.
func EngineSettings(cfg *config.Config) fragments.Settings {
	st := fragments.Settings{
		MaxBodyBytes:     cfg.MaxFragmentBytes,
		MaxInflightBytes: cfg.MaxInflightBytes,
		Cache: cache.Config{
			MaxBytes:    cfg.Cache.MaxBytes,
			NegativeTTL: time.Duration(cfg.Cache.NegativeTTL),
		},
		CacheDisabled: cfg.Cache.Disabled,
	}
	if sc := cfg.Cache.Shared; sc.Enabled() {
		st.Shared = fragments.SharedConfig{URL: sc.URL, Timeout: sc.CallTimeout()}
	}
	st.Resolver = cfg.ResolverAddr
	for _, name := range slices.Sorted(maps.Keys(cfg.Services)) {
		svc := cfg.Services[name]
		st.Services = append(st.Services, fragments.ServiceConfig{
			Name: name,
			URL:  svc.BaseURL,
			H2C:  svc.H2C,
			// A developer's own service is never cached: an edit shows on
			// the next load.
			NoCache: svc.Local,
			Guard: guard.Config{
				Failures:      svc.Breaker.Failures,
				FailureRate:   svc.Breaker.FailureRate,
				MinRequests:   svc.Breaker.MinRequests,
				Window:        time.Duration(svc.Breaker.Window),
				OpenFor:       time.Duration(svc.Breaker.OpenFor),
				Probes:        svc.Breaker.Probes,
				ServiceOnly:   !svc.Breaker.PerEndpointEnabled(),
				MaxConcurrent: svc.MaxConcurrent,
			},
		})
		instancesOf(&st.Services[len(st.Services)-1], svc)
	}
	return st
}

// instancesOf sets how a service's instances are found and chosen.
func instancesOf(sc *fragments.ServiceConfig, svc *config.Service) {
	if len(svc.EndpointURLs) > 1 {
		sc.Endpoints = svc.EndpointURLs
	}
	sc.ResolveEvery = svc.ResolveInterval()
	sc.FadeIn = svc.FadeInPeriod()
	sc.MaxConnAge = svc.ConnectionLifetime()
	sc.RetryBudget = svc.RetryShare()
	if sc.RetryBudget == 0 {
		sc.RetryBudget = -1 // retry_budget: 0%
	}
	sc.Hedge = svc.Hedge.On
	if c := svc.Canary; c != nil && c.BaseURL != nil {
		sc.Canary = &fragments.CanaryConfig{URL: c.BaseURL, Weight: c.Weight}
	}
}

// Close stops the server's background work. The engine is closed only if
// New made it. The HTTP listener is the caller's to shut down first.
func (s *Server) Close() {
	s.CloseStreams()
	s.preloads.close()
	if s.ownEngine {
		s.engine.Close()
	}
	if s.ownAuth {
		s.auth.Close()
	}
}

// ServiceNames returns the names of the configured services, sorted.
func (s *Server) ServiceNames() []string {
	names := make([]string, 0, len(s.cfg.Services))
	for name := range s.cfg.Services {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Engine returns the fetch engine the server uses.
func (s *Server) Engine() *fragments.Engine { return s.engine }

// FetchStats returns the counters of the fetch engine (cache, coalescing,
// breakers, limits).
func (s *Server) FetchStats() *fetch.Stats { return s.engine.Stats() }

// Guards returns the per-service breakers and concurrency limits.
func (s *Server) Guards() *guard.Guards { return s.engine.Guards() }

// Cache returns the fragment cache.
func (s *Server) Cache() *cache.Cache { return s.engine.Cache() }

// ServeHTTP serves a shopper's request. A request for a host the shop
// does not answer for gets 421 before any route sees it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.hosts != nil && !s.hostAllowed(r) && !AnswersAnyHost(r.URL.Path) {
		s.refuseMisdirected(w, r)
		return
	}
	s.echo.ServeHTTP(w, r)
}

// AnswersAnyHost reports whether a path is served whatever host the
// request names: the probes, which load balancers and Kubernetes send to
// a pod's address.
func AnswersAnyHost(path string) bool { return path == "/-/health" || path == "/-/ready" }

// hostAllowed reports whether the request names an allowed host: in Host
// and, for an absolute-form target (GET http://host/ HTTP/1.1), in the
// target too. Go's server makes r.Host the target's host then (RFC 9112
// §3.2.2); the target is checked as well, so that nothing depends on it.
func (s *Server) hostAllowed(r *http.Request) bool {
	return s.hosts.Allows(r.Host) && (r.URL.Host == "" || s.hosts.Allows(r.URL.Host))
}

// refuseMisdirected answers 421 Misdirected Request (RFC 9110 §15.5.20):
// this server does not answer for the host the request names. Nothing is
// fetched, and the log gets one line a second at most.
func (s *Server) refuseMisdirected(w http.ResponseWriter, r *http.Request) {
	if ok, folded := s.misdirected.allow("421", time.Now()); ok {
		s.logger.LogAttrs(r.Context(), slog.LevelWarn, "misdirected request: a host the shop does not answer for (hosts, or public_url's host)",
			slog.String("host", r.Host), slog.String("target_host", r.URL.Host), slog.Int("folded", folded))
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusMisdirectedRequest)
	_, _ = io.WriteString(w, "Misdirected Request: this server does not answer for that host\n")
}

// Layouts returns the server's layout registry, for reloading.
func (s *Server) Layouts() *layout.Folder { return s.layouts }

// SetReady marks the server ready to take traffic, or not: /-/ready
// answers 200 only in between. The process sets it once its listener is
// open, and clears it when it starts to drain.
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

func (s *Server) readyHandler(c echo.Context) error {
	// A cache in front must not answer for a process: a stored "ready"
	// would outlive the drain.
	c.Response().Header().Set("Cache-Control", "no-store")
	status, text := http.StatusOK, "ready\n"
	if !s.ready.Load() {
		status, text = http.StatusServiceUnavailable, "not ready\n"
	}
	if s.engine == nil || !s.engine.HasCanary() {
		return c.String(status, text)
	}
	// With canaries, the answer says how each stands: its weight, and
	// whether and why it was rolled back.
	return c.JSON(status, struct {
		Ready    bool                    `json:"ready"`
		Canaries map[string]canary.State `json:"canaries"`
	}{status == http.StatusOK, s.engine.Canaries()})
}

// stripInlayHeaders drops X-Inlay-* headers the shopper sent: those names
// are Inlay's to set, and a team must be able to trust them.
func stripInlayHeaders(h http.Header) {
	for name := range h {
		if len(name) >= len("X-Inlay-") && strings.EqualFold(name[:len("X-Inlay-")], "X-Inlay-") {
			delete(h, name)
		}
	}
}

// requestIDMiddleware gives every request an id, taken from a sane
// X-Request-Id or made anew, and returns it in the response. It is the
// composer's front door: it also drops the shopper's X-Inlay-* headers.
func (s *Server) requestIDMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		tagRequest(c)
		return next(c)
	}
}

// tagRequest drops the request's X-Inlay-* headers and sets its id, on
// the request and on the response. It is not inlined into the
// middleware, whose frame stays on the stack under the whole request:
// the header walk's iterator would stay there with it (see "Stack
// budget" in the package doc).
//
//go:noinline
func tagRequest(c echo.Context) {
	r := c.Request()
	stripInlayHeaders(r.Header)
	id := requestID(r)
	r.Header.Set(HeaderRequestID, id)
	c.Response().Header()[HeaderRequestID] = []string{id}
}

// writeOverlay puts the current layout and config problems over the page
// (with the layouts' warnings), or the warnings badge when the page's
// layout has warnings only, and the live-reload script at its end. Dev
// mode only.
func (s *Server) writeOverlay(st *stream) {
	if st.err != nil {
		return
	}
	st.asset(contract.Asset{Kind: contract.Stylesheet, URL: static.Path("inlay.css")})
	if problems, _ := s.devProblems(); len(problems) > 0 {
		st.err = devOverlay(s.overlayList(problems)).Render(context.Background(), st.page)
	} else if ws := st.pg.layout.Warnings; len(ws) > 0 {
		list := s.overlayProblems(ws)
		for i := range list {
			list[i].Warning = true
		}
		st.err = devWarnings(list).Render(context.Background(), st.page)
	}
	if st.err == nil {
		st.err = devScript(s.devVersion()).Render(context.Background(), st.page)
	}
}
