// Package dnstest serves DNS on loopback for tests: a name's A and AAAA
// answers are whatever the test last set, and can change at any time, so
// that a test can grow or shrink a service's instances the way a
// Kubernetes headless Service does.
package dnstest

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TTL is the time to live of every answer, in seconds: small, as the
// names' answers change under the test.
const TTL = 1

// Server is a DNS server on a free loopback port, UDP and TCP.
type Server struct {
	t    testing.TB
	addr netip.AddrPort
	udp  *dns.Server
	tcp  *dns.Server

	mu      sync.Mutex
	names   map[string][]netip.Addr // by lower-case fully qualified name
	silent  bool
	lookups int
	changed chan struct{} // closed and replaced on every query
}

// Start serves DNS on 127.0.0.1 at a port free for both UDP and TCP,
// until the test ends. Every name is unknown (NXDOMAIN) until [Server.Set].
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, names: map[string][]netip.Addr{}, changed: make(chan struct{})}
	pc, ln, err := listen()
	if err != nil {
		t.Fatalf("dnstest: %v", err)
	}
	s.addr = pc.LocalAddr().(*net.UDPAddr).AddrPort()
	handler := dns.HandlerFunc(s.serve)
	s.udp = &dns.Server{PacketConn: pc, Handler: handler}
	s.tcp = &dns.Server{Listener: ln, Handler: handler}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		served := make(chan error, 1)
		go func() { served <- srv.ActivateAndServe() }()
		select {
		case <-started:
		case err := <-served:
			t.Fatalf("dnstest: serving: %v", err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.ShutdownContext(ctx); err != nil {
				t.Errorf("dnstest: shutting down: %v", err)
			}
			<-served
		})
	}
	return s
}

// listen opens UDP and TCP on one free loopback port, trying a few ports
// in case another test takes the TCP side of the UDP port first.
func listen() (net.PacketConn, net.Listener, error) {
	var err error
	for range 20 {
		var pc net.PacketConn
		pc, err = net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		var ln net.Listener
		ln, err = net.Listen("tcp4", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
	}
	return nil, nil, errors.New("no loopback port free for both UDP and TCP: " + err.Error())
}

// Addr returns the server's address, like 127.0.0.1:40123: what the
// config's resolver key takes.
func (s *Server) Addr() netip.AddrPort { return s.addr }

// Set makes name answer ips: the IPv4 ones as A records, the IPv6 ones as
// AAAA; a query of the type it has none of gets an empty answer. With no
// ips, name is unknown again (NXDOMAIN). A name is matched without regard
// to case or a final dot.
func (s *Server) Set(name string, ips ...string) {
	s.t.Helper()
	addrs := make([]netip.Addr, 0, len(ips))
	for _, ip := range ips {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			s.t.Fatalf("dnstest: Set(%q): %v", name, err)
		}
		addrs = append(addrs, a.Unmap())
	}
	key := dns.CanonicalName(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(addrs) == 0 {
		delete(s.names, key)
		return
	}
	s.names[key] = addrs
}

// Silence makes the server stop answering (on is true), as a DNS server
// that is down or unreachable does: queries are still counted, but get no
// reply. Silence(false) makes it answer again.
func (s *Server) Silence(on bool) {
	s.mu.Lock()
	s.silent = on
	s.mu.Unlock()
}

// Lookups returns how many queries the server received, answered or not:
// an A and an AAAA query of one lookup count two.
func (s *Server) Lookups() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookups
}

// WaitLookups waits until the server has received at least n queries, or
// ctx ends; it returns ctx's error then.
func (s *Server) WaitLookups(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		got, changed := s.lookups, s.changed
		s.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *Server) serve(w dns.ResponseWriter, req *dns.Msg) {
	s.mu.Lock()
	s.lookups++
	close(s.changed)
	s.changed = make(chan struct{})
	silent := s.silent
	var addrs []netip.Addr
	known := false
	if len(req.Question) == 1 {
		addrs, known = s.names[dns.CanonicalName(req.Question[0].Name)]
	}
	s.mu.Unlock()
	if silent {
		return
	}
	resp := new(dns.Msg)
	switch {
	case len(req.Question) != 1:
		resp.SetRcode(req, dns.RcodeFormatError)
	case !known:
		resp.SetRcode(req, dns.RcodeNameError)
	default:
		resp.SetReply(req)
		q := req.Question[0]
		for _, a := range addrs {
			hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: TTL}
			switch {
			case a.Is4() && q.Qtype == dns.TypeA:
				hdr.Rrtype = dns.TypeA
				resp.Answer = append(resp.Answer, &dns.A{Hdr: hdr, A: a.AsSlice()})
			case a.Is6() && q.Qtype == dns.TypeAAAA:
				hdr.Rrtype = dns.TypeAAAA
				resp.Answer = append(resp.Answer, &dns.AAAA{Hdr: hdr, AAAA: a.AsSlice()})
			}
		}
	}
	resp.Authoritative = true
	if strings.HasPrefix(w.RemoteAddr().Network(), "udp") {
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = int(opt.UDPSize())
		}
		resp.Truncate(size)
	}
	if err := w.WriteMsg(resp); err != nil {
		s.t.Logf("dnstest: answering %v: %v", req.Question, err)
	}
}
