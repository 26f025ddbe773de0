package main

import (
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/inlayhq/inlay/composer/config"
)

const wrkOutput = `Running 10s test @ http://127.0.0.1:40123/page
  2 threads and 256 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    14.85ms    9.10ms  99.12ms   80.12%
    Req/Sec     8.47k     1.02k   10.94k    71.50%
  Latency Distribution
     50%   14.85ms
     75%   18.01ms
     90%   24.33ms
     99%   53.04ms
  168534 requests in 10.04s, 1.45GB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  16786.25
Transfer/sec:    147.82MB
`

func TestParseWrk(t *testing.T) {
	got, err := parseWrk(wrkOutput)
	if err != nil {
		t.Fatal(err)
	}
	want := peakResult{Tool: "wrk", Requests: 168534, Duration: 10040 * time.Millisecond, RPS: 16786.25, Errors: 7,
		P50: 14850 * time.Microsecond, P99: 53040 * time.Microsecond}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseWrk:\n got %+v\nwant %+v", got, want)
	}
	if got.Checked {
		t.Error("a run without the check script counted as checked")
	}
	checked, err := parseWrk(wrkOutput + "loadbench pages: non-200 3, incomplete 12\n")
	if err != nil {
		t.Fatal(err)
	}
	if !checked.Checked || checked.Non200 != 3 || checked.Incomplete != 12 {
		t.Errorf("page counts: got %+v", checked)
	}
	if _, err := parseWrk("wrk: connection refused\n"); err == nil {
		t.Error("parseWrk accepted output without Requests/sec")
	}
}

func TestParseWrkUnits(t *testing.T) {
	out := strings.NewReplacer("14.85ms", "850.00us", "53.04ms", "1.20s", "10.04s", "1.00m").Replace(wrkOutput)
	got, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	if got.P50 != 850*time.Microsecond || got.P99 != 1200*time.Millisecond || got.Duration != time.Minute {
		t.Errorf("units: p50 %v p99 %v duration %v", got.P50, got.P99, got.Duration)
	}
}

// The process reader reads this test's own process: the CPU it spends
// (counted in clock ticks, so the test spends some first) and the user
// time of it, a resident set, and a peak at least as high.
func TestProcReaderSamplesItsOwnProcess(t *testing.T) {
	pr := newProcReader(t.Context())
	deadline := time.Now().Add(5 * time.Second)
	for n := 0; ; n++ {
		s, err := pr.sample(os.Getpid())
		if err != nil {
			t.Skipf("no /proc: %v", err)
		}
		if s.RSS <= 0 || s.HWM < s.RSS {
			t.Fatalf("sample: RSS %d, peak %d; want RSS above 0 and peak ≥ RSS", s.RSS, s.HWM)
		}
		if s.User < 0 || s.User > s.CPU {
			t.Fatalf("sample: user time %v of CPU time %v; want between 0 and all of it", s.User, s.CPU)
		}
		if s.User > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sample: no user time after %d rounds of work (CPU time %v)", n, s.CPU)
		}
		sink := 0
		for i := range 1 << 22 { // some work for the clock to count
			sink += i ^ n
		}
		_ = sink
	}
}

func TestPercentile(t *testing.T) {
	var samples []time.Duration
	for i := 100; i >= 1; i-- { // 1..100 ms, unsorted
		samples = append(samples, time.Duration(i)*time.Millisecond)
	}
	got := summarize(samples)
	want := latencies{N: 100, P50: 50 * time.Millisecond, P90: 90 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}
	if got != want {
		t.Errorf("summarize = %+v, want %+v", got, want)
	}
	if p := percentile([]time.Duration{7}, 0.99); p != 7 {
		t.Errorf("percentile of one sample = %v", p)
	}
	if s := summarize(nil); s != (latencies{}) {
		t.Errorf("summarize(nil) = %+v", s)
	}
}

func TestFormat(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 20000: "20,000", 1234567: "1,234,567", -4321: "-4,321"} {
		if got := fmtInt(n); got != want {
			t.Errorf("fmtInt(%d) = %q, want %q", n, got, want)
		}
	}
	if got := fmtMs(20523 * time.Microsecond); got != "20.52 ms" {
		t.Errorf("fmtMs = %q", got)
	}
	if got := fmtCPU(85 * time.Microsecond); got != "0.085 ms" {
		t.Errorf("fmtCPU = %q", got)
	}
	if got := fmtMiB(64 << 20); got != "64.0 MiB" {
		t.Errorf("fmtMiB = %q", got)
	}
}

func TestFragmentBody(t *testing.T) {
	for _, f := range fragmentSpecs {
		b := fragmentBody(f.Name, f.Size)
		if len(b) != f.Size {
			t.Errorf("%s: %d bytes, want %d", f.Name, len(b), f.Size)
		}
		if !strings.HasPrefix(string(b), fragmentMarker(f.Name)) || !strings.HasSuffix(string(b), "</div>") {
			t.Errorf("%s: not a marked div: %.40q", f.Name, b)
		}
	}
}

func TestSpliceReport(t *testing.T) {
	fresh := spliceReport("# Benchmarks\n\nBy hand.", "table 1\n")
	want := "# Benchmarks\n\nBy hand.\n\n" + beginMarker + "\n\ntable 1\n\n" + endMarker + "\n"
	if fresh != want {
		t.Fatalf("first splice:\n%s\nwant:\n%s", fresh, want)
	}
	again := spliceReport(fresh+"Footer by hand.\n", "table 2\n")
	if !strings.Contains(again, "table 2") || strings.Contains(again, "table 1") ||
		!strings.HasPrefix(again, "# Benchmarks\n\nBy hand.\n\n") || !strings.HasSuffix(again, endMarker+"\nFooter by hand.\n") {
		t.Errorf("second splice:\n%s", again)
	}
}

func TestCheckTargets(t *testing.T) {
	ms := time.Millisecond
	direct := &result{Scenario: scenarios[0]}
	direct.Open.Latency.P50 = 20 * ms
	primary := &result{Scenario: scenarios[1]}
	primary.TTFB.P50 = 10 * ms
	noStore := &result{Scenario: scenarios[2], HasProc: true, CPUPeak: 90 * time.Microsecond, PeakRSS: 70 << 20}
	noStore.Open.Latency.P50 = 21 * ms // 1.05 × 20 ms: passes
	noStore.TTFB.P50 = 11*ms + 1
	cacheable := &result{Scenario: scenarios[3], HasProc: true, CPUPeak: 40 * time.Microsecond, PeakRSS: 30 << 20}
	noStore.Peak.Conns = 256
	cacheable.Peak = peakResult{Conns: 256, RPS: 25000}
	cacheable.TTFB.P50 = ms / 2
	checks := checkTargets(map[string]*result{"direct": direct, "direct-primary": primary, "no-store": noStore, "cacheable": cacheable})
	var failed []string
	for _, c := range checks {
		if !c.Pass {
			failed = append(failed, c.Target)
		}
	}
	if len(checks) != 8 || len(failed) != 2 ||
		!strings.HasPrefix(failed[0], "no-store: TTFB") || !strings.HasPrefix(failed[1], "no-store: peak RSS") {
		t.Errorf("%d checks, failed %q", len(checks), failed)
	}
	md := renderMarkdown(machine{CPUs: 2, CPUModel: "Test CPU"}, benchConfig{Rate: 500, Duration: time.Second, Conns: 256, TTFBRequests: 10},
		[]*result{direct, primary, noStore, cacheable}, checks)
	wantInMarkdown(t, md, "| latency p50 at 500 req/s | 20.00 ms |", "| **fail** |", "2 × Test CPU", "| CPU per page at peak | – | – | 0.090 ms | 0.040 ms |")
}

// wantInMarkdown fails t for each of want that md lacks.
func wantInMarkdown(t *testing.T, md string, want ...string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(md, s) {
			t.Errorf("markdown lacks %q:\n%s", s, md)
		}
	}
}

// TestConfigYAML checks that the generated config is Inlay's default but
// for the services' URLs, or their instances' endpoints (and h2c when
// asked): no raised limit, no changed timeout.
func TestConfigYAML(t *testing.T) {
	for _, tc := range []struct {
		name     string
		services map[string][]string
		h2c      bool
	}{
		{"a service per fragment", map[string][]string{"header": {"http://127.0.0.1:1"}, "search": {"http://127.0.0.1:2"}}, false},
		{"h2c", map[string][]string{"header": {"http://127.0.0.1:1"}}, true},
		{"one service", map[string][]string{oneServiceName: {"http://127.0.0.1:3"}}, false},
		{"one service, four instances", map[string][]string{oneServiceName: {
			"http://127.0.0.2:4", "http://127.0.0.3:5", "http://127.0.0.4:6", "http://127.0.0.5:7"}}, false},
		{"instances and h2c", map[string][]string{"header": {"http://127.0.0.1:1"}, oneServiceName: {"http://127.0.0.2:4", "http://127.0.0.3:4"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := instancesConfigYAML("127.0.0.1:0", tc.services, tc.h2c)
			single := map[string]string{}
			for name, urls := range tc.services {
				if len(urls) == 1 {
					single[name] = urls[0]
				}
			}
			if len(single) == len(tc.services) {
				if got := configYAML("127.0.0.1:0", single, tc.h2c); got != text {
					t.Errorf("configYAML differs from instancesConfigYAML:\n%s\nwant:\n%s", got, text)
				}
			}
			var top map[string]any
			if err := yaml.Unmarshal([]byte(text), &top); err != nil {
				t.Fatal(err)
			}
			if keys := slices.Sorted(maps.Keys(top)); !slices.Equal(keys, []string{"layouts", "listen", "pages", "services"}) {
				t.Errorf("top-level keys %q, want only layouts, listen, pages and services", keys)
			}
			cfg, err := config.Parse("inlay.yaml", []byte(text))
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Services) != len(tc.services) {
				t.Errorf("%d services, want %d", len(cfg.Services), len(tc.services))
			}
			for name, urls := range tc.services {
				svc := cfg.Services[name]
				if svc == nil {
					t.Fatalf("no service %s", name)
				}
				wantURL, wantEndpoints := "", urls
				if len(urls) == 1 {
					wantURL, wantEndpoints = urls[0], nil
				}
				if svc.URL != wantURL || !slices.Equal(svc.Endpoints, wantEndpoints) || svc.H2C != tc.h2c {
					t.Errorf("service %s: url %q endpoints %q h2c %t, want %q %q %t", name, svc.URL, svc.Endpoints, svc.H2C, wantURL, wantEndpoints, tc.h2c)
				}
				rest := *svc
				rest.URL, rest.Endpoints, rest.H2C, rest.Name, rest.BaseURL, rest.EndpointURLs = "", nil, false, "", nil, nil
				if !reflect.DeepEqual(rest, config.Service{}) {
					t.Errorf("service %s sets more than url or endpoints and h2c: %+v", name, rest)
				}
			}
		})
	}
}

func TestLayoutHTML(t *testing.T) {
	one := layoutHTML(func(string) string { return oneServiceName })
	each := layoutHTML(func(name string) string { return name })
	for _, f := range fragmentSpecs {
		if want := `src="` + oneServiceName + `:/` + f.Name + `"`; !strings.Contains(one, want) {
			t.Errorf("one-service layout lacks %s", want)
		}
		if want := `src="` + f.Name + `:/` + f.Name + `"`; !strings.Contains(each, want) {
			t.Errorf("per-service layout lacks %s", want)
		}
	}
	if n := strings.Count(one, " primary>"); n != 1 {
		t.Errorf("%d primaries, want 1", n)
	}
}
