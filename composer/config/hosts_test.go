package config

import (
	"strings"
	"testing"
)

const oneService = "services:\n  a:\n    url: http://x\n"

// S5: hosts takes host names, with a port if pinned; anything else is a
// problem at the entry.
func TestHostsEntries(t *testing.T) {
	cases := []struct {
		entry, problem string
	}{
		{"shop.example", ""},
		{"Shop.Example.", ""},
		{"shop.example:8443", ""},
		{"127.0.0.1", ""},
		{"[::1]", ""},
		{"[::1]:8080", ""},
		{"::1", ""},
		{"https://shop.example", "not a URL"},
		{"shop.example/shop", "not a URL"},
		{"*.shop.example", "wildcard"},
		{"shop example", "not a host name"},
		{"shop.example:https", "port that is not a number"},
		{":8080", "no host name"},
		{"", "is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.entry, func(t *testing.T) {
			c, err := Parse("c.yaml", []byte(oneService+"hosts:\n  - \""+tc.entry+"\"\n"))
			if tc.problem == "" {
				if err != nil {
					t.Fatalf("hosts: [%q]: %v", tc.entry, err)
				}
				if !c.AllowedHosts().Allows(tc.entry) {
					t.Errorf("hosts: [%q] does not allow %q itself", tc.entry, tc.entry)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), "c.yaml:5:5: hosts: ") || !strings.Contains(err.Error(), tc.problem) {
				t.Errorf("hosts: [%q]: got %v, want a problem at c.yaml:5:5 saying %q", tc.entry, err, tc.problem)
			}
		})
	}
}

// S5: the allowlist, from hosts or public_url, and dev mode's loopback
// names.
func TestAllowedHosts(t *testing.T) {
	cases := []struct {
		name, yaml string
		allowed    []string
		refused    []string
	}{
		{"neither: any host", "", []string{"evil.example", "", "10.0.0.1:80"}, nil},
		{"hosts", "hosts: [shop.example, \"www.shop.example:8443\"]\n",
			[]string{"shop.example", "SHOP.example:80", "shop.example.", "www.shop.example:8443"},
			[]string{"evil.example", "", "www.shop.example", "www.shop.example:8080", "shop.example.evil.example", "evil.shop.example", "localhost", "shop.example:80:80", "[shop.example]x"}},
		{"public_url's name on any port", "public_url: https://Shop.Example:8443/\n",
			[]string{"shop.example", "shop.example:8443", "shop.example:80"},
			[]string{"evil.example", "localhost:8080", "127.0.0.1"}},
		{"hosts over public_url", "public_url: https://shop.example\nhosts: [www.shop.example]\n",
			[]string{"www.shop.example"}, []string{"shop.example"}},
		{"dev mode adds loopback", "dev: true\nhosts: [shop.example]\n",
			[]string{"shop.example", "localhost:8080", "127.0.0.1:8080", "[::1]:8080", "LOCALHOST"},
			[]string{"evil.example", "127.0.0.2"}},
		{"dev mode without either: any host", "dev: true\n", []string{"evil.example"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("c.yaml", []byte(oneService+tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			a := c.AllowedHosts()
			for _, h := range tc.allowed {
				if !a.Allows(h) {
					t.Errorf("%q refused, want it allowed", h)
				}
			}
			for _, h := range tc.refused {
				if a.Allows(h) {
					t.Errorf("%q allowed, want it refused", h)
				}
			}
		})
	}
}

// The allowlist is asked on every request: a host in lower case, with or
// without a port, costs no allocation.
func TestAllowsAllocatesNothing(t *testing.T) {
	c, err := Parse("c.yaml", []byte(oneService+"hosts: [shop.example, \"[::1]:8080\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := c.AllowedHosts()
	for _, host := range []string{"shop.example", "shop.example:8080", "[::1]:8080", "evil.example"} {
		if n := testing.AllocsPerRun(100, func() { a.Allows(host) }); n != 0 {
			t.Errorf("Allows(%q): %v allocations, want 0", host, n)
		}
	}
}

// S5: a config with neither public_url nor hosts gets a warning; either
// one silences it.
func TestWarningWithoutPublicURLOrHosts(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		warn bool
	}{
		{"", true},
		{"public_url: https://shop.example\n", false},
		{"hosts: [shop.example]\n", false},
	} {
		c, err := Parse("c.yaml", []byte(oneService+tc.yaml))
		if err != nil {
			t.Fatal(err)
		}
		ws := c.Warnings()
		if got := len(ws) == 1 && strings.HasPrefix(ws[0].Error(), "c.yaml:1:1: neither public_url nor hosts is set"); got != tc.warn || len(ws) > 1 {
			t.Errorf("%q: got warnings %v, want the public_url warning: %t", tc.yaml, ws, tc.warn)
		}
	}
}

// S7: a debug token anyone could guess is refused at $.debug_token, with
// the way to make a good one.
func TestWeakDebugTokenIsRefused(t *testing.T) {
	weak := []string{"1", "true", "yes", "on", "debug", "secret", "changeme", "s3cret-token", "123456789012345",
		"1111111111111111", "changemechangeme", "debugdebugdebugdebug", "secretsecretsecret", "                    "}
	for _, token := range weak {
		t.Run(token, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(oneService+"debug_token: \""+token+"\"\n"))
			if err == nil {
				t.Fatalf("debug_token %q accepted, want it refused", token)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "c.yaml:4:14: debug_token ") || !strings.Contains(msg, "too easy to guess") || !strings.Contains(msg, "openssl rand -hex 16") {
				t.Errorf("debug_token %q: got %q, want a problem at c.yaml:4:14 that says how to make one", token, msg)
			}
			if len(token) > 3 && strings.Contains(strings.ReplaceAll(msg, "debug_token", ""), token) {
				t.Errorf("the problem quotes the token: %q", msg)
			}
		})
	}
	for _, token := range []string{"", "9c1f5e2b7a3d8e60f4b1c2d3e4f5a6b7", "Quartz-Pigeon-7-Lantern"} {
		if _, err := Parse("c.yaml", []byte(oneService+"debug_token: \""+token+"\"\n")); err != nil {
			t.Errorf("debug_token %q: %v, want it accepted", token, err)
		}
	}
}

// BenchmarkAllows is what the allowlist adds to every request.
func BenchmarkAllows(b *testing.B) {
	c, err := Parse("c.yaml", []byte(oneService+"hosts: [www.shop.example, shop.example]\n"))
	if err != nil {
		b.Fatal(err)
	}
	a := c.AllowedHosts()
	b.ReportAllocs()
	for b.Loop() {
		if !a.Allows("shop.example") {
			b.Fatal("refused")
		}
	}
}
