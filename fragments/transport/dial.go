package transport

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
)

// DialPolicy refuses connections to loopback, link-local, unspecified and
// cloud metadata addresses, checked on the address actually dialled, after
// name resolution: a service name that later resolves to one of them (DNS
// rebinding) cannot be used to reach them. The exception is an address a
// configured service URL names itself, as the demo's and the tests'
// loopback services do.
type DialPolicy struct {
	allowed map[netip.AddrPort]bool
}

// NewDialPolicy returns a policy that allows the listed host:port
// addresses even where they fall in a refused range. localhost names are
// taken as the loopback addresses; other names are not resolved, since
// they cannot name a refused address on purpose.
func NewDialPolicy(allow []string) *DialPolicy {
	p := &DialPolicy{allowed: map[netip.AddrPort]bool{}}
	for _, hostport := range allow {
		host, port, err := net.SplitHostPort(hostport)
		if err != nil {
			continue
		}
		ips := []string{host}
		if host == "localhost" || strings.HasSuffix(host, ".localhost") {
			ips = []string{"127.0.0.1", "::1"}
		}
		for _, ip := range ips {
			if ap, err := netip.ParseAddrPort(net.JoinHostPort(ip, port)); err == nil {
				p.allowed[netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())] = true
			}
		}
	}
	return p
}

// metadataAddrs are cloud instance metadata endpoints outside the
// link-local range.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("fd00:ec2::254"),   // AWS, IPv6
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
}

// Check reports why address (ip:port) may not be dialled, or nil.
func (p *DialPolicy) Check(address string) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial policy: unparsable address %q", address)
	}
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if p.allowed[ap] {
		return nil
	}
	ip := ap.Addr()
	switch {
	case ip.IsLoopback():
		return fmt.Errorf("dial policy: %s is a loopback address", ip)
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return fmt.Errorf("dial policy: %s is a link-local address (cloud metadata lives there)", ip)
	case ip.IsUnspecified(), ip.IsMulticast():
		return fmt.Errorf("dial policy: %s is not a unicast address", ip)
	}
	for _, m := range metadataAddrs {
		if ip == m {
			return fmt.Errorf("dial policy: %s is a cloud metadata address", ip)
		}
	}
	return nil
}

// NewTransport returns a transport like the package's [NewTransport] whose
// dialer applies the policy to every connection.
func (p *DialPolicy) NewTransport() *http.Transport {
	return newTransport(p)
}

// NewH2CTransport returns a transport like the package's
// [NewH2CTransport] whose dialer applies the policy to every connection.
func (p *DialPolicy) NewH2CTransport() *http.Transport {
	return newH2CTransport(p)
}

// Control is a net.Dialer Control function applying the policy.
func (p *DialPolicy) Control(_, address string, _ syscall.RawConn) error {
	return p.Check(address)
}
