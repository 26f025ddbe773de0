package resolve_test

import (
	"log/slog"
	"net/netip"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/inlayhq/inlay/fragments/resolve"
	"github.com/inlayhq/inlay/internal/dnstest"
)

// The tests in this file look names up for real, from a DNS server on
// loopback.

const basketHost = "basket.shop.inlay.test"

func TestNewSendsEveryLookupToTheServer(t *testing.T) {
	dns := dnstest.Start(t)
	dns.Set(basketHost, "127.0.0.2", "::1")
	r := resolve.New(dns.Addr())
	got, err := r.LookupNetIP(t.Context(), "ip", basketHost)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, netip.Addr.Compare)
	if want := []netip.Addr{netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("::1")}; !slices.Equal(got, want) {
		t.Errorf("looked up %v, want %v", got, want)
	}
	if dns.Lookups() == 0 {
		t.Error("the server got no query")
	}
	if _, err := r.LookupNetIP(t.Context(), "ip", "unknown.shop.inlay.test"); err == nil {
		t.Error("a name the server does not know was found")
	}
}

// The answer grows from 2 to 4 addresses, as a headless Service's does
// when its team scales: the watch reports the 4.
func TestWatchReportsAGrowingAnswer(t *testing.T) {
	dns := dnstest.Start(t)
	dns.Set(basketHost, "127.0.0.3", "127.0.0.2")
	r := newReports()
	w, err := resolve.NewWatch("basket", basketHost+":8080",
		resolve.Options{Resolver: resolve.New(dns.Addr()), Every: 20 * time.Millisecond}, r.add)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if got, want := <-r.ch, []string{"127.0.0.2:8080", "127.0.0.3:8080"}; !slices.Equal(got, want) {
		t.Fatalf("first report %q, want %q", got, want)
	}
	// A few more lookups with the same answer report nothing.
	if err := dns.WaitLookups(t.Context(), dns.Lookups()+6); err != nil {
		t.Fatal(err)
	}
	dns.Set(basketHost, "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")
	if got, want := <-r.ch, []string{"127.0.0.2:8080", "127.0.0.3:8080", "127.0.0.4:8080", "127.0.0.5:8080"}; !slices.Equal(got, want) {
		t.Fatalf("second report %q, want %q", got, want)
	}
	w.Stop()
	if got := len(r.all()); got != 2 {
		t.Errorf("%d reports, want 2: one per answer", got)
	}
}

// A DNS server that stops answering costs nothing: the last addresses
// stay, the log says so once, and the next answer is reported.
func TestWatchKeepsTheLastListWhenTheServerStopsAnswering(t *testing.T) {
	dns := dnstest.Start(t)
	dns.Set(basketHost, "127.0.0.2", "127.0.0.3")
	logs := newLogRecords()
	r := newReports()
	w, err := resolve.NewWatch("basket", basketHost+":8080",
		resolve.Options{Resolver: resolve.New(dns.Addr()), Every: 20 * time.Millisecond, Logger: slog.New(logs)}, r.add)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	first := <-r.ch
	dns.Silence(true)
	<-logs.added // the watch says the lookups fail
	// Several more lookups go unanswered.
	if err := dns.WaitLookups(t.Context(), dns.Lookups()+10); err != nil {
		t.Fatal(err)
	}
	if got := w.Endpoints(); !slices.Equal(got, first) {
		t.Errorf("while the server is silent, Endpoints() = %q, want the last list %q", got, first)
	}
	if got := logs.levels(); !slices.Equal(got, []slog.Level{slog.LevelWarn}) {
		t.Errorf("log levels %v while silent, want one warning", got)
	}
	dns.Set(basketHost, "127.0.0.2", "127.0.0.3", "127.0.0.4")
	dns.Silence(false)
	if got, want := <-r.ch, []string{"127.0.0.2:8080", "127.0.0.3:8080", "127.0.0.4:8080"}; !slices.Equal(got, want) {
		t.Errorf("after the server is back, reported %q, want %q", got, want)
	}
	w.Stop()
	if got := len(r.all()); got != 2 {
		t.Errorf("%d reports, want 2: the silence reported nothing", got)
	}
	if got := logs.levels(); !slices.Equal(got, []slog.Level{slog.LevelWarn, slog.LevelInfo}) {
		t.Errorf("log levels %v, want a warning, then one line as the answers come back", got)
	}
}

func TestHostPort(t *testing.T) {
	for raw, want := range map[string]string{
		"http://basket.shop":            "basket.shop:80",
		"https://basket.shop/team":      "basket.shop:443",
		"http://basket.shop:8080/":      "basket.shop:8080",
		"http://[fd00::1]/":             "[fd00::1]:80",
		"https://127.0.0.2:9443/basket": "127.0.0.2:9443",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := resolve.HostPort(u); got != want {
			t.Errorf("HostPort(%s) = %s, want %s", raw, got, want)
		}
	}
}
