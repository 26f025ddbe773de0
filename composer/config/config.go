// Package config reads Inlay's YAML configuration file.
//
// Syntax and type errors, unknown keys and invalid values are all reported
// as [Problem]s carrying the file, line and column they refer to, so that
// `inlay lint` and `inlay serve` can print `FILE:LINE:COL: message`.
package config

import (
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration of one Inlay server.
type Config struct {
	// Listen is the shopper-facing address. Empty means 127.0.0.1:8080.
	Listen string `yaml:"listen"`
	// Admin is the address of the admin listener (/metrics and debug
	// endpoints). Empty means no admin listener.
	Admin string `yaml:"admin"`
	// AdminToken, when set, is the bearer token the admin listener asks of
	// purge, pprof and every route but /metrics and /-/health. Empty means
	// none, unless AdminTokenFile or $INLAY_ADMIN_TOKEN gives one: prefer
	// those, a config file is no place for a secret. See ReadAdminToken.
	AdminToken string `yaml:"admin_token"`
	// AdminTokenFile names a file that holds the admin token (a mounted
	// Secret, say), relative to the config file. White space around the
	// token is dropped.
	AdminTokenFile string `yaml:"admin_token_file"`
	// Layouts is the folder of *.html layouts, relative to the config file.
	// Empty means the config file's own folder.
	Layouts string `yaml:"layouts"`
	// PageTimeout bounds the composition of one page. Zero means 2s.
	PageTimeout Duration `yaml:"page_timeout"`
	// Dev turns on developer aids such as detailed error pages.
	Dev bool `yaml:"dev"`
	// DebugToken, when set, lets ?inlay-debug=TOKEN show the debug view
	// outside dev mode. Empty means the debug view is for dev mode only.
	// It must be hard to guess: at least 16 characters, 8 of them
	// different (`openssl rand -hex 16` makes one).
	DebugToken string `yaml:"debug_token"`
	// PublicURL is the shop's public base URL, sent to fragments as
	// X-Inlay-Base-URL. Empty means the scheme and Host of each request,
	// which then is part of the cache key of every fragment sent it.
	PublicURL string `yaml:"public_url"`
	// Hosts lists the host names the shop answers for; a request naming
	// any other (in Host, or in an absolute-form target) gets 421 before
	// anything is fetched. /-/health and /-/ready answer on any host. An
	// entry without a port matches the name on any port; names compare
	// without regard to case. Empty means the host of PublicURL, or any
	// host when PublicURL is empty too. See [Config.AllowedHosts].
	Hosts []string `yaml:"hosts"`
	// Services maps service names, as used in layout src attributes, to the
	// team services behind them.
	Services map[string]*Service `yaml:"services"`
	// Pages maps request paths to layouts.
	Pages []*Page `yaml:"pages"`
	// Gateway lists the path prefixes reverse-proxied to team services.
	Gateway []*Gateway `yaml:"gateway"`
	// Cache configures the fragment cache.
	Cache Cache `yaml:"cache"`
	// Tracing configures OpenTelemetry tracing. By default it is off.
	Tracing Tracing `yaml:"tracing"`
	// AccessLog turns the one-line-per-page access log on or off. Nil
	// means on.
	AccessLog *bool `yaml:"access_log"`
	// MaxFragmentBytes caps one fragment's body, after decompression. Zero
	// means 1 MiB.
	MaxFragmentBytes int64 `yaml:"max_fragment_bytes"`
	// MaxInflightBytes is the memory budget of fragment bodies in flight
	// across all pages, from the first byte read until the page has
	// written them: a fetch that would go over it degrades its box at once.
	// Zero means 128 MiB, sized for a 512 MiB container; -1 means no
	// budget.
	MaxInflightBytes int64 `yaml:"max_inflight_bytes"`
	// EarlyHints sends a 103 Early Hints response with the stylesheets of
	// cached fragments while the primary is fetched. Nil means off: Inlay
	// speaks HTTP/1.1, where browsers ignore a 103 and some caches in
	// front fail the request on one (Varnish 7 answers 503). Turn it on
	// when what is in front of Inlay passes 1xx responses on to browsers
	// over HTTP/2 or HTTP/3.
	EarlyHints *bool `yaml:"early_hints"`

	// ErrorPages maps a status ("404") or a class of them ("4xx", "5xx")
	// to a layout that renders the error page, composed like any page.
	// The exact status wins over its class. Empty means Inlay's built-in
	// error page for every status.
	ErrorPages map[string]string `yaml:"error_pages"`
	// DrainDelay is how long /-/ready answers 503 after SIGTERM while the
	// listener still accepts, so that load balancers stop sending new
	// requests before it closes (Kubernetes' preStop pattern). Zero means
	// 5s.
	DrainDelay Duration `yaml:"drain_delay"`
	// Auth configures sign-in. Nil means none, exactly as before it.
	Auth *Auth `yaml:"auth"`
	// Resolver is the IP:PORT of the one DNS server that every lookup of
	// a service's name goes to, like 127.0.0.1:5353. Empty means Go's
	// resolver with the system's usual sources (/etc/hosts,
	// /etc/resolv.conf).
	Resolver string `yaml:"resolver"`
	// ResolverAddr is Resolver, parsed; the zero value when it is empty.
	ResolverAddr netip.AddrPort `yaml:"-"`

	// File is the path the config was read from, if any.
	File string `yaml:"-"`
	// positions maps YAML paths to their line and column in File.
	positions func(path string) (line, col int)
}

// Service is one team service.
type Service struct {
	// URL is the base URL, http or https. Fragment src paths are appended
	// to its path. A host name with several addresses (a Kubernetes
	// headless Service, DNS round robin) stands for that many instances.
	// Exactly one of URL and Endpoints is set.
	URL string `yaml:"url"`
	// Endpoints lists the base URLs of the service's instances, instead of
	// URL: a fixed list, all with the same scheme and path.
	Endpoints []string `yaml:"endpoints"`
	// ResolveEvery is how often the host name of URL (or of each of
	// Endpoints) is looked up again: addresses that appear are eased in,
	// those that go are drained. Zero means 5s; at least 100ms.
	ResolveEvery Duration `yaml:"resolve_every"`
	// FadeIn is how long a new instance's share of the fetches takes to
	// grow from little to full. Zero means 30s.
	FadeIn Duration `yaml:"fade_in"`
	// MaxConnectionAge retires a kept-alive connection this long after it
	// was made, so that the fetches behind one virtual IP (a ClusterIP)
	// spread again over the instances behind it. Zero means 5m; from
	// 100ms to 24h.
	MaxConnectionAge Duration `yaml:"max_connection_age"`
	// RetryBudget is the share of extra fetches, retries and hedges
	// together, allowed on top of the service's fetches, written like
	// 10%. Unset means 10%; 0% means no retry and no hedge.
	RetryBudget Percent `yaml:"retry_budget"`
	// Hedge, when on, sends a second request to another instance once a
	// fetch is still unanswered at the service's recent p95; the first
	// answer wins. Off by default.
	Hedge OnOff `yaml:"hedge"`
	// Canary, when set, sends a stable Weight percent of the shoppers to
	// another version of the service. Nil means none.
	Canary *Canary `yaml:"canary"`
	// Timeout is the default deadline of this service's fragments, from
	// connect to the last body byte. Zero means 1s.
	Timeout Duration `yaml:"timeout"`
	// Cookies forwards the shopper's cookies to this service, on fragment
	// and gateway requests: true for all of them, or a list of cookie
	// names for only those. By default none are forwarded.
	Cookies Cookies `yaml:"cookies"`
	// Authorization forwards the shopper's Authorization header to this
	// service. By default it is not forwarded.
	Authorization bool `yaml:"authorization"`
	// SetCookies lets this service's Set-Cookie headers reach the shopper
	// from fragments that answered before the page's headers left. By
	// default only the primary fragment's cookies do.
	SetCookies bool `yaml:"set_cookies"`
	// Headers lists the shopper's request headers forwarded to this
	// service. Nil means Accept-Language and User-Agent. A forwarded header
	// splits the cache only when the fragment's Vary names it.
	Headers []string `yaml:"headers"`
	// Context sends the page context headers (X-Inlay-Page-Path,
	// X-Inlay-Page-Route, X-Inlay-Route-Params, X-Inlay-Base-URL). Nil means
	// true. Like any header, they split the cache only when the fragment's
	// Vary names them.
	Context *bool `yaml:"context"`
	// MaxConcurrent is the hard ceiling of the service's adaptive
	// concurrency limit, and of its open connections. Fetches over the
	// limit wait in a queue within their own deadline. Zero means 1024.
	MaxConcurrent int `yaml:"max_concurrent"`
	// Breaker configures the service's circuit breaker.
	Breaker Breaker `yaml:"breaker"`
	// H2C: speak HTTP/2 without TLS (prior knowledge) to this service; it
	// must accept h2c. By default, HTTP/1.1.
	H2C bool `yaml:"h2c"`
	// Identity tells this service who the shopper is: none (the
	// default), assertion (an X-Inlay-Identity JWT Inlay signs) or
	// access_token (Authorization: Bearer with the shopper's token).
	Identity string `yaml:"identity"`

	// Local marks a service that `inlay dev` serves from the developer's
	// own machine (--service NAME=URL): never cached, and in dev mode the
	// open pages reload when one of its fragments changes.
	Local bool `yaml:"-"`

	// Name is the service's key in Config.Services.
	Name string `yaml:"-"`
	// BaseURL is URL, parsed, or the first of EndpointURLs.
	BaseURL *url.URL `yaml:"-"`
	// EndpointURLs is Endpoints, parsed, in their order. Nil when the
	// service has a URL.
	EndpointURLs []*url.URL `yaml:"-"`
}

// Breaker configures the circuit breaker of one service. By default it
// opens when at least half of the fetches in a rolling 10s window failed,
// once the window holds 20 fetches; it stays open 10s, then lets 1 probe
// through. Failures are connect errors, timeouts, broken bodies and 5xx.
type Breaker struct {
	// Failures, when set, also opens the breaker after that many failures
	// in a row. Zero means no such rule: the failure rate decides.
	Failures uint32 `yaml:"failures"`
	// FailureRate is the share of failed fetches in the window that opens
	// the breaker, between 0 and 1. Zero means 0.5.
	FailureRate float64 `yaml:"failure_rate"`
	// MinRequests is how many fetches the window must hold before its
	// failure rate counts. Zero means 20.
	MinRequests uint32 `yaml:"min_requests"`
	// Window is the rolling window of the failure rate. Zero means 10s.
	Window Duration `yaml:"window"`
	// OpenFor is how long the breaker stays open before probing. Zero
	// means 10s.
	OpenFor Duration `yaml:"open_for"`
	// Probes is how many requests a half-open breaker lets through. Zero
	// means 1.
	Probes uint32 `yaml:"probes"`
	// PerEndpoint gives every endpoint of the service (a src path as the
	// layout writes it, like /fragments/product/{sku}) a breaker of its
	// own, so that one broken endpoint fails fast while the service's
	// other boxes are served: an endpoint's failures count only against
	// it, and the service's breaker opens only when the breakers of at
	// least two endpoints, and of half of them, are open. False gives the
	// service one breaker that counts every fetch. Nil means true.
	PerEndpoint *bool `yaml:"per_endpoint"`
}

// Cache configures the fragment cache, which stores fragments by their own
// Cache-Control headers.
type Cache struct {
	// Shared configures the shared tier beneath the in-process cache. By
	// default there is none: each replica caches on its own.
	Shared SharedCache `yaml:"shared"`
	// MaxBytes is the cache's memory budget. Zero means 64 MiB.
	MaxBytes int64 `yaml:"max_bytes"`
	// Disabled turns the cache off: every fragment is fetched.
	Disabled bool `yaml:"disabled"`
	// NegativeTTL is how long a 404 or 410 without caching headers of its
	// own is kept, so that a burst on a missing fragment costs one fetch.
	// Zero means 5s.
	NegativeTTL Duration `yaml:"negative_ttl"`
}

// Tracing configures OpenTelemetry spans, one per page and per fragment.
type Tracing struct {
	// Endpoint is the OTLP/HTTP collector URL, like
	// http://otel-collector:4318. Empty means tracing is off.
	Endpoint string `yaml:"endpoint"`
	// SampleRatio is the share of traces sampled when no parent decided.
	// Zero means 1 (all).
	SampleRatio float64 `yaml:"sample_ratio"`
}

// Page binds a request path to a layout.
type Page struct {
	// Path is the route, with parameters in braces: /product/{sku}.
	Path string `yaml:"path"`
	// Layout is the layout file's name inside the layouts folder.
	Layout string `yaml:"layout"`
	// Timeout overrides Config.PageTimeout for this page. Zero means the
	// config's page timeout.
	Timeout Duration `yaml:"timeout"`
	// InOrder streams async fragments in document order on this page, as
	// is always done for crawlers. By default they stream out of order.
	InOrder bool `yaml:"in_order"`
	// Auth is optional (the default) or required: an anonymous shopper
	// is sent to sign in first.
	Auth string `yaml:"auth"`
}

// Gateway reverse-proxies every request under Prefix to Service, with the
// method, body and normalised path, and the headers the service may have.
type Gateway struct {
	// Prefix is a path prefix that starts and ends with a slash.
	Prefix string `yaml:"prefix"`
	// Service names the target service.
	Service string `yaml:"service"`
	// Timeout is how long to wait for the service's response headers
	// before answering 504. Zero means 30s.
	Timeout Duration `yaml:"timeout"`
	// IdleTimeout is how long the response body may pause, between two
	// reads from the service or while one write to the shopper waits. There
	// is no cap on the whole response, so event streams and long downloads
	// work. Zero means 60s.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// UploadTimeout is the deadline for reading the shopper's request
	// body, from the start of the request. Zero means 30s.
	UploadTimeout Duration `yaml:"upload_timeout"`
	// Auth is optional (the default) or required: an anonymous shopper
	// gets 401.
	Auth string `yaml:"auth"`
}

// Defaults of a gateway route.
const (
	DefaultGatewayTimeout       = 30 * time.Second
	DefaultGatewayIdleTimeout   = 60 * time.Second
	DefaultGatewayUploadTimeout = 30 * time.Second
)

// HeaderTimeout returns the route's wait for response headers.
func (g *Gateway) HeaderTimeout() time.Duration {
	return orDefault(g.Timeout, DefaultGatewayTimeout)
}

// BodyIdleTimeout returns the longest pause of the route's response body.
func (g *Gateway) BodyIdleTimeout() time.Duration {
	return orDefault(g.IdleTimeout, DefaultGatewayIdleTimeout)
}

// UploadDeadline returns how long the route reads a request body.
func (g *Gateway) UploadDeadline() time.Duration {
	return orDefault(g.UploadTimeout, DefaultGatewayUploadTimeout)
}

func orDefault(d Duration, def time.Duration) time.Duration {
	if d > 0 {
		return time.Duration(d)
	}
	return def
}

// Defaults used where the config leaves a value out.
const (
	DefaultListen         = "127.0.0.1:8080"
	DefaultPageTimeout    = 2 * time.Second
	DefaultServiceTimeout = time.Second
)

// ListenAddr returns Listen or its default.
func (c *Config) ListenAddr() string {
	if c.Listen == "" {
		return DefaultListen
	}
	return c.Listen
}

// LayoutsDir returns the layouts folder, resolved against the config file's folder.
func (c *Config) LayoutsDir() string {
	dir := filepath.Dir(c.File)
	if c.Layouts == "" {
		return dir
	}
	if filepath.IsAbs(c.Layouts) {
		return c.Layouts
	}
	return filepath.Join(dir, c.Layouts)
}

// AccessLogEnabled reports whether one line per page is logged.
func (c *Config) AccessLogEnabled() bool { return c.AccessLog == nil || *c.AccessLog }

// EarlyHintsEnabled reports whether 103 Early Hints are sent.
func (c *Config) EarlyHintsEnabled() bool { return c.EarlyHints != nil && *c.EarlyHints }

// PageDeadline returns the page timeout for p.
func (c *Config) PageDeadline(p *Page) time.Duration {
	if p != nil && p.Timeout > 0 {
		return time.Duration(p.Timeout)
	}
	if c.PageTimeout > 0 {
		return time.Duration(c.PageTimeout)
	}
	return DefaultPageTimeout
}

// DefaultForwardedHeaders are the shopper headers sent to a service that
// does not list its own.
var DefaultForwardedHeaders = []string{"Accept-Language", "User-Agent"}

// ForwardedHeaders returns the shopper headers sent to the service, in
// canonical form.
func (s *Service) ForwardedHeaders() []string {
	if s.Headers == nil {
		return DefaultForwardedHeaders
	}
	return s.Headers
}

// PerEndpointEnabled reports whether each endpoint of the service has a
// breaker of its own (the default).
func (b *Breaker) PerEndpointEnabled() bool { return b.PerEndpoint == nil || *b.PerEndpoint }

// SendsContext reports whether the service gets the page context headers.
func (s *Service) SendsContext() bool { return s.Context == nil || *s.Context }

// FragmentTimeout returns the service's default fragment deadline.
func (s *Service) FragmentTimeout() time.Duration {
	if s.Timeout > 0 {
		return time.Duration(s.Timeout)
	}
	return DefaultServiceTimeout
}

// Load reads and validates the config file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(path, data)
}

// Default drain delay: long enough for a load balancer's readiness probe
// (every few seconds) to see the 503.
const DefaultDrainDelay = 5 * time.Second

// Drain returns the drain delay or its default.
func (c *Config) Drain() time.Duration {
	if c.DrainDelay > 0 {
		return time.Duration(c.DrainDelay)
	}
	return DefaultDrainDelay
}

// ErrorPage returns the layout of the error page for status, and the key
// it is listed under: the exact status first, then its class. It returns
// "" when the built-in page serves that status.
func (c *Config) ErrorPage(status int) (layout, key string) {
	key = strconv.Itoa(status)
	if l, ok := c.ErrorPages[key]; ok {
		return l, key
	}
	key = key[:1] + "xx"
	if l, ok := c.ErrorPages[key]; ok {
		return l, key
	}
	return "", ""
}

// ServiceList is the names of services, sorted and comma-separated, or
// "none": what a message about an unknown service offers instead.
func ServiceList(services map[string]*Service) string {
	if len(services) == 0 {
		return "none"
	}
	return strings.Join(slices.Sorted(maps.Keys(services)), ", ")
}

// SetServiceURL points an existing service at a new base URL, as the demo
// does for the team services it starts on free ports; it replaces the
// service's endpoints, if it had a list.
func (c *Config) SetServiceURL(name, rawURL string) error {
	s, ok := c.Services[name]
	if !ok {
		return fmt.Errorf("unknown service %q (it has: %s)", name, ServiceList(c.Services))
	}
	u, problem := parseBaseURL("url", rawURL)
	if problem != "" {
		return fmt.Errorf("service %q: bad url: %s", name, problem)
	}
	if s.H2C && u.Scheme != "http" {
		return fmt.Errorf("service %q: h2c needs an http:// url, got %q", name, rawURL)
	}
	s.URL, s.BaseURL = rawURL, u
	s.Endpoints, s.EndpointURLs = nil, nil
	return nil
}
