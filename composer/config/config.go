// Package config reads Inlay's YAML configuration file.
//
// Syntax and type errors, unknown keys and invalid values are all reported
// as [Problem]s carrying the file, line and column they refer to, so that
// `inlay lint` and `inlay serve` can print `FILE:LINE:COL: message`.
package config

import (
	"cmp"
	"fmt"
	"golang.org/x/net/http/httpguts"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/inlayhq/inlay/fragments/shared"
)

// Config is the whole configuration of one Inlay server.
type Config struct {
	// Listen is the shopper-facing address. Empty means 127.0.0.1:8080.
	Listen string `yaml:"listen"`
	// Admin is the address of the admin listener (/metrics and debug
	// endpoints). Empty means no admin listener.
	Admin string `yaml:"admin"`
	// Layouts is the folder of *.html layouts, relative to the config file.
	// Empty means the config file's own folder.
	Layouts string `yaml:"layouts"`
	// PageTimeout bounds the composition of one page. Zero means 2s.
	PageTimeout Duration `yaml:"page_timeout"`
	// Dev turns on developer aids such as detailed error pages.
	Dev bool `yaml:"dev"`
	// DebugToken, when set, lets ?inlay-debug=TOKEN show the debug view
	// outside dev mode. Empty means the debug view is for dev mode only.
	DebugToken string `yaml:"debug_token"`
	// PublicURL is the shop's public base URL, sent to fragments as
	// X-Inlay-Base-URL. Empty means the scheme and Host of each request.
	PublicURL string `yaml:"public_url"`
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
	// cached fragments while the primary is fetched. Nil means on; turn it
	// off behind load balancers that drop 1xx responses.
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

	// File is the path the config was read from, if any.
	File string `yaml:"-"`
	// positions maps YAML paths to their line and column in File.
	positions func(path string) (line, col int)
}

// Service is one team service.
type Service struct {
	// URL is the base URL, http or https. Fragment src paths are appended
	// to its path.
	URL string `yaml:"url"`
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

	// Name is the service's key in Config.Services.
	Name string `yaml:"-"`
	// BaseURL is URL, parsed.
	BaseURL *url.URL `yaml:"-"`
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
	// own too, so that one broken endpoint fails fast while the service's
	// other boxes are served. Off by default.
	PerEndpoint bool `yaml:"per_endpoint"`
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
func (c *Config) EarlyHintsEnabled() bool { return c.EarlyHints == nil || *c.EarlyHints }

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

// SendsContext reports whether the service gets the page context headers.
func (s *Service) SendsContext() bool { return s.Context == nil || *s.Context }

// neverForwarded are request headers a service may not list: hop-by-hop
// and framing headers, credentials (which have their own switches),
// conditionals and ranges, and headers Inlay sets itself.
var neverForwarded = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true, "Proxy-Authorization": true, "Proxy-Authenticate": true,
	"Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true, "Host": true, "Content-Length": true, "Content-Type": true,
	"Cookie": true, "Authorization": true, "Range": true, "If-Range": true, "If-Match": true, "If-None-Match": true,
	"If-Modified-Since": true, "If-Unmodified-Since": true, "Accept": true, "Accept-Encoding": true, "Expect": true,
	"X-Request-Id": true, "Traceparent": true, "Tracestate": true,
}

// FragmentTimeout returns the service's default fragment deadline.
func (s *Service) FragmentTimeout() time.Duration {
	if s.Timeout > 0 {
		return time.Duration(s.Timeout)
	}
	return DefaultServiceTimeout
}

// Problem is one thing wrong with a config or layout file.
type Problem struct {
	File      string
	Line, Col int
	Message   string
}

// Error formats the problem as FILE:LINE:COL: message.
func (p *Problem) Error() string {
	switch {
	case p.Line > 0:
		return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Message)
	case p.File != "":
		return fmt.Sprintf("%s: %s", p.File, p.Message)
	}
	return p.Message
}

// Problems is a list of problems; as an error it prints one per line.
type Problems []*Problem

// Error joins the problems' messages, one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Sort orders the problems by file, line and column.
func (ps Problems) Sort() {
	slices.SortStableFunc(ps, func(a, b *Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
}

// Err returns ps as an error, or nil when there are none.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// Load reads and validates the config file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(path, data)
}

var redisDB = regexp.MustCompile(`^/[0-9]{1,2}$`)

var serviceName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// validate checks the values the YAML decoder cannot, filling in derived
// fields. Every problem points at the YAML node it is about.
func (c *Config) validate() Problems {
	var ps Problems
	add := func(path, format string, args ...any) {
		line, col := c.positions(path)
		ps = append(ps, &Problem{File: c.File, Line: line, Col: col, Message: fmt.Sprintf(format, args...)})
	}
	if len(c.Services) == 0 {
		add("$.services", "no services: at least one team service is needed")
	}
	for name, s := range c.Services {
		at := "$.services." + name
		if !serviceName.MatchString(name) {
			add(at, "service name %q: use lower-case letters, digits, '-' and '_'", name)
		}
		if s == nil {
			add(at, "service %q has no url", name)
			continue
		}
		s.Name = name
		u, err := url.Parse(s.URL)
		switch {
		case s.URL == "":
			add(at, "service %q has no url", name)
		case err != nil:
			add(at+".url", "service %q: bad url: %v", name, err)
		case u.Scheme != "http" && u.Scheme != "https":
			add(at+".url", "service %q: url must be http or https, got %q", name, s.URL)
		case u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
			add(at+".url", "service %q: url must be scheme://host[:port][/path], got %q", name, s.URL)
		default:
			u.Path = strings.TrimSuffix(u.Path, "/")
			u.RawPath = ""
			s.BaseURL = u
		}
		if s.H2C && s.BaseURL != nil && s.BaseURL.Scheme != "http" {
			add(at+".h2c", "service %q: h2c is HTTP/2 without TLS, for an http:// url only", name)
		}
		if msg := s.Timeout.check(); msg != "" {
			add(at+".timeout", "service %q: timeout: %s", name, msg)
		}
		if msg := s.Breaker.OpenFor.check(); msg != "" {
			add(at+".breaker.open_for", "service %q: breaker open_for: %s", name, msg)
		}
		if msg := s.Breaker.Window.check(); msg != "" {
			add(at+".breaker.window", "service %q: breaker window: %s", name, msg)
		}
		if r := s.Breaker.FailureRate; r < 0 || r > 1 {
			add(at+".breaker.failure_rate", "service %q: breaker failure_rate must be between 0 and 1", name)
		}
		for j, h := range s.Headers {
			canonical := http.CanonicalHeaderKey(h)
			switch {
			case !validHeaderName(h):
				add(fmt.Sprintf("%s.headers[%d]", at, j), "service %q: %q is not a header name", name, h)
			case neverForwarded[canonical] || strings.HasPrefix(canonical, "X-Inlay-"):
				add(fmt.Sprintf("%s.headers[%d]", at, j), "service %q: header %s is never forwarded (cookies and authorization have their own switches)", name, canonical)
			}
			s.Headers[j] = canonical
		}
		if s.Cookies.bad {
			add(at+".cookies", "service %q: cookies: write true, false, or a list of cookie names", name)
		}
		for j, c := range s.Cookies.Names {
			if !validCookieName(c) {
				add(fmt.Sprintf("%s.cookies[%d]", at, j), "service %q: %q is not a cookie name", name, c)
			}
		}
		if s.MaxConcurrent < 0 {
			add(at+".max_concurrent", "service %q: max_concurrent must not be negative", name)
		}
	}
	// h2c is a property of the connection, so of the address: services
	// sharing one must agree on it.
	names := make([]string, 0, len(c.Services))
	for name := range c.Services {
		names = append(names, name)
	}
	slices.Sort(names)
	h2cAt := map[string]*Service{}
	for _, name := range names {
		s := c.Services[name]
		if s == nil || s.BaseURL == nil || s.BaseURL.Scheme != "http" {
			continue
		}
		port := s.BaseURL.Port()
		if port == "" {
			port = "80"
		}
		addr := net.JoinHostPort(strings.ToLower(s.BaseURL.Hostname()), port)
		if other, ok := h2cAt[addr]; !ok {
			h2cAt[addr] = s
		} else if other.H2C != s.H2C {
			add("$.services."+name+".url", "service %q: h2c is %t, but service %q at the same address %s has %t: they share connections, so they must agree",
				name, s.H2C, other.Name, addr, other.H2C)
		}
	}
	seen := map[string]bool{}
	for i, p := range c.Pages {
		at := fmt.Sprintf("$.pages[%d]", i)
		switch {
		case p == nil || p.Path == "":
			add(at, "page without path")
			continue
		case !strings.HasPrefix(p.Path, "/"):
			add(at+".path", "page path %q must start with /", p.Path)
		case seen[p.Path]:
			add(at+".path", "page path %q is listed twice", p.Path)
		default:
			if err := checkRoute(p.Path); err != nil {
				add(at+".path", "page path %q: %v", p.Path, err)
			}
		}
		seen[p.Path] = true
		if p.Layout == "" {
			add(at, "page %q has no layout", p.Path)
		}
		if msg := p.Timeout.check(); msg != "" {
			add(at+".timeout", "page %q: timeout: %s", p.Path, msg)
		}
	}
	for i, g := range c.Gateway {
		at := fmt.Sprintf("$.gateway[%d]", i)
		if g == nil {
			add(at, "empty gateway entry")
			continue
		}
		if !strings.HasPrefix(g.Prefix, "/") || !strings.HasSuffix(g.Prefix, "/") || g.Prefix == "/" {
			add(at+".prefix", "gateway prefix %q must start and end with / and not be / alone", g.Prefix)
		}
		if strings.HasPrefix(g.Prefix, "/-/") {
			add(at+".prefix", "gateway prefix %q: /-/ is reserved for Inlay", g.Prefix)
		}
		if _, ok := c.Services[g.Service]; !ok {
			add(at+".service", "gateway %q: unknown service %q", g.Prefix, g.Service)
		}
		for key, d := range map[string]Duration{"timeout": g.Timeout, "idle_timeout": g.IdleTimeout, "upload_timeout": g.UploadTimeout} {
			if msg := d.check(); msg != "" {
				add(at+"."+key, "gateway %q: %s: %s", g.Prefix, key, msg)
			}
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" && u.Path != "/" {
			add("$.public_url", "public_url must be scheme://host[:port], got %q", c.PublicURL)
		}
		c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	}
	if c.Tracing.Endpoint != "" {
		if u, err := url.Parse(c.Tracing.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("$.tracing.endpoint", "tracing endpoint must be an http(s) URL, got %q", c.Tracing.Endpoint)
		}
	}
	if c.Tracing.SampleRatio < 0 || c.Tracing.SampleRatio > 1 {
		add("$.tracing.sample_ratio", "tracing sample_ratio must be between 0 and 1")
	}
	if sc := c.Cache.Shared; sc.URL != "" {
		u, err := url.Parse(sc.URL)
		switch {
		case err != nil:
			// url.Parse's message quotes the URL, password and all.
			add("$.cache.shared.url", "cache shared url does not parse")
		case u.Scheme != "redis" && u.Scheme != "rediss":
			add("$.cache.shared.url", "cache shared url must be redis:// or rediss://, got %q", shared.Redacted(sc.URL))
		case u.Host == "" || u.Hostname() == "":
			add("$.cache.shared.url", "cache shared url %q has no host", shared.Redacted(sc.URL))
		case u.Path != "" && u.Path != "/" && !redisDB.MatchString(u.Path):
			add("$.cache.shared.url", "cache shared url %q: the path names a database number, like /0", shared.Redacted(sc.URL))
		case u.Fragment != "":
			add("$.cache.shared.url", "cache shared url %q has a #fragment", shared.Redacted(sc.URL))
		}
	}
	if msg := c.Cache.Shared.Timeout.check(); msg != "" {
		add("$.cache.shared.timeout", "cache shared timeout: %s", msg)
	} else if c.Cache.Shared.Timeout > Duration(time.Second) {
		add("$.cache.shared.timeout", "cache shared timeout: must be at most 1s (the tier is worth asking only when it answers faster than the origin)")
	}
	if c.Cache.MaxBytes < 0 {
		add("$.cache.max_bytes", "cache max_bytes must not be negative")
	}
	if msg := c.Cache.NegativeTTL.check(); msg != "" {
		add("$.cache.negative_ttl", "cache negative_ttl: %s", msg)
	}
	if c.MaxFragmentBytes < 0 {
		add("$.max_fragment_bytes", "max_fragment_bytes must not be negative")
	}
	if c.MaxInflightBytes < -1 {
		add("$.max_inflight_bytes", "max_inflight_bytes must be positive, or -1 for no budget")
	}
	if msg := c.PageTimeout.check(); msg != "" {
		add("$.page_timeout", "page_timeout: %s", msg)
	}
	if c.DrainDelay < 0 {
		add("$.drain_delay", "drain_delay must not be negative")
	}
	for key, layout := range c.ErrorPages {
		at := "$.error_pages." + key
		if !errorPageKey.MatchString(key) {
			add(at, "error_pages key %q: write a status from 400 to 599 (\"404\") or a class (\"4xx\", \"5xx\")", key)
		}
		if layout == "" {
			add(at, "error_pages %q has no layout", key)
		}
	}
	return ps
}

// errorPageKey matches the keys of error_pages.
var errorPageKey = regexp.MustCompile(`^[45]([0-9][0-9]|xx)$`)

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

// validHeaderName accepts an HTTP field name (RFC 9110 §5.1) of at most
// 64 bytes.
func validHeaderName(h string) bool {
	return len(h) <= 64 && httpguts.ValidHeaderFieldName(h)
}

var routeParam = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkRoute accepts paths whose segments are literal or a whole {param}.
func checkRoute(path string) error {
	for _, seg := range strings.Split(path[1:], "/") {
		if !strings.ContainsAny(seg, "{}") {
			continue
		}
		if !strings.HasPrefix(seg, "{") || !strings.HasSuffix(seg, "}") || !routeParam.MatchString(seg[1:len(seg)-1]) {
			return fmt.Errorf("segment %q: a parameter must fill a whole segment, like {sku}", seg)
		}
	}
	return nil
}

// ProblemAt returns a problem located at the YAML node at path, such as
// $.pages[0].layout.
func (c *Config) ProblemAt(path, message string) *Problem {
	p := &Problem{File: c.File, Message: message}
	if c.positions != nil {
		p.Line, p.Col = c.positions(path)
	}
	return p
}

// SetServiceURL points an existing service at a new base URL, as the demo
// does for the team services it starts on free ports.
func (c *Config) SetServiceURL(name, rawURL string) error {
	s, ok := c.Services[name]
	if !ok {
		return fmt.Errorf("unknown service %q", name)
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("service %q: bad url %q", name, rawURL)
	}
	if s.H2C && u.Scheme != "http" {
		return fmt.Errorf("service %q: h2c needs an http:// url, got %q", name, rawURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	s.URL, s.BaseURL = rawURL, u
	return nil
}
