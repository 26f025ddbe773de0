package main

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inlayhq/inlay/teams/teamtest"
)

// constLoop is a checked closed loop of n answers that all took d.
func constLoop(n int64, d time.Duration) peakResult {
	return peakResult{Tool: "wrk", Conns: slowConns, Requests: n, Duration: 2 * time.Second, RPS: float64(n) / 2,
		P50: d, P99: d, Checked: true, Ladder: ladderFromSamples([]time.Duration{d})}
}

// spreadLoop is a checked closed loop of 1,000 answers taking 1 ms to
// 1,000 ms, one of each.
func spreadLoop() peakResult {
	var samples []time.Duration
	for i := 1; i <= 1000; i++ {
		samples = append(samples, time.Duration(i)*time.Millisecond)
	}
	return peakResult{Requests: 1000, Duration: time.Second, Checked: true, Ladder: ladderFromSamples(samples)}
}

func TestPooledQuantile(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name    string
		loops   []peakResult
		q       float64
		want    time.Duration
		wantErr bool
	}{
		{"one loop: its own rung", []peakResult{spreadLoop()}, 99, 990 * ms, false},
		{"one loop: its median", []peakResult{spreadLoop()}, 50, 500 * ms, false},
		{"one loop: its max", []peakResult{spreadLoop()}, 100, 1000 * ms, false},
		// Each loop weighs the same, whatever its answers: a quarter of
		// the mixture takes 200 ms though its loop answered 10 pages.
		{"mixture, p99 in the slow loop", []peakResult{constLoop(1000, 50*ms), constLoop(10, 200*ms), constLoop(1000, 50*ms), constLoop(500, 100*ms)}, 99, 200 * ms, false},
		{"mixture, p50 in the fast loops", []peakResult{constLoop(1000, 50*ms), constLoop(10, 200*ms), constLoop(1000, 50*ms), constLoop(500, 100*ms)}, 50, 50 * ms, false},
		{"mixture, p70 in the middle loop", []peakResult{constLoop(1000, 50*ms), constLoop(10, 200*ms), constLoop(1000, 50*ms), constLoop(500, 100*ms)}, 70, 100 * ms, false},
		{"a loop without answers does not count", []peakResult{constLoop(1000, 50*ms), {}}, 99, 50 * ms, false},
		{"a loop without a ladder", []peakResult{constLoop(1000, 50*ms), {Requests: 5}}, 99, 0, true},
		{"no answers", []peakResult{{}}, 99, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pooledQuantile(tc.loops, tc.q)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want one: %t", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("p%g = %s, want %s", tc.q, got, tc.want)
			}
		})
	}
}

func TestParseLadder(t *testing.T) {
	var vs []string
	for i := range ladderQuantiles {
		vs = append(vs, strings.Repeat("1", 1+i%3))
	}
	line := "loadbench ladder us: " + strings.Join(vs, " ") + "\n"
	for _, tc := range []struct {
		name    string
		out     string
		rungs   int
		wantErr bool
	}{
		{"a whole ladder", wrkOutput + line, len(ladderQuantiles), false},
		{"no ladder", wrkOutput, 0, false},
		{"a rung short", wrkOutput + "loadbench ladder us: " + strings.Join(vs[1:], " ") + "\n", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseWrk(tc.out)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want one: %t", err, tc.wantErr)
			}
			if len(got.Ladder) != tc.rungs {
				t.Fatalf("%d rungs, want %d", len(got.Ladder), tc.rungs)
			}
			if tc.rungs > 0 && (got.Ladder[0] != ladderPoint{Q: 0.5, V: time.Microsecond} || got.Ladder[2].V != 111*time.Microsecond) {
				t.Errorf("rungs %+v", got.Ladder[:3])
			}
		})
	}
}

func TestUpstreamOrder(t *testing.T) {
	addrs := []string{"127.0.0.2:1", "127.0.0.3:1", "127.0.0.4:1", "127.0.0.5:1"}
	for _, tc := range []struct {
		place int
		want  []string
	}{
		{1, []string{"127.0.0.5:1", "127.0.0.2:1", "127.0.0.3:1", "127.0.0.4:1"}},
		{2, []string{"127.0.0.2:1", "127.0.0.5:1", "127.0.0.3:1", "127.0.0.4:1"}},
		{3, []string{"127.0.0.2:1", "127.0.0.3:1", "127.0.0.5:1", "127.0.0.4:1"}},
		{4, []string{"127.0.0.2:1", "127.0.0.3:1", "127.0.0.4:1", "127.0.0.5:1"}},
	} {
		if got := upstreamOrder(slices.Clone(addrs), tc.place); !slices.Equal(got, tc.want) {
			t.Errorf("place %d: %q, want %q", tc.place, got, tc.want)
		}
	}
}

func TestOrdinal(t *testing.T) {
	for n, want := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 22: "22nd", 101: "101st"} {
		if got := ordinal(n); got != want {
			t.Errorf("ordinal(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestShareText(t *testing.T) {
	for _, tc := range []struct {
		fetches []int64
		want    string
		share   float64
	}{
		{[]int64{3000, 3000, 3000, 120}, "120 of 9,120 = 1.32 %", 120.0 / 9120},
		{[]int64{25, 25, 25, 25}, "25 of 100 = 25.00 %", 0.25},
		{[]int64{0, 0, 0, 0}, "no fetches", 0},
		{nil, "no fetches", 0},
	} {
		if got := shareText(tc.fetches, slowIndex); got != tc.want {
			t.Errorf("shareText(%v) = %q, want %q", tc.fetches, got, tc.want)
		}
		if got, _ := shareOf(tc.fetches, slowIndex); got != tc.share {
			t.Errorf("shareOf(%v, slowIndex) = %g, want %g", tc.fetches, got, tc.share)
		}
	}
}

// slowFixture is a scenario's result: Inlay with p99 and fetches as
// given, nginx's four places with the slow instance serving the header,
// search, basket and footer (50, 200, 100 and 50 ms).
func slowFixture(inlayP99 time.Duration, fetches []int64, withNginx bool) *slowResult {
	ms := time.Millisecond
	inlay := constLoop(20000, 20*ms)
	inlay.P99 = inlayP99
	r := &slowResult{Inlay: &slowColumn{Server: serverInlay, PageBytes: 8522, Loop: inlay, Fetches: fetches,
		SlowMix: map[string]int64{"header": 10, "search": 5}, Load: "1.50"}}
	if !withNginx {
		return r
	}
	for i, d := range []time.Duration{50 * ms, 200 * ms, 100 * ms, 50 * ms} {
		r.Nginx = append(r.Nginx, &slowColumn{Server: serverNginx, Place: i + 1, PageBytes: 8522, Loop: constLoop(int64(5000*ms/d), d),
			Fetches: []int64{100, 100, 100, 100}, SlowMix: map[string]int64{fragmentSpecs[i].Name: 100}, Load: "1.60"})
	}
	var err error
	if r.Pooled, err = poolColumns(r.Nginx); err != nil {
		panic(err)
	}
	return r
}

func TestPoolColumns(t *testing.T) {
	p := slowFixture(30*time.Millisecond, []int64{1, 1, 1, 0}, true).Pooled
	if p.Loop.P99 != 200*time.Millisecond || p.Loop.P50 != 50*time.Millisecond {
		t.Errorf("pooled p50 / p99 %s / %s, want 50ms / 200ms", p.Loop.P50, p.Loop.P99)
	}
	if want := int64(100 + 25 + 50 + 100); p.Loop.Requests != want || p.Loop.Duration != 8*time.Second || p.Loop.RPS != float64(want)/8 {
		t.Errorf("pooled %d requests in %s at %g req/s", p.Loop.Requests, p.Loop.Duration, p.Loop.RPS)
	}
	if !slices.Equal(p.Fetches, []int64{400, 400, 400, 400}) || p.SlowMix != nil || !p.Loop.Checked {
		t.Errorf("pooled fetches %v, mix %v, checked %t", p.Fetches, p.SlowMix, p.Loop.Checked)
	}
}

func TestCheckSlow(t *testing.T) {
	ms := time.Millisecond
	good := []int64{3000, 3000, 3000, 100}
	for _, tc := range []struct {
		name  string
		r     *slowResult
		edit  func(r *slowResult)
		pass  []bool // ratio, share, pages
		skips []bool
	}{
		{"all met", slowFixture(40*ms, good, true), nil, []bool{true, true, true}, []bool{false, false, false}},
		{"p99 too close to nginx's", slowFixture(70*ms, good, true), nil, []bool{false, true, true}, []bool{false, false, false}},
		{"the slow one gets 6 %", slowFixture(40*ms, []int64{3000, 3000, 3000, 600}, true), nil, []bool{true, false, true}, []bool{false, false, false}},
		{"an incomplete page", slowFixture(40*ms, good, true), func(r *slowResult) { r.Inlay.Loop.Incomplete = 1 }, []bool{true, true, false}, []bool{false, false, false}},
		{"pages not checked", slowFixture(40*ms, good, true), func(r *slowResult) { r.Inlay.Loop.Checked = false }, []bool{true, true, false}, []bool{false, false, false}},
		{"no fetches counted", slowFixture(40*ms, []int64{0, 0, 0, 0}, true), nil, []bool{true, false, true}, []bool{false, false, false}},
		{"no nginx", slowFixture(40*ms, good, false), nil, []bool{false, true, true}, []bool{true, false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.edit != nil {
				tc.edit(tc.r)
			}
			cs := checkSlow(tc.r)
			if len(cs) != len(tc.pass) {
				t.Fatalf("%d checks, want %d: %+v", len(cs), len(tc.pass), cs)
			}
			for i, c := range cs {
				if c.Pass != tc.pass[i] || c.Skipped != tc.skips[i] {
					t.Errorf("%s: pass %t skipped %t, want %t %t (%s)", c.Target, c.Pass, c.Skipped, tc.pass[i], tc.skips[i], c.Measured)
				}
			}
		})
	}
	if cs := checkSlow(nil); cs != nil {
		t.Errorf("checks of no result: %+v", cs)
	}
}

func TestRenderSlow(t *testing.T) {
	m := machine{Revision: "at abc1234", Date: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	cfg := benchConfig{Duration: 10 * time.Second, Warmup: 2 * time.Second}
	for _, tc := range []struct {
		name          string
		r             *slowResult
		nginx         string
		want, notWant []string
	}{
		{"with nginx", slowFixture(40*time.Millisecond, []int64{3000, 3000, 3000, 100}, true), "nginx nginx/1.22.1", []string{
			sectionBegin(slowKey), sectionEnd(slowKey), "### One slow instance among four",
			"| | Inlay, endpoints | nginx SSI, slow instance 1st in upstream | nginx SSI, slow instance 2nd in upstream |",
			"nginx SSI, the 4 places pooled |", "| latency p50 / p99, 64 connections | 20.00 ms / 40.00 ms |",
			"| fetches, 127.0.0.5 (10× slower) | 100 of 9,100 = 1.10 % |", "| fragments the slow instance served | header 67 %, search 33 % | header 100 % | search 100 % |",
			"each in one loop |", "200.00 ms / 40.00 ms = 5.00 × | pass |", "for a 500ms warm-up and a 2.5s loop", "Inlay at abc1234, run on 2026-12-07 10:00 UTC.",
		}, []string{"not installed"}},
		{"without nginx", slowFixture(40*time.Millisecond, []int64{3000, 3000, 3000, 100}, false), "", []string{
			"| | Inlay, endpoints |\n", "nginx is not installed", "| nginx not installed | not measured |",
		}, []string{"places pooled |"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			md := renderSlow(m, cfg, tc.nginx, tc.r, checkSlow(tc.r))
			wantInMarkdown(t, md, tc.want...)
			for _, s := range tc.notWant {
				if strings.Contains(md, s) {
					t.Errorf("section holds %q:\n%s", s, md)
				}
			}
			if !strings.HasPrefix(md, sectionBegin(slowKey)) || !strings.HasSuffix(md, sectionEnd(slowKey)+"\n") {
				t.Errorf("section not between its markers:\n%s", md)
			}
		})
	}
}

func TestSpliceSection(t *testing.T) {
	section := func(body string) string {
		return sectionBegin(slowKey) + "\n\n" + body + "\n\n" + sectionEnd(slowKey) + "\n"
	}
	generated := func(inner string) string {
		return "# Benchmarks\n\nBy hand.\n\n" + beginMarker + "\n\n" + inner + "\n\n" + endMarker + "\nFooter by hand.\n"
	}
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"replaces the section, keeps the rest",
			generated("### Latest run\n\nold figures\n\n" + section("slow 1") + "\n### After\n\nmore"),
			generated("### Latest run\n\nold figures\n\n" + section("slow 2") + "\n### After\n\nmore")},
		{"adds the section at the end of the generated part",
			generated("### Latest run\n\nold figures"),
			generated("### Latest run\n\nold figures\n\n" + strings.TrimSpace(section("slow 2")))},
		{"makes a generated part", "# Benchmarks\n\nBy hand.",
			"# Benchmarks\n\nBy hand.\n\n" + beginMarker + "\n\n" + strings.TrimSpace(section("slow 2")) + "\n\n" + endMarker + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := spliceSection(tc.doc, slowKey, section("slow 2")); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

// TestInstances starts the real instances: each on its own loopback
// address, every fragment served and counted, the slow one at least
// slowFactor times each fragment's service time.
func TestInstances(t *testing.T) {
	set, err := startInstances(cacheNoStore, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	urls := set.URLs()
	if len(urls) != slowInstances {
		t.Fatalf("%d instances, want %d", len(urls), slowInstances)
	}
	for i, u := range urls {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		if pu.Hostname() != instanceHost(i) {
			t.Errorf("instance %d at %s, want %s", i, pu.Hostname(), instanceHost(i))
		}
		for _, f := range fragmentSpecs {
			start := time.Now()
			resp, body := teamtest.Get(t, u+"/"+f.Name)
			took := time.Since(start)
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, fragmentMarker(f.Name)) {
				t.Errorf("instance %d, %s: status %d, body %.40q", i, f.Name, resp.StatusCode, body)
			}
			if i == slowIndex && took < slowFactor*f.Latency {
				t.Errorf("the slow instance answered %s in %s, under %d × %s", f.Name, took, slowFactor, f.Latency)
			}
		}
	}
	if got := set.Fetches(); !slices.Equal(got, []int64{4, 4, 4, 4}) {
		t.Errorf("fetches %v, want 4 each", got)
	}
	want := map[string]int64{}
	for _, f := range fragmentSpecs {
		want[f.Name] = 1
	}
	if got := set.stubs[slowIndex].FragmentFetches(); !maps.Equal(got, want) {
		t.Errorf("the slow instance's fetches by fragment %v, want %v", got, want)
	}
}

// TestNginxRoundRobinStaysAligned runs the real nginx (when installed)
// over the four instances, the slow one second in its upstream list: its
// round robin hands a page's four includes to the four servers in turn,
// so the slow instance serves the second include, search, on every page.
// This is why the scenario runs nginx once per place.
func TestNginxRoundRobinStaysAligned(t *testing.T) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx not installed (Debian package nginx)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	set, err := startInstances(cacheNoStore, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	addrs := set.Addrs()
	addr, err := freeLoopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	p, err := startNginx(ctx, bin, t.TempDir(), nginxSettings{Listen: addr, Upstreams: upstreamOrder(addrs, 2)})
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	f0, m0 := set.Fetches(), set.stubs[slowIndex].FragmentFetches()
	const pages = 6
	for range pages {
		resp, body := teamtest.Get(t, p.url(pagePath))
		if resp.StatusCode != http.StatusOK || !pageComplete([]byte(body), fragmentMarkers()) {
			t.Fatalf("status %d, page:\n%s", resp.StatusCode, body)
		}
	}
	for i, n := range set.Fetches() {
		if n-f0[i] != pages {
			t.Errorf("instance %d: %d fetches, want %d", i, n-f0[i], pages)
		}
	}
	m := set.stubs[slowIndex].FragmentFetches()
	if got := m["search"] - m0["search"]; got != pages {
		t.Errorf("the slow instance served search %d times of %d pages; its fragments %v", got, pages, m)
	}
}
