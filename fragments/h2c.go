package fragments

import (
	"net"
	"net/http"
	"strings"
	"time"
)

// NewH2CTransport returns a transport like [NewTransport] that speaks
// HTTP/2 without TLS, with prior knowledge (h2c), to every http:// URL: all
// fetches to one service share one connection, or a few once a connection
// carries as many streams as the service allows. The service must accept
// h2c; one that speaks only HTTP/1.1 fails every request. It dials any
// address: see [DialPolicy.NewH2CTransport] for one that refuses internal
// addresses.
func NewH2CTransport() *http.Transport {
	return newH2CTransport(nil)
}

func newH2CTransport(policy *DialPolicy) *http.Transport {
	t := newTransport(policy)
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true) // and not HTTP1: prior knowledge, no Upgrade
	t.Protocols = p
	t.HTTP2 = &http.HTTP2Config{
		// With every fetch of a service on one connection, a connection that
		// stopped answering must not linger: ping it when it has been silent,
		// and close it when the ping goes unanswered.
		SendPingTimeout: 10 * time.Second,
		PingTimeout:     5 * time.Second,
	}
	return t
}

// H2CRouter is a RoundTripper that carries requests for the h2c hosts
// through one transport and every other request through another: the
// fetch stack's way of speaking h2c to some services and HTTP/1.1 to the
// rest. A request goes to the h2c transport when its URL is http:// and
// its host[:port] is one of the hosts as given, lower-cased, or with the
// default port 80 added or left out; the composer builds fragment URLs
// from the service's base URL, so they match. The routing is one map
// lookup, with no allocation.
type H2CRouter struct {
	h1, h2c http.RoundTripper
	hosts   map[string]bool
}

// NewH2CRouter returns a router sending requests for hosts (host or
// host:port, as in a URL) through h2c and all others through h1.
func NewH2CRouter(h1, h2c http.RoundTripper, hosts []string) *H2CRouter {
	r := &H2CRouter{h1: h1, h2c: h2c, hosts: map[string]bool{}}
	for _, h := range hosts {
		for _, v := range hostVariants(h) {
			r.hosts[v] = true
		}
	}
	return r
}

// hostVariants returns the spellings of host in a URL that name the same
// http address: as given, lower-cased, and with and without the default
// port 80.
func hostVariants(host string) []string {
	var out []string
	for _, h := range []string{host, strings.ToLower(host)} {
		out = append(out, h)
		if name, port, err := net.SplitHostPort(h); err == nil {
			if port == "80" {
				if strings.Contains(name, ":") {
					name = "[" + name + "]"
				}
				out = append(out, name)
			}
		} else {
			out = append(out, h+":80")
		}
	}
	return out
}

// RoundTrip sends r through the transport its host calls for.
func (t *H2CRouter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme == "http" && t.hosts[r.URL.Host] {
		return t.h2c.RoundTrip(r)
	}
	return t.h1.RoundTrip(r)
}

// CloseIdleConnections closes the idle connections of both transports.
func (t *H2CRouter) CloseIdleConnections() {
	for _, rt := range []http.RoundTripper{t.h1, t.h2c} {
		if c, ok := rt.(interface{ CloseIdleConnections() }); ok {
			c.CloseIdleConnections()
		}
	}
}
