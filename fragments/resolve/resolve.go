// Package resolve looks up the addresses of a team service's host name and
// follows them: a [Watch] re-resolves the name on a ticker and reports the
// service's instances, as sorted "ip:port" addresses, whenever they change.
//
// Lookups go through Go's own resolver. By default it reads the system's
// usual sources (/etc/hosts, /etc/resolv.conf); [New] with a server address
// (the config's top-level `resolver:`) sends every DNS query to that one
// server instead. The package depends on the standard library only.
package resolve

import (
	"context"
	"net"
	"net/netip"
	"net/url"
)

// Lookuper looks up a host's addresses. *net.Resolver is one.
type Lookuper interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// New returns the resolver that Inlay looks names up with.
//
// With a zero server it is Go's resolver with the system's usual sources,
// as every Go program has it. With a server, it is Go's own DNS client
// (never the C library's) sending every query to that server, over UDP,
// and over TCP for an answer too long for UDP: the search list, ndots and
// timeouts of /etc/resolv.conf still apply, and /etc/hosts still answers
// first, but no other DNS server is ever asked. A lookup whose context
// ends stops waiting for the server's answer there and then.
func New(server netip.AddrPort) *net.Resolver {
	if !server.IsValid() {
		return &net.Resolver{}
	}
	addr := server.String()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// Go's DNS client reads until its own deadline (the
			// resolv.conf timeout, 5s by default) even when the lookup
			// was cancelled: closing the connection ends the read.
			context.AfterFunc(ctx, func() { c.Close() })
			return c, nil
		},
	}
}

// HostPort returns the host and port a service URL dials: its port, or
// the scheme's (80 for http, 443 for https) when it names none.
func HostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}
