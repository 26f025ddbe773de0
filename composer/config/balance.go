package config

import (
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/inlayhq/inlay/fragments/resolve"
)

// Defaults of the keys that spread a service's fetches over its
// instances.
const (
	DefaultResolveEvery     = 5 * time.Second
	DefaultFadeIn           = 30 * time.Second
	DefaultMaxConnectionAge = 5 * time.Minute
	DefaultRetryBudget      = 0.10
)

// Bounds of those keys: a name looked up more often than every 100ms
// loads the DNS server for nothing; connections retired sooner than that
// are never reused.
const (
	minResolveEvery     = 100 * time.Millisecond
	minMaxConnectionAge = 100 * time.Millisecond
	maxMaxConnectionAge = 24 * time.Hour
)

// Canary is a second version of a service that a stable share of the
// shoppers gets, for all of the service's boxes on a page and for its
// gateway routes.
type Canary struct {
	// URL is the canary's base URL, http or https, required.
	URL string `yaml:"url"`
	// Weight is the percent of shoppers who get the canary, from 0 to
	// 100. Zero (the default) means none.
	Weight int `yaml:"weight"`

	// BaseURL is URL, parsed.
	BaseURL *url.URL `yaml:"-"`
}

// Percent is a share written in YAML as a percentage, like 10% or 2.5%.
type Percent struct {
	// Ratio is the share, from 0 to 1: 10% is 0.1.
	Ratio float64
	// Set says the config gave a value: 0% is one, and differs from
	// leaving the key out.
	Set bool

	bad bool // not a percentage from 0% to 100%; reported by validate
}

// UnmarshalYAML reads a percentage such as 10%.
func (p *Percent) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		*p = Percent{bad: true}
		return nil
	}
	n, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	v, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
	if !ok || err != nil || math.IsNaN(v) || v < 0 || v > 100 {
		*p = Percent{bad: true}
		return nil
	}
	*p = Percent{Ratio: v / 100, Set: true}
	return nil
}

// OnOff is a switch written in YAML as on or off (true and false are
// read too). The zero value is off.
type OnOff struct {
	// On says the switch is on.
	On bool

	bad bool // neither on nor off; reported by validate
}

// UnmarshalYAML reads on, off, true or false.
func (o *OnOff) UnmarshalYAML(unmarshal func(any) error) error {
	var b bool
	if err := unmarshal(&b); err == nil {
		*o = OnOff{On: b}
		return nil
	}
	var s string
	if err := unmarshal(&s); err == nil {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "on", "true":
			*o = OnOff{On: true}
			return nil
		case "off", "false":
			*o = OnOff{}
			return nil
		}
	}
	*o = OnOff{bad: true}
	return nil
}

// ResolveInterval returns how often the service's host name is looked
// up again.
func (s *Service) ResolveInterval() time.Duration {
	return orDefault(s.ResolveEvery, DefaultResolveEvery)
}

// FadeInPeriod returns how long a new instance's share of the fetches
// takes to grow to full.
func (s *Service) FadeInPeriod() time.Duration { return orDefault(s.FadeIn, DefaultFadeIn) }

// ConnectionLifetime returns how long a kept-alive connection to the
// service is used before it is retired.
func (s *Service) ConnectionLifetime() time.Duration {
	return orDefault(s.MaxConnectionAge, DefaultMaxConnectionAge)
}

// RetryShare returns the retry budget as a ratio: the extra fetches, for
// retries and hedges, allowed per fetch of the service.
func (s *Service) RetryShare() float64 {
	if s.RetryBudget.Set {
		return s.RetryBudget.Ratio
	}
	return DefaultRetryBudget
}

// Instances returns the base URLs of the service's instances as the
// config gives them: EndpointURLs, or BaseURL alone, whose host name may
// stand for several addresses.
func (s *Service) Instances() []*url.URL {
	if len(s.EndpointURLs) > 0 {
		return s.EndpointURLs
	}
	if s.BaseURL != nil {
		return []*url.URL{s.BaseURL}
	}
	return nil
}

// parseBaseURL parses the base URL of a service, an instance or a canary;
// key names it in the problem, which is "" when the URL is good. The path
// loses its final slash.
func parseBaseURL(key, raw string) (*url.URL, string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Sprintf("bad %s: %v", key, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Sprintf("%s must be http or https, got %q", key, raw)
	case u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Sprintf("%s must be scheme://host[:port][/path], got %q", key, raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Sprintf("%s has port %s, not one from 1 to 65535: %q", key, p, raw)
		}
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, ""
}

// addressOf returns where u dials, host in lower case and port explicit.
func addressOf(u *url.URL) string { return strings.ToLower(resolve.HostPort(u)) }

// validateURLs checks a service's url or endpoints, exactly one of
// them, filling in BaseURL and EndpointURLs.
func (s *Service) validateURLs(at string, add func(path, format string, args ...any)) {
	name := s.Name
	switch {
	case s.URL != "" && s.Endpoints != nil:
		add(at+".endpoints", "service %q: url and endpoints are both set: keep url for a name to look up, or endpoints for a fixed list", name)
		return
	case s.URL == "" && s.Endpoints == nil:
		add(at, "service %q has no url (or endpoints)", name)
		return
	case s.URL != "":
		u, msg := parseBaseURL("url", s.URL)
		if msg != "" {
			add(at+".url", "service %q: %s", name, msg)
			return
		}
		s.BaseURL = u
		return
	case len(s.Endpoints) == 0:
		add(at+".endpoints", "service %q: endpoints is empty: list at least one URL", name)
		return
	}
	urls := make([]*url.URL, 0, len(s.Endpoints))
	seen := map[string]int{}
	for j, raw := range s.Endpoints {
		key := fmt.Sprintf("endpoints[%d]", j)
		u, msg := parseBaseURL(key, raw)
		switch {
		case msg != "":
			add(at+"."+key, "service %q: %s", name, msg)
			continue
		case len(urls) > 0 && (u.Scheme != urls[0].Scheme || u.Path != urls[0].Path):
			add(at+"."+key, "service %q: %s is %s, but %s is %s: the instances of one service share scheme and path",
				name, key, u.Redacted(), "endpoints[0]", urls[0].Redacted())
			continue
		}
		addr := addressOf(u)
		if first, ok := seen[addr]; ok {
			add(at+"."+key, "service %q: %s %q is endpoints[%d] again", name, key, raw, first)
			continue
		}
		seen[addr] = j
		urls = append(urls, u)
	}
	if len(urls) == len(s.Endpoints) {
		s.EndpointURLs = urls
		s.BaseURL = urls[0]
	}
}

// validateBalancing checks the keys that spread the service's fetches
// over its instances: resolve_every, fade_in, max_connection_age,
// retry_budget, hedge and canary.
func (s *Service) validateBalancing(at string, add func(path, format string, args ...any)) {
	name := s.Name
	if msg := s.ResolveEvery.check(); msg != "" {
		add(at+".resolve_every", "service %q: resolve_every: %s", name, msg)
	} else if s.ResolveEvery > 0 && time.Duration(s.ResolveEvery) < minResolveEvery {
		add(at+".resolve_every", "service %q: resolve_every: must be at least %s", name, minResolveEvery)
	}
	if msg := s.FadeIn.check(); msg != "" {
		add(at+".fade_in", "service %q: fade_in: %s", name, msg)
	}
	switch age := s.MaxConnectionAge; {
	case age == badDuration || age < 0:
		add(at+".max_connection_age", "service %q: max_connection_age: %s", name, age.check())
	case age > 0 && (time.Duration(age) < minMaxConnectionAge || time.Duration(age) > maxMaxConnectionAge):
		add(at+".max_connection_age", "service %q: max_connection_age: must be from 100ms to 24h", name)
	}
	if s.RetryBudget.bad {
		add(at+".retry_budget", "service %q: retry_budget: write a percentage from 0%% to 100%%, like 10%%", name)
	}
	if s.Hedge.bad {
		add(at+".hedge", "service %q: hedge: write on or off", name)
	}
	if s.Canary == nil {
		return
	}
	if w := s.Canary.Weight; w < 0 || w > 100 {
		add(at+".canary.weight", "service %q: canary weight is the percent of shoppers, from 0 to 100, got %d", name, w)
	}
	if s.Canary.URL == "" {
		add(at+".canary", "service %q: canary has no url", name)
		return
	}
	u, msg := parseBaseURL("canary url", s.Canary.URL)
	if msg != "" {
		add(at+".canary.url", "service %q: %s", name, msg)
		return
	}
	for _, inst := range s.Instances() {
		if addressOf(inst) == addressOf(u) && inst.Scheme == u.Scheme && inst.Path == u.Path {
			add(at+".canary.url", "service %q: canary url %q is the service's own: the canary is another version, at another address", name, s.Canary.URL)
			return
		}
	}
	if s.H2C && u.Scheme != "http" {
		add(at+".canary.url", "service %q: h2c is HTTP/2 without TLS, so the canary url must be http:// too", name)
	}
	s.Canary.BaseURL = u
}

// validateResolver checks the top-level resolver key, filling in
// ResolverAddr.
func (c *Config) validateResolver(add func(path, format string, args ...any)) {
	if c.Resolver == "" {
		return
	}
	ap, err := netip.ParseAddrPort(c.Resolver)
	if err != nil || ap.Port() == 0 {
		add("$.resolver", "resolver %q: write the IP:PORT of a DNS server, like 127.0.0.1:5353 (a name would need a resolver of its own)", c.Resolver)
		return
	}
	c.ResolverAddr = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
