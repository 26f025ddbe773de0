package layout

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/fragments/contract"
)

// Source is a compiled fragment src: a registered service and a URL
// template whose {name} parameters are filled per request.
type Source struct {
	// Service is the registered service the fragment is fetched from.
	Service *config.Service
	// Raw is the src attribute as written in the layout.
	Raw string

	prefix   string // scheme://host/basepath of the service
	parts    []sourcePart
	fixed    string // the whole URL, when there are no parameters
	fixedKey string // its cache key
	endpoint string // the path as written, parameters unfilled
	// hostKey is the last key HostKey made for a src without parameters.
	hostKey atomic.Pointer[hostKey]
}

// hostKey is a src's cache key for one base URL.
type hostKey struct{ base, key string }

// Key returns the cache key of a src without parameters, made once; ""
// for one with parameters.
func (s *Source) Key() string { return s.fixedKey }

// HostKey returns the cache key of the src's fragment for a page whose
// base URL (X-Inlay-Base-URL) is made from the shopper's Host: see
// [contract.HostKey]. url is the src's URL as filled for the page. A src
// without parameters keeps the last key it made, so that a shop answering
// under one name makes it once.
func (s *Source) HostKey(url, base string) string {
	if s.fixedKey == "" {
		return contract.HostKey(s.Service.Name, url, base)
	}
	if k := s.hostKey.Load(); k != nil && k.base == base {
		return k.key
	}
	k := &hostKey{base: base, key: contract.HostKey(s.Service.Name, s.fixed, base)}
	s.hostKey.Store(k)
	return k.key
}

// Endpoint names the src's endpoint for per-endpoint circuit breakers:
// its path as the layout writes it, like /fragments/product/{sku}.
func (s *Source) Endpoint() string { return s.endpoint }

// sourcePart is a literal or a parameter of a src template.
type sourcePart struct {
	lit   string // literal text, already valid in its place
	param string // parameter name; set when this part is a parameter
	query bool   // the parameter stands in the query, not the path
}

// parseSource compiles a src attribute: "SERVICE:/path?query" or an absolute
// http(s) URL whose origin is a registered service's.
func parseSource(raw string, services map[string]*config.Service) (*Source, error) {
	if raw == "" {
		return nil, errors.New("src is empty")
	}
	if len(raw) > 2048 {
		return nil, errors.New("src is longer than 2048 bytes")
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f || r == '\\' || r == '"' || r == '<' || r == '>' || r == '#' {
			return nil, fmt.Errorf("src %q: no spaces, control characters, quotes, backslashes, < > or # allowed", raw)
		}
	}
	svc, rest, err := splitService(raw, services)
	if err != nil {
		return nil, err
	}
	s := &Source{Service: svc, Raw: raw, prefix: svc.BaseURL.Scheme + "://" + svc.BaseURL.Host + svc.BaseURL.Path}
	if err := s.compile(rest); err != nil {
		return nil, fmt.Errorf("src %q: %w", raw, err)
	}
	s.endpoint, _, _ = strings.Cut(rest, "?")
	if len(s.Params()) == 0 {
		s.fixed = s.URL(nil)
		s.fixedKey = contract.PrimaryKey(svc.Name, s.fixed)
	}
	return s, nil
}

// splitService finds the service a src names and returns the path and
// query that follow it.
func splitService(raw string, services map[string]*config.Service) (*config.Service, string, error) {
	if scheme, rest, ok := strings.Cut(raw, "://"); ok {
		if scheme != "http" && scheme != "https" {
			return nil, "", fmt.Errorf("src %q: only service:/path or an http(s) URL of a registered service", raw)
		}
		host, path, _ := strings.Cut(rest, "/")
		path = "/" + path
		if strings.ContainsAny(host, "@{}") {
			return nil, "", fmt.Errorf("src %q: user info and parameters are not allowed in the host", raw)
		}
		for _, svc := range services {
			if svc.BaseURL == nil || svc.BaseURL.Scheme != scheme || !strings.EqualFold(svc.BaseURL.Host, host) {
				continue
			}
			if svc.BaseURL.Path != "" {
				if !strings.HasPrefix(path, svc.BaseURL.Path+"/") {
					continue
				}
				path = path[len(svc.BaseURL.Path):]
			}
			return svc, path, nil
		}
		return nil, "", fmt.Errorf("src %q: %s://%s is not the URL of a registered service; write SERVICE:/path", raw, scheme, host)
	}
	name, rest, ok := strings.Cut(raw, ":")
	if !ok {
		return nil, "", fmt.Errorf("src %q: write it as SERVICE:/path", raw)
	}
	svc, ok := services[name]
	if !ok || svc.BaseURL == nil {
		return nil, "", fmt.Errorf("src %q: unknown service %q (the config has: %s)", raw, name, config.ServiceList(services))
	}
	return svc, rest, nil
}

// compile splits the path and query into literals and parameters and
// checks that the literal parts cannot leave their place.
func (s *Source) compile(rest string) error {
	if !strings.HasPrefix(rest, "/") || strings.HasPrefix(rest, "//") {
		return errors.New("the path must start with a single /")
	}
	path, query, hasQuery := strings.Cut(rest, "?")
	if err := s.compilePart(path, false); err != nil {
		return err
	}
	if hasQuery {
		s.parts = append(s.parts, sourcePart{lit: "?"})
		if err := s.compilePart(query, true); err != nil {
			return err
		}
	}
	for _, seg := range strings.Split(path, "/") {
		if seg == "." || seg == ".." {
			return errors.New("the path must not contain . or .. segments")
		}
	}
	return nil
}

func (s *Source) compilePart(text string, query bool) error {
	for text != "" {
		open := strings.IndexByte(text, '{')
		if close := strings.IndexByte(text, '}'); close >= 0 && (open < 0 || close < open) {
			return errors.New("} without {")
		}
		if open < 0 {
			return s.addLiteral(text, query)
		}
		if err := s.addLiteral(text[:open], query); err != nil {
			return err
		}
		end := strings.IndexByte(text[open:], '}')
		if end < 0 {
			return errors.New("{ without }")
		}
		name := text[open+1 : open+end]
		if !isParamName(name) {
			return fmt.Errorf("bad parameter name {%s}", name)
		}
		s.parts = append(s.parts, sourcePart{param: name, query: query})
		text = text[open+end+1:]
	}
	return nil
}

func (s *Source) addLiteral(lit string, query bool) error {
	if lit == "" {
		return nil
	}
	unescape := url.PathUnescape
	if query {
		unescape = url.QueryUnescape
	}
	if _, err := unescape(lit); err != nil {
		return fmt.Errorf("bad escape in %q", lit)
	}
	s.parts = append(s.parts, sourcePart{lit: lit})
	return nil
}

func isParamName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_', 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		case i > 0 && ('0' <= r && r <= '9' || r == '-'):
		default:
			return false
		}
	}
	return true
}

// Params returns the names of the parameters the src uses.
func (s *Source) Params() []string {
	var names []string
	for _, p := range s.parts {
		if p.param != "" {
			names = append(names, p.param)
		}
	}
	return names
}

// URL builds the fragment URL, escaping each parameter's value for where it
// stands: a value can never add a path segment, leave the path, or add a
// query parameter.
func (s *Source) URL(value func(name string) string) string {
	if s.fixed != "" {
		return s.fixed
	}
	var b strings.Builder
	n := len(s.prefix)
	for _, p := range s.parts {
		n += len(p.lit) + 16
	}
	b.Grow(n)
	b.WriteString(s.prefix)
	for _, p := range s.parts {
		switch {
		case p.param == "":
			b.WriteString(p.lit)
		case p.query:
			b.WriteString(url.QueryEscape(value(p.param)))
		default:
			b.WriteString(escapePathValue(value(p.param)))
		}
	}
	return b.String()
}

// escapePathValue escapes a value for a path segment. PathEscape keeps dots,
// so a value of "." or ".." is escaped further lest it climb the path.
func escapePathValue(v string) string {
	e := url.PathEscape(v)
	if e == "." || e == ".." {
		return strings.ReplaceAll(e, ".", "%2E")
	}
	return e
}
