package config

import (
	"fmt"
	"golang.org/x/net/http/httpguts"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/inlayhq/inlay/fragments/shared/redisurl"
)

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
	c.validateServices(add)
	c.validateH2C(add)
	c.validatePages(add)
	c.validateGateway(add)
	c.validateServer(add)
	c.validateCache(add)
	c.validateLimits(add)
	c.validateAuth(add)
	return ps
}

// validateServices checks each team service: its name, url or
// endpoints, timeouts, breaker, forwarded headers and cookies, and the keys
// that spread its fetches over its instances, filling in Name, BaseURL,
// EndpointURLs and the canary's BaseURL.
func (c *Config) validateServices(add func(path, format string, args ...any)) {
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
		s.validateURLs(at, add)
		if s.H2C && s.BaseURL != nil && s.BaseURL.Scheme != "http" {
			add(at+".h2c", "service %q: h2c is HTTP/2 without TLS, for an http:// url only", name)
		}
		s.validateBalancing(at, add)
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
}

// validateH2C checks that services sharing an address (of their url, an
// endpoint or a canary) agree on h2c.
func (c *Config) validateH2C(add func(path, format string, args ...any)) {
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
		if s == nil {
			continue
		}
		type dialled struct {
			key string
			u   *url.URL
		}
		var urls []dialled
		for _, u := range s.Instances() {
			key := "url"
			if len(s.EndpointURLs) > 0 {
				key = "endpoints"
			}
			urls = append(urls, dialled{key, u})
		}
		if s.Canary != nil && s.Canary.BaseURL != nil {
			urls = append(urls, dialled{"canary.url", s.Canary.BaseURL})
		}
		for _, d := range urls {
			key, u := d.key, d.u
			if u.Scheme != "http" {
				continue
			}
			addr := addressOf(u)
			if other, ok := h2cAt[addr]; !ok {
				h2cAt[addr] = s
			} else if other.H2C != s.H2C {
				add("$.services."+name+"."+key, "service %q: h2c is %t, but service %q at the same address %s has %t: they share connections, so they must agree",
					name, s.H2C, other.Name, addr, other.H2C)
				break
			}
		}
	}
}

// validatePages checks each page: its path, layout and timeout.
func (c *Config) validatePages(add func(path, format string, args ...any)) {
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
}

// validateGateway checks each gateway route: its prefix, service and
// timeouts.
func (c *Config) validateGateway(add func(path, format string, args ...any)) {
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
			add(at+".service", "gateway %q: unknown service %q (the config has: %s)", g.Prefix, g.Service, ServiceList(c.Services))
		}
		for key, d := range map[string]Duration{"timeout": g.Timeout, "idle_timeout": g.IdleTimeout, "upload_timeout": g.UploadTimeout} {
			if msg := d.check(); msg != "" {
				add(at+"."+key, "gateway %q: %s: %s", g.Prefix, key, msg)
			}
		}
	}
}

// validateServer checks the top-level keys about the server itself: the
// admin listener and its token, public_url, hosts, debug_token, tracing
// and resolver. It trims a trailing / from public_url.
func (c *Config) validateServer(add func(path, format string, args ...any)) {
	if c.Admin != "" {
		if _, _, err := net.SplitHostPort(c.Admin); err != nil {
			add("$.admin", "admin %q: write HOST:PORT, like 127.0.0.1:9090", c.Admin)
		}
	}
	switch {
	case c.AdminToken != "" && c.AdminTokenFile != "":
		add("$.admin_token_file", "admin_token and admin_token_file are both set: keep admin_token_file, a config file is no place for a secret")
	case c.AdminToken != "" && len(c.AdminToken) < MinAdminToken:
		add("$.admin_token", "admin_token: %s", shortToken)
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" && u.Path != "/" {
			add("$.public_url", "public_url must be scheme://host[:port], got %q", c.PublicURL)
		}
		c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	}
	for i, h := range c.Hosts {
		if msg := checkHost(h); msg != "" {
			add(fmt.Sprintf("$.hosts[%d]", i), "hosts: %q %s", h, msg)
		}
	}
	if msg := checkDebugToken(c.DebugToken); msg != "" {
		add("$.debug_token", "debug_token is too easy to guess: %s; make one with `openssl rand -hex 16`", msg)
	}
	if c.Tracing.Endpoint != "" {
		if u, err := url.Parse(c.Tracing.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("$.tracing.endpoint", "tracing endpoint must be an http(s) URL, got %q", c.Tracing.Endpoint)
		}
	}
	if c.Tracing.SampleRatio < 0 || c.Tracing.SampleRatio > 1 {
		add("$.tracing.sample_ratio", "tracing sample_ratio must be between 0 and 1")
	}
	c.validateResolver(add)
}

// validateCache checks the cache keys, the shared tier among them.
func (c *Config) validateCache(add func(path, format string, args ...any)) {
	if sc := c.Cache.Shared; sc.URL != "" {
		u, err := url.Parse(sc.URL)
		switch {
		case err != nil:
			// url.Parse's message quotes the URL, password and all.
			add("$.cache.shared.url", "cache shared url does not parse")
		case u.Scheme != "redis" && u.Scheme != "rediss":
			add("$.cache.shared.url", "cache shared url must be redis:// or rediss://, got %q", redisurl.Redacted(sc.URL))
		case u.Host == "" || u.Hostname() == "":
			add("$.cache.shared.url", "cache shared url %q has no host", redisurl.Redacted(sc.URL))
		case u.Path != "" && u.Path != "/" && !redisDB.MatchString(u.Path):
			add("$.cache.shared.url", "cache shared url %q: the path names a database number, like /0", redisurl.Redacted(sc.URL))
		case u.Fragment != "":
			add("$.cache.shared.url", "cache shared url %q has a #fragment", redisurl.Redacted(sc.URL))
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
}

// validateLimits checks the size and time limits and the error pages.
func (c *Config) validateLimits(add func(path, format string, args ...any)) {
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
}

// Debug token rules: anyone who guesses the token sees the debug view,
// with the upstream errors of every box.
const (
	minDebugToken         = 16
	minDebugTokenDistinct = 8
)

// checkDebugToken returns what makes a debug token too easy to guess, or
// "" when it is empty (no token) or good enough. A short token falls to a
// guess ("1", "true", "debug"); so does a long one made of a few
// characters ("changemechangeme", "1111111111111111").
func checkDebugToken(token string) string {
	if token == "" {
		return ""
	}
	if len(token) < minDebugToken {
		return fmt.Sprintf("it is shorter than %d characters", minDebugToken)
	}
	var seen [256]bool
	distinct := 0
	for i := 0; i < len(token); i++ {
		if !seen[token[i]] {
			seen[token[i]] = true
			distinct++
		}
	}
	if distinct < minDebugTokenDistinct {
		return fmt.Sprintf("it has only %d different characters, fewer than %d", distinct, minDebugTokenDistinct)
	}
	return ""
}

// errorPageKey matches the keys of error_pages.
var errorPageKey = regexp.MustCompile(`^[45]([0-9][0-9]|xx)$`)

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
