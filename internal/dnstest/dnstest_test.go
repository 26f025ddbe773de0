package dnstest_test

import (
	"testing"

	"github.com/inlayhq/inlay/internal/dnstest"
	"github.com/miekg/dns"
)

func TestServerAnswersOverUDPAndTCP(t *testing.T) {
	s := dnstest.Start(t)
	s.Set("Basket.Shop.Test", "127.0.0.2", "127.0.0.3", "fd00::2")
	cases := []struct {
		name      string
		qtype     uint16
		rcode     int
		wantCount int
	}{
		{"basket.shop.test.", dns.TypeA, dns.RcodeSuccess, 2},
		{"BASKET.shop.test.", dns.TypeAAAA, dns.RcodeSuccess, 1},
		{"basket.shop.test.", dns.TypeMX, dns.RcodeSuccess, 0},
		{"search.shop.test.", dns.TypeA, dns.RcodeNameError, 0},
	}
	queries := 0
	for _, network := range []string{"udp", "tcp"} {
		c := &dns.Client{Net: network}
		for _, tc := range cases {
			m := new(dns.Msg).SetQuestion(tc.name, tc.qtype)
			r, _, err := c.ExchangeContext(t.Context(), m, s.Addr().String())
			if err != nil {
				t.Fatalf("%s %s: %v", network, tc.name, err)
			}
			queries++
			if r.Rcode != tc.rcode || len(r.Answer) != tc.wantCount {
				t.Errorf("%s %s %s: rcode %s, %d answers; want %s, %d", network, tc.name, dns.TypeToString[tc.qtype],
					dns.RcodeToString[r.Rcode], len(r.Answer), dns.RcodeToString[tc.rcode], tc.wantCount)
			}
			for _, rr := range r.Answer {
				if rr.Header().Ttl != dnstest.TTL {
					t.Errorf("TTL %d, want %d", rr.Header().Ttl, dnstest.TTL)
				}
			}
		}
	}
	if got := s.Lookups(); got != queries {
		t.Errorf("Lookups() = %d, want %d", got, queries)
	}
	s.Set("basket.shop.test")
	r, _, err := new(dns.Client).ExchangeContext(t.Context(), new(dns.Msg).SetQuestion("basket.shop.test.", dns.TypeA), s.Addr().String())
	if err != nil || r.Rcode != dns.RcodeNameError {
		t.Errorf("after Set with no address: %v, %v; want NXDOMAIN", r, err)
	}
}
