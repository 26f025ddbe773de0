package transport

// D2 of the fault matrix (docs/fault-matrix.md): the dial policy checks the
// address actually dialled, after name resolution, so that no name (DNS
// rebinding, a redirect, a misconfigured service) can reach loopback,
// link-local or cloud metadata addresses, except the exact ip:port a
// configured service names.

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/teams/teamtest"
)

func TestDialPolicyCheck(t *testing.T) {
	cases := []struct {
		addr    string
		refused bool
		why     string // a word the refusal names
	}{
		{"127.0.0.1:80", true, "loopback"},
		{"127.0.0.2:80", true, "loopback"},
		{"[::1]:80", true, "loopback"},
		{"[::ffff:127.0.0.1]:80", true, "loopback"}, // IPv4-mapped
		{"169.254.169.254:80", true, "link-local"},
		{"[::ffff:169.254.169.254]:80", true, "link-local"},
		{"[fe80::1]:80", true, "link-local"},
		{"[fd00:ec2::254]:80", true, "metadata"},
		{"100.100.100.200:80", true, "metadata"},
		{"0.0.0.0:80", true, "unicast"},
		{"[::]:80", true, "unicast"},
		{"224.0.0.1:80", true, "link-local"}, // link-local multicast
		{"239.1.2.3:80", true, "unicast"},
		{"[ff02::1]:80", true, "link-local"},
		{"localhost:80", true, "unparsable"}, // Control only ever sees resolved addresses
		{"10.0.0.1:80", false, ""},           // private ranges are where services live
		{"192.168.1.10:8080", false, ""},
		{"172.16.0.5:443", false, ""},
		{"[fd12:3456::1]:80", false, ""},
		{"93.184.216.34:443", false, ""},
		{"[2606:2800:220:1::248]:443", false, ""},
	}
	p := NewDialPolicy(nil)
	for _, tc := range cases {
		t.Run(tc.addr, func(t *testing.T) {
			err := p.Check(tc.addr)
			switch {
			case tc.refused && err == nil:
				t.Errorf("Check(%q): got nil, want a refusal", tc.addr)
			case tc.refused && !strings.Contains(err.Error(), tc.why):
				t.Errorf("Check(%q): got %q, want a refusal naming %q", tc.addr, err, tc.why)
			case !tc.refused && err != nil:
				t.Errorf("Check(%q): got %q, want nil", tc.addr, err)
			}
			if cerr := p.Control("tcp", tc.addr, nil); (cerr == nil) != (err == nil) {
				t.Errorf("Control(%q): got %v, want what Check says (%v)", tc.addr, cerr, err)
			}
		})
	}
}

// The exception is exact: the ip:port a configured service names, in any
// spelling of that address, and nothing next to it.
func TestDialPolicyAllowsExactlyTheConfiguredAddresses(t *testing.T) {
	p := NewDialPolicy([]string{"127.0.0.1:9101", "[::1]:9102", "169.254.169.254:80", "localhost:9103", "not an address"})
	cases := []struct {
		addr    string
		allowed bool
	}{
		{"127.0.0.1:9101", true},
		{"[::ffff:127.0.0.1]:9101", true},
		{"127.0.0.1:9102", false},
		{"127.0.0.2:9101", false},
		{"[::1]:9101", false},
		{"[::1]:9102", true},
		{"169.254.169.254:80", true}, // configured on purpose, so allowed
		{"169.254.169.254:81", false},
		{"127.0.0.1:9103", true}, // localhost, resolved when the policy was made
		{"127.0.0.1:9104", false},
	}
	for _, tc := range cases {
		if err := p.Check(tc.addr); (err == nil) != tc.allowed {
			t.Errorf("Check(%q): got %v, want allowed=%v", tc.addr, err, tc.allowed)
		}
	}
}

// countingServer is a fragment service on 127.0.0.1 that counts requests.
func countingServer(t *testing.T) (*atomic.Int64, string) {
	t.Helper()
	var hits atomic.Int64
	srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<p>internal</p>"))
	})
	return &hits, srv.Listener.Addr().String()
}

// D2: the policy's transport refuses to connect to a loopback service it
// was not told about, by IP or by a name that resolves there (as a
// rebinding name would), with a connect failure and no request made; the
// exact configured address works.
func TestDialPolicyTransportRefusesLoopbackUnlessConfigured(t *testing.T) {
	hits, addr := countingServer(t)
	_, port, _ := net.SplitHostPort(addr)
	cases := []struct {
		name    string
		allow   []string
		url     string
		allowed bool
	}{
		{"nothing allowed, by IP", nil, "http://" + addr + "/f", false},
		{"nothing allowed, by a name resolving to loopback", nil, "http://localhost:" + port + "/f", false},
		{"another port allowed", []string{"127.0.0.1:1"}, "http://" + addr + "/f", false},
		{"another loopback IP allowed", []string{"127.0.0.2:" + port}, "http://" + addr + "/f", false},
		{"exact address allowed", []string{addr}, "http://" + addr + "/f", true},
		{"exact address allowed by name", []string{"localhost:" + port}, "http://" + addr + "/f", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := hits.Load()
			tr := NewDialPolicy(tc.allow).NewTransport()
			t.Cleanup(tr.CloseIdleConnections)
			c := &Client{Transport: tr}
			req := fragmentRequest(tc.url, safetyTimeout)
			resp, err := c.Fetch(context.Background(), req)
			if tc.allowed {
				if err != nil {
					t.Fatalf("Fetch %s: got %v, want the fragment", tc.url, err)
				}
				if string(resp.Body) != "<p>internal</p>" {
					t.Errorf("body: got %q, want %q", resp.Body, "<p>internal</p>")
				}
				if n := hits.Load() - before; n != 1 {
					t.Errorf("requests: got %d, want 1", n)
				}
				return
			}
			fe := wantKind(t, resp, err, req, fetch.KindConnect)
			if !strings.Contains(fe.Error(), "dial policy") {
				t.Errorf("error: got %q, want it to name the dial policy", fe)
			}
			if n := hits.Load() - before; n != 0 {
				t.Errorf("requests: got %d, want 0", n)
			}
		})
	}
}
