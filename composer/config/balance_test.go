package config

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestBalancingKeysDefaults(t *testing.T) {
	c, err := Parse("c.yaml", []byte("services:\n  basket:\n    url: http://basket.shop.svc:8080/team/\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Services["basket"]
	if s.ResolveInterval() != 5*time.Second || s.FadeInPeriod() != 30*time.Second || s.ConnectionLifetime() != 5*time.Minute {
		t.Errorf("durations %v %v %v, want 5s 30s 5m", s.ResolveInterval(), s.FadeInPeriod(), s.ConnectionLifetime())
	}
	if s.RetryShare() != 0.1 || s.Hedge.On || s.Canary != nil {
		t.Errorf("retry budget %v, hedge %t, canary %v; want 0.1, off, none", s.RetryShare(), s.Hedge.On, s.Canary)
	}
	if got := s.Instances(); len(got) != 1 || got[0].String() != "http://basket.shop.svc:8080/team" {
		t.Errorf("instances %v, want the url alone", got)
	}
	if s.EndpointURLs != nil || c.ResolverAddr.IsValid() {
		t.Errorf("endpoints %v, resolver %v; want none and the system's", s.EndpointURLs, c.ResolverAddr)
	}
}

func TestBalancingKeysGoodValues(t *testing.T) {
	const base = "services:\n  basket:\n"
	cases := []struct {
		name, yaml string
		check      func(*Config) string
	}{
		{"resolver", "resolver: 127.0.0.1:5353\n" + base + "    url: http://basket\n", func(c *Config) string {
			return want(c.ResolverAddr, netip.MustParseAddrPort("127.0.0.1:5353"))
		}},
		{"resolver over IPv6", "resolver: '[::1]:53'\n" + base + "    url: http://basket\n", func(c *Config) string {
			return want(c.ResolverAddr, netip.MustParseAddrPort("[::1]:53"))
		}},
		{"endpoints", base + "    endpoints: [http://10.0.0.5:8080/team/, 'http://10.0.0.6:8080/team']\n", func(c *Config) string {
			s := c.Services["basket"]
			var got []string
			for _, u := range s.Instances() {
				got = append(got, u.String())
			}
			return want(strings.Join(got, " ")+" base "+s.BaseURL.String(), "http://10.0.0.5:8080/team http://10.0.0.6:8080/team base http://10.0.0.5:8080/team")
		}},
		{"endpoints of names", base + "    endpoints: [https://a.basket, https://b.basket:443]\n", func(c *Config) string {
			return want(len(c.Services["basket"].EndpointURLs), 2)
		}},
		{"durations", base + "    url: http://basket\n    resolve_every: 100ms\n    fade_in: 1ms\n    max_connection_age: 2s\n", func(c *Config) string {
			s := c.Services["basket"]
			return want([3]time.Duration{s.ResolveInterval(), s.FadeInPeriod(), s.ConnectionLifetime()}, [3]time.Duration{100 * time.Millisecond, time.Millisecond, 2 * time.Second})
		}},
		{"long connection age", base + "    url: http://basket\n    max_connection_age: 24h\n", func(c *Config) string {
			return want(c.Services["basket"].ConnectionLifetime(), 24*time.Hour)
		}},
		{"retry budget", base + "    url: http://basket\n    retry_budget: 2.5%\n", func(c *Config) string {
			return want(c.Services["basket"].RetryShare(), 0.025)
		}},
		{"no retry budget", base + "    url: http://basket\n    retry_budget: 0%\n", func(c *Config) string {
			return want(c.Services["basket"].RetryShare(), 0.0)
		}},
		{"all of it", base + "    url: http://basket\n    retry_budget: 100%\n", func(c *Config) string {
			return want(c.Services["basket"].RetryShare(), 1.0)
		}},
		{"hedge on", base + "    url: http://basket\n    hedge: on\n", func(c *Config) string {
			return want(c.Services["basket"].Hedge.On, true)
		}},
		{"hedge off", base + "    url: http://basket\n    hedge: off\n", func(c *Config) string {
			return want(c.Services["basket"].Hedge.On, false)
		}},
		{"hedge true", base + "    url: http://basket\n    hedge: true\n", func(c *Config) string {
			return want(c.Services["basket"].Hedge.On, true)
		}},
		{"canary", base + "    url: http://basket:8080\n    canary:\n      url: http://basket-canary:8080/\n      weight: 5\n", func(c *Config) string {
			cn := c.Services["basket"].Canary
			return want(fmt.Sprint(cn.BaseURL, " ", cn.Weight), "http://basket-canary:8080 5")
		}},
		{"canary without weight", base + "    url: http://basket:8080\n    canary:\n      url: http://basket-canary:8080\n", func(c *Config) string {
			return want(c.Services["basket"].Canary.Weight, 0)
		}},
		{"canary on the same host, another port", base + "    url: http://basket:8080\n    canary: {url: 'http://basket:8081', weight: 100}\n", func(c *Config) string {
			return want(c.Services["basket"].Canary.Weight, 100)
		}},
		{"h2c endpoints and canary", base + "    endpoints: [http://10.0.0.5:8080]\n    h2c: true\n    canary: {url: 'http://10.0.0.9:8080', weight: 1}\n", func(c *Config) string {
			return want(c.Services["basket"].H2C, true)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("c.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if msg := tc.check(c); msg != "" {
				t.Error(msg)
			}
		})
	}
}

// want returns "" when got equals w, else what differs.
func want[T comparable](got, w T) string {
	if got == w {
		return ""
	}
	return fmt.Sprintf("got %v, want %v", got, w)
}

func TestBalancingKeysBadValues(t *testing.T) {
	const base = "services:\n  basket:\n"
	cases := []struct{ name, yaml, want string }{
		{"resolver name", "resolver: dns.local:53\n" + base + "    url: http://basket\n", `c.yaml:1:11: resolver "dns.local:53": write the IP:PORT of a DNS server`},
		{"resolver without port", "resolver: 127.0.0.1\n" + base + "    url: http://basket\n", `c.yaml:1:11: resolver "127.0.0.1": write the IP:PORT`},
		{"resolver port 0", "resolver: 127.0.0.1:0\n" + base + "    url: http://basket\n", `c.yaml:1:11: resolver "127.0.0.1:0"`},
		{"url and endpoints", base + "    url: http://basket\n    endpoints: [http://10.0.0.5]\n", `c.yaml:4:16: service "basket": url and endpoints are both set`},
		{"neither", base + "    timeout: 1s\n", `c.yaml:3:12: service "basket" has no url (or endpoints)`},
		{"empty endpoints", base + "    endpoints: []\n", `c.yaml:3:16: service "basket": endpoints is empty`},
		{"endpoint scheme", base + "    endpoints:\n      - http://10.0.0.5\n      - ftp://10.0.0.6\n", `c.yaml:5:9: service "basket": endpoints[1] must be http or https, got "ftp://10.0.0.6"`},
		{"mixed schemes", base + "    endpoints:\n      - http://10.0.0.5\n      - https://10.0.0.6\n", `c.yaml:5:9: service "basket": endpoints[1] is https://10.0.0.6, but endpoints[0] is http://10.0.0.5: the instances of one service share scheme and path`},
		{"mixed paths", base + "    endpoints:\n      - http://10.0.0.5/a\n      - http://10.0.0.6/b\n", `c.yaml:5:9: service "basket": endpoints[1] is http://10.0.0.6/b, but endpoints[0] is http://10.0.0.5/a`},
		{"url without a host", base + "    url: http://:8080\n", `c.yaml:3:10: service "basket": url must be scheme://host[:port][/path], got "http://:8080"`},
		{"url port 0", base + "    url: http://basket:0\n", `c.yaml:3:10: service "basket": url has port 0, not one from 1 to 65535`},
		{"endpoint port out of range", base + "    endpoints:\n      - http://10.0.0.5:65536\n", `c.yaml:4:9: service "basket": endpoints[0] has port 65536, not one from 1 to 65535`},
		{"endpoint with a query", base + "    endpoints:\n      - http://10.0.0.5/?x=1\n", `c.yaml:4:9: service "basket": endpoints[0] must be scheme://host[:port][/path]`},
		{"endpoint twice", base + "    endpoints:\n      - http://10.0.0.5\n      - http://10.0.0.5:80/\n", `c.yaml:5:9: service "basket": endpoints[1] "http://10.0.0.5:80/" is endpoints[0] again`},
		{"h2c over https endpoints", base + "    endpoints: [https://10.0.0.5]\n    h2c: true\n", `c.yaml:4:10: service "basket": h2c is HTTP/2 without TLS`},
		{"bad resolve_every", base + "    url: http://basket\n    resolve_every: often\n", `c.yaml:4:20: service "basket": resolve_every: bad duration`},
		{"resolve_every too short", base + "    url: http://basket\n    resolve_every: 10ms\n", `c.yaml:4:20: service "basket": resolve_every: must be at least 100ms`},
		{"resolve_every too long", base + "    url: http://basket\n    resolve_every: 1h\n", `c.yaml:4:20: service "basket": resolve_every: must be at most 10m`},
		{"negative fade_in", base + "    url: http://basket\n    fade_in: -1s\n", `c.yaml:4:14: service "basket": fade_in: must be positive`},
		{"bad max_connection_age", base + "    url: http://basket\n    max_connection_age: 5 minutes\n", `c.yaml:4:25: service "basket": max_connection_age: bad duration`},
		{"max_connection_age too long", base + "    url: http://basket\n    max_connection_age: 48h\n", `c.yaml:4:25: service "basket": max_connection_age: must be from 100ms to 24h`},
		{"retry_budget without %", base + "    url: http://basket\n    retry_budget: 10\n", `c.yaml:4:19: service "basket": retry_budget: write a percentage from 0% to 100%, like 10%`},
		{"retry_budget as a ratio", base + "    url: http://basket\n    retry_budget: 0.1\n", `c.yaml:4:19: service "basket": retry_budget: write a percentage`},
		{"retry_budget over 100%", base + "    url: http://basket\n    retry_budget: 150%\n", `c.yaml:4:19: service "basket": retry_budget: write a percentage`},
		{"negative retry_budget", base + "    url: http://basket\n    retry_budget: -5%\n", `c.yaml:4:19: service "basket": retry_budget: write a percentage`},
		{"retry_budget list", base + "    url: http://basket\n    retry_budget: [10%]\n", `c.yaml:4:19: service "basket": retry_budget: write a percentage`},
		{"hedge maybe", base + "    url: http://basket\n    hedge: sometimes\n", `c.yaml:4:12: service "basket": hedge: write on or off`},
		{"canary without url", base + "    url: http://basket\n    canary:\n      weight: 5\n", `c.yaml:5:13: service "basket": canary has no url`},
		{"canary weight over 100", base + "    url: http://basket\n    canary:\n      url: http://canary\n      weight: 150\n", `c.yaml:6:15: service "basket": canary weight is the percent of shoppers, from 0 to 100, got 150`},
		{"negative canary weight", base + "    url: http://basket\n    canary:\n      url: http://canary\n      weight: -1\n", `c.yaml:6:15: service "basket": canary weight is the percent of shoppers, from 0 to 100, got -1`},
		{"canary weight as a percentage", base + "    url: http://basket\n    canary:\n      url: http://canary\n      weight: 5%\n", `c.yaml:6:15:`},
		{"canary url scheme", base + "    url: http://basket\n    canary:\n      url: ftp://canary\n", `c.yaml:5:12: service "basket": canary url must be http or https`},
		{"canary is the service", base + "    url: http://basket/team\n    canary:\n      url: http://BASKET:80/team/\n", `c.yaml:5:12: service "basket": canary url "http://BASKET:80/team/" is the service's own`},
		{"canary is an endpoint", base + "    endpoints: [http://10.0.0.5, http://10.0.0.6]\n    canary:\n      url: http://10.0.0.6\n", `c.yaml:5:12: service "basket": canary url "http://10.0.0.6" is the service's own`},
		{"h2c canary over https", base + "    url: http://basket\n    h2c: true\n    canary:\n      url: https://canary\n", `c.yaml:6:12: service "basket": h2c is HTTP/2 without TLS, so the canary url must be http:// too`},
		{"h2c disagreement at an endpoint", "services:\n  a:\n    endpoints: [http://10.0.0.5, http://10.0.0.6]\n    h2c: true\n  b:\n    url: http://10.0.0.6\n", `c.yaml:6:10: service "b": h2c is false, but service "a" at the same address 10.0.0.6:80 has true`},
		{"h2c disagreement at a canary", "services:\n  a:\n    url: http://10.0.0.5\n  b:\n    url: http://10.0.0.6\n    h2c: true\n    canary: {url: 'http://10.0.0.5'}\n", `c.yaml:7:19: service "b": h2c is true, but service "a" at the same address 10.0.0.5:80 has false`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tc.yaml))
			ps, ok := err.(Problems)
			if !ok {
				t.Fatalf("got error %v (%T), want Problems", err, err)
			}
			if len(ps) != 1 || !strings.HasPrefix(ps[0].Error(), tc.want) {
				t.Errorf("got %q, want one problem starting %q", ps.Error(), tc.want)
			}
		})
	}
}

func TestSetServiceURLReplacesEndpoints(t *testing.T) {
	c, err := Parse("c.yaml", []byte("services:\n  basket:\n    endpoints: [http://10.0.0.5, http://10.0.0.6]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetServiceURL("basket", "http://127.0.0.1:3000"); err != nil {
		t.Fatal(err)
	}
	if got := c.Services["basket"].Instances(); len(got) != 1 || got[0].Host != "127.0.0.1:3000" {
		t.Errorf("instances after SetServiceURL %v, want the new url alone", got)
	}
}
