package demo_test

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"

	"github.com/inlayhq/inlay/cmd/inlay/demo"
)

// TestStartTeams starts the demo teams from the embedded config (there is
// no layouts/inlay.yaml beside this package) and checks that the config
// now points at them and that each answers.
func TestStartTeams(t *testing.T) {
	cfg, layoutFS, err := demo.LoadConfig("")
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	if layoutFS == nil {
		t.Fatal("LoadConfig without a checkout's config: no embedded layouts")
	}
	urls, stop, err := demo.StartTeams(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("StartTeams: %v", err)
	}
	defer stop()
	for _, name := range []string{"search", "shell", "basket"} {
		u := urls[name]
		if u == "" {
			t.Fatalf("no URL for team %s", name)
		}
		if got := cfg.Services[name].BaseURL.String(); got != u {
			t.Errorf("service %s points at %s, want %s", name, got, u)
		}
		resp, err := http.Get(u + "/")
		if err != nil {
			t.Fatalf("team %s: %v", name, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// TestStartTeamAtTakenAddress falls back to a free port when the asked
// address is taken.
func TestStartTeamAtTakenAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	u, stop, err := demo.StartTeamAt(ln.Addr().String(), http.NotFoundHandler())
	if err != nil {
		t.Fatalf("StartTeamAt: %v", err)
	}
	defer stop()
	if u == "http://"+ln.Addr().String() {
		t.Fatalf("StartTeamAt took %s, which was taken", u)
	}
	resp, err := http.Get(u + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status %d, want 404 from the handler", resp.StatusCode)
	}
}

// TestPublicURL: the shop listens where it was asked, and a shop on this
// machine's own addresses is http://localhost:PORT, as the banner prints
// it.
func TestPublicURL(t *testing.T) {
	for _, tc := range []struct {
		listen, url, addr string
	}{
		{"127.0.0.1:8080", "http://localhost:8080", "127.0.0.1:8080"},
		{"[::1]:8080", "http://localhost:8080", "[::1]:8080"},
		{"localhost:8080", "http://localhost:8080", "localhost:8080"},
		{"0.0.0.0:8080", "http://localhost:8080", "0.0.0.0:8080"},
		{"[::]:8080", "http://localhost:8080", "[::]:8080"},
		{":8080", "http://localhost:8080", ":8080"},
		{"192.0.2.7:8080", "http://192.0.2.7:8080", "192.0.2.7:8080"},
		{"shop.internal:80", "http://shop.internal:80", "shop.internal:80"},
	} {
		url, addr, err := demo.PublicURL(tc.listen)
		if err != nil || url != tc.url || addr != tc.addr {
			t.Errorf("PublicURL(%q) = %q, %q, %v; want %q, %q", tc.listen, url, addr, err, tc.url, tc.addr)
		}
	}
	url, addr, err := demo.PublicURL("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)
	if port == "0" || url != "http://localhost:"+port {
		t.Errorf("PublicURL(127.0.0.1:0) = %q, %q: want a free port, in both", url, addr)
	}
	if _, _, err := demo.PublicURL("8080"); err == nil {
		t.Error("PublicURL(8080): no error for an address without a port")
	}
}
