package config

import (
	"net"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// devHosts are the names dev mode always answers for, besides the
// allowlist: a developer's browser on the laptop.
var devHosts = []string{"localhost", "127.0.0.1", "::1"}

// HostAllowlist is the set of host names the shop answers for (the
// config's hosts, or the name of its public_url). Names compare without
// regard to case and to a final dot. An entry without a port matches the
// name on any port; an entry with one matches only a Host that names that
// port (browsers leave out the default port, so write shop.example, not
// shop.example:443, for a shop on the default ports).
type HostAllowlist struct {
	entries []hostEntry
}

// hostEntry is one allowed name, and the port it is pinned to ("" for any).
type hostEntry struct{ name, port string }

// AllowedHosts returns the hosts a request may name: the hosts list, or
// else the name of public_url; in dev mode, localhost, 127.0.0.1 and ::1
// too. It returns nil when neither hosts nor public_url is set: then any
// host is answered.
func (c *Config) AllowedHosts() *HostAllowlist {
	var entries []hostEntry
	for _, h := range c.Hosts {
		name, port := splitHost(h)
		entries = append(entries, hostEntry{name, port})
	}
	if len(entries) == 0 && c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err == nil && u.Hostname() != "" {
			entries = append(entries, hostEntry{name: normalName(u.Hostname())})
		}
	}
	if len(entries) == 0 {
		return nil
	}
	if c.Dev {
		for _, h := range devHosts {
			entries = append(entries, hostEntry{name: h})
		}
	}
	return &HostAllowlist{entries: entries}
}

// Allows reports whether a request's host (a Host header value, or the
// authority of an absolute-form request target) is on the list. A nil
// list allows every host.
func (a *HostAllowlist) Allows(host string) bool {
	if a == nil {
		return true
	}
	name, port := splitHost(host)
	for _, e := range a.entries {
		if e.name == name && (e.port == "" || e.port == port) {
			return true
		}
	}
	return false
}

// splitHost splits host[:port] into its lower-case name, without brackets
// around an IPv6 address or a final dot, and its port. A bare IPv6
// address (two colons or more, no brackets) has no port. Unlike
// net.SplitHostPort, it allocates nothing for a host without a port: it
// runs on every request.
func splitHost(host string) (name, port string) {
	if rest, ok := strings.CutPrefix(host, "["); ok {
		name, rest, _ = strings.Cut(rest, "]")
		if rest != "" && rest[0] != ':' {
			return host, "" // not [address]:port: matches no entry
		}
		return normalName(name), strings.TrimPrefix(rest, ":")
	}
	if i := strings.IndexByte(host, ':'); i >= 0 && strings.LastIndexByte(host, ':') == i {
		return normalName(host[:i]), host[i+1:]
	}
	return normalName(host), ""
}

// normalName lower-cases a host name and drops a final dot. It allocates
// only when there is something to change.
func normalName(name string) string {
	name = strings.TrimSuffix(name, ".")
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(name)
		}
	}
	return name
}

// checkHost returns what is wrong with an entry of hosts, or "".
func checkHost(h string) string {
	switch {
	case h == "":
		return "is empty"
	case strings.Contains(h, "://") || strings.ContainsAny(h, "/?#@"):
		return "write a host name, with a port if you like, not a URL: like shop.example or shop.example:8443"
	case strings.Contains(h, "*"):
		return "has a wildcard: list every host name the shop answers for"
	case !httpguts.ValidHostHeader(h):
		return "is not a host name"
	}
	name, port := splitHost(h)
	if name == "" {
		return "has no host name"
	}
	if strings.Contains(name, ":") && net.ParseIP(name) == nil {
		return "is not a host name (write an IPv6 address with a port in brackets: [::1]:8080)"
	}
	if port != "" {
		for i := 0; i < len(port); i++ {
			if port[i] < '0' || port[i] > '9' {
				return "has a port that is not a number"
			}
		}
	}
	return ""
}

// Warnings returns what the config allows but should not leave as it is:
// `inlay lint` reports them as warnings, and `inlay serve` logs them
// outside dev mode.
func (c *Config) Warnings() Problems {
	var ps Problems
	if c.PublicURL == "" && len(c.Hosts) == 0 {
		ps = append(ps, c.ProblemAt("$", "neither public_url nor hosts is set: Inlay answers any Host, and sends it to fragments in X-Inlay-Base-URL "+
			"(each Host then caches its own copy of every fragment sent it); set public_url to the shop's address, like https://shop.example"))
	}
	return ps
}
