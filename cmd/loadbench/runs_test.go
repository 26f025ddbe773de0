package main

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []time.Duration
		want time.Duration
	}{
		{"none", nil, 0},
		{"one", []time.Duration{7}, 7},
		{"odd, unsorted", []time.Duration{30, 10, 20}, 20},
		{"odd, an outlier", []time.Duration{100, 1, 2}, 2},
		{"even: the mean of the middle two", []time.Duration{40, 10, 30, 20}, 25},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := median(slices.Clone(tc.in)); got != tc.want {
				t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
	if got := median([]float64{1, 2}); got != 1.5 {
		t.Errorf("median of 1 and 2 = %v, want 1.5", got)
	}
}

// runFigures are one column's figures in one run: by connections, CPU
// per page, p99 and req/s.
type runFigures struct {
	cpu, p99 map[int]time.Duration
	user     map[int]time.Duration // of cpu; none when not measured
	rps      map[int]float64
	rss      int64
}

// withUser gives f's loops at 64 and at 256 connections their user time.
func withUser(f runFigures, user64, user256 time.Duration) runFigures {
	f.user = map[int]time.Duration{64: user64, 256: user256}
	return f
}

// runsFixture builds the results of runs of the side-by-side columns,
// each given run by run.
func runsFixture(columns map[string][]runFigures) []*peerResult {
	var out []*peerResult
	for _, col := range peerColumns {
		for i, f := range columns[col.Key] {
			r := &peerResult{Column: col, Run: i + 1, Loops: map[int]*peerLoop{}, HasProc: true, RSSPeak: f.rss, Load: "0.50"}
			for c, rps := range f.rps {
				r.Loops[c] = &peerLoop{peakResult: peakResult{Conns: c, RPS: rps, P50: f.p99[c] / 2, P99: f.p99[c], Requests: int64(rps) * 10, Checked: true},
					CPUPerPage: f.cpu[c], UserPerPage: f.user[c]}
			}
			out = append(out, r)
		}
	}
	return out
}

// fig is a run's figures at 64 and at 256 connections; a zero req/s
// leaves the loop out.
func fig(cpu64, cpu256 time.Duration, p99At64, p99At256 time.Duration, rps64, rps256 float64, rss int64) runFigures {
	f := runFigures{cpu: map[int]time.Duration{}, p99: map[int]time.Duration{}, rps: map[int]float64{}, rss: rss}
	for _, l := range []struct {
		c   int
		cpu time.Duration
		p99 time.Duration
		rps float64
	}{{64, cpu64, p99At64, rps64}, {256, cpu256, p99At256, rps256}} {
		if l.rps > 0 {
			f.cpu[l.c], f.p99[l.c], f.rps[l.c] = l.cpu, l.p99, l.rps
		}
	}
	return f
}

func TestCheckRuns(t *testing.T) {
	us, ms := time.Microsecond, time.Millisecond
	// Three runs each. Inlay's no-store medians: CPU 130 µs at 64 (the
	// floor's 120: 1.083 ×, pass) and 160 µs at 256 (the floor's 125:
	// 1.28 ×, fail, though one run alone was within 1.15 ×); p99 26 ms
	// at 64 (nginx's 25: 1.04 ×, pass), 80 ms at 256 (nginx's 66: 1.21 ×,
	// fail); RSS 62 MiB (pass, though one run was 70). Cached, at 256:
	// req/s 45,000 against 29,000 (1.55 ×, pass), p99 30 ms against 27
	// (fail); the cached later runs measure 256 only. The floor with
	// Inlay's defaults: 130 µs at 64 (Inlay's 1.00 ×, pass) and 145 µs at
	// 256 (1.10 ×, pass, where against the bare floor it fails).
	inlayNS := []runFigures{
		fig(130*us, 140*us, 26*ms, 80*ms, 2900, 6000, 62<<20),
		fig(200*us, 160*us, 24*ms, 90*ms, 2800, 5900, 70<<20),
		fig(120*us, 170*us, 27*ms, 70*ms, 2950, 6100, 60<<20),
	}
	floorNS := []runFigures{
		fig(120*us, 125*us, 0, 0, 3000, 7000, 10<<20),
		fig(110*us, 130*us, 0, 0, 3000, 7000, 10<<20),
		fig(125*us, 120*us, 0, 0, 3000, 7000, 10<<20),
	}
	floorDNS := []runFigures{
		fig(125*us, 150*us, 0, 0, 3000, 6500, 12<<20),
		fig(130*us, 140*us, 0, 0, 3000, 6500, 12<<20),
		fig(135*us, 145*us, 0, 0, 3000, 6500, 12<<20),
	}
	nginxNS := []runFigures{
		fig(100*us, 95*us, 25*ms, 66*ms, 3000, 8000, 30<<20),
		fig(100*us, 95*us, 24*ms, 60*ms, 3000, 8000, 30<<20),
		fig(100*us, 95*us, 26*ms, 70*ms, 3000, 8000, 30<<20),
	}
	inlayC := []runFigures{
		fig(35*us, 35*us, 10*ms, 30*ms, 42000, 45000, 45<<20),
		fig(0, 35*us, 0, 28*ms, 0, 44000, 45<<20),
		fig(0, 35*us, 0, 40*ms, 0, 46000, 45<<20),
	}
	floorC := []runFigures{
		fig(30*us, 30*us, 8*ms, 33*ms, 40000, 40000, 20<<20),
		fig(0, 30*us, 0, 38*ms, 0, 41000, 20<<20),
		fig(0, 30*us, 0, 35*ms, 0, 39000, 20<<20),
	}
	nginxC := []runFigures{
		fig(40*us, 40*us, 7*ms, 27*ms, 29000, 29000, 30<<20),
		fig(0, 40*us, 0, 26*ms, 0, 30000, 30<<20),
		fig(0, 40*us, 0, 28*ms, 0, 28000, 30<<20),
	}
	all := map[string][]runFigures{
		"inlay-no-store": inlayNS, "floor-no-store": floorNS, "floor-defaults-no-store": floorDNS, "nginx-no-store": nginxNS,
		"inlay-cached": inlayC, "floor-cached": floorC, "nginx-cached": nginxC,
	}
	withoutDefaults := map[string][]runFigures{"inlay-no-store": inlayNS, "floor-no-store": floorNS, "nginx-no-store": nginxNS}
	withoutPeers := map[string][]runFigures{"inlay-no-store": inlayNS, "inlay-cached": inlayC}

	type verdict struct{ result, measured string }
	for _, tc := range []struct {
		name    string
		columns map[string][]runFigures
		want    map[string]verdict // by target; measured "" is not compared
	}{
		{"every peer", all, map[string]verdict{
			"no-store: CPU per page ≤ 1.15 × the floor program's, 64 connections":                        {"pass", "0.130 ms / 0.120 ms = 1.08 × (medians of 3 and 3 runs)"},
			"no-store: CPU per page ≤ 1.15 × the floor program's, 256 connections":                       {"fail", "0.160 ms / 0.125 ms = 1.28 × (medians of 3 and 3 runs)"},
			"no-store: CPU per page ≤ 1.15 × the floor program's with Inlay's defaults, 64 connections":  {"pass", "0.130 ms / 0.130 ms = 1.00 × (medians of 3 and 3 runs)"},
			"no-store: CPU per page ≤ 1.15 × the floor program's with Inlay's defaults, 256 connections": {"pass", "0.160 ms / 0.145 ms = 1.10 × (medians of 3 and 3 runs)"},
			"no-store: p99 ≤ 1.1 × nginx SSI's, 64 connections":                                          {"pass", "26.00 ms / 25.00 ms = 1.04 × (medians of 3 and 3 runs)"},
			"no-store: p99 ≤ 1.1 × nginx SSI's, 256 connections":                                         {"fail", ""},
			"cached: req/s ≥ 1.5 × nginx SSI's, 256 connections":                                         {"pass", "45,000 / 29,000 = 1.55 × (medians of 3 and 3 runs)"},
			"cached: p99 ≤ nginx SSI's, 256 connections":                                                 {"fail", "30.00 ms / 27.00 ms = 1.11 × (medians of 3 and 3 runs)"},
			"cached: p99 ≤ the floor program's, the page stitched once, 256 connections":                 {"pass", "30.00 ms / 35.00 ms = 0.86 × (medians of 3 and 3 runs)"},
			"no-store: peak RSS ≤ 64.0 MiB, 256 connections":                                             {"pass", "62.0 MiB (3 runs)"},
		}},
		{"no floor, no nginx", withoutPeers, map[string]verdict{
			"no-store: CPU per page ≤ 1.15 × the floor program's, 64 connections":                        {"skipped", "the floor program did not run"},
			"no-store: CPU per page ≤ 1.15 × the floor program's, 256 connections":                       {"skipped", ""},
			"no-store: CPU per page ≤ 1.15 × the floor program's with Inlay's defaults, 64 connections":  {"skipped", "the floor program with Inlay's defaults did not run"},
			"no-store: CPU per page ≤ 1.15 × the floor program's with Inlay's defaults, 256 connections": {"skipped", ""},
			"no-store: p99 ≤ 1.1 × nginx SSI's, 64 connections":                                          {"skipped", "nginx did not run"},
			"no-store: p99 ≤ 1.1 × nginx SSI's, 256 connections":                                         {"skipped", ""},
			"cached: req/s ≥ 1.5 × nginx SSI's, 256 connections":                                         {"skipped", ""},
			"cached: p99 ≤ nginx SSI's, 256 connections":                                                 {"skipped", ""},
			"cached: p99 ≤ the floor program's, the page stitched once, 256 connections":                 {"skipped", "the floor program did not run"},
			"no-store: peak RSS ≤ 64.0 MiB, 256 connections":                                             {"pass", ""},
		}},
		{"the floor without its defaults column", withoutDefaults, map[string]verdict{
			"no-store: CPU per page ≤ 1.15 × the floor program's, 64 connections":                        {"pass", ""},
			"no-store: CPU per page ≤ 1.15 × the floor program's, 256 connections":                       {"fail", ""},
			"no-store: CPU per page ≤ 1.15 × the floor program's with Inlay's defaults, 64 connections":  {"skipped", "the floor program with Inlay's defaults did not run"},
			"no-store: CPU per page ≤ 1.15 × the floor program's with Inlay's defaults, 256 connections": {"skipped", ""},
			"no-store: p99 ≤ 1.1 × nginx SSI's, 64 connections":                                          {"pass", ""},
			"no-store: p99 ≤ 1.1 × nginx SSI's, 256 connections":                                         {"fail", ""},
			"no-store: peak RSS ≤ 64.0 MiB, 256 connections":                                             {"pass", ""},
		}},
		{"one run each: its figures are the medians", map[string][]runFigures{
			"inlay-no-store": inlayNS[1:2], "floor-no-store": floorNS[1:2], "floor-defaults-no-store": floorDNS[1:2],
		}, map[string]verdict{
			"no-store: CPU per page ≤ 1.15 × the floor program's, 64 connections":                        {"fail", "0.200 ms / 0.110 ms = 1.82 × (medians of 1 and 1 runs)"},
			"no-store: CPU per page ≤ 1.15 × the floor program's, 256 connections":                       {"fail", ""},
			"no-store: CPU per page ≤ 1.15 × the floor program's with Inlay's defaults, 64 connections":  {"fail", "0.200 ms / 0.130 ms = 1.54 × (medians of 1 and 1 runs)"},
			"no-store: CPU per page ≤ 1.15 × the floor program's with Inlay's defaults, 256 connections": {"pass", "0.160 ms / 0.140 ms = 1.14 × (medians of 1 and 1 runs)"},
			"no-store: p99 ≤ 1.1 × nginx SSI's, 64 connections":                                          {"skipped", ""},
			"no-store: p99 ≤ 1.1 × nginx SSI's, 256 connections":                                         {"skipped", ""},
			"no-store: peak RSS ≤ 64.0 MiB, 256 connections":                                             {"fail", "70.0 MiB (1 runs)"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]verdict{}
			for _, c := range checkRuns(runsFixture(tc.columns)) {
				v := "fail"
				switch {
				case c.Skipped:
					v = "skipped"
				case c.Pass:
					v = "pass"
				}
				got[c.Target] = verdict{v, c.Measured}
			}
			for target, want := range tc.want {
				g, ok := got[target]
				if !ok {
					t.Errorf("no check %q", target)
					continue
				}
				if g.result != want.result || (want.measured != "" && g.measured != want.measured) {
					t.Errorf("%s: got %s, %q; want %s, %q", target, g.result, g.measured, want.result, want.measured)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("%d checks, want %d: %v", len(got), len(tc.want), got)
			}
		})
	}
}

func TestRenderRuns(t *testing.T) {
	us, ms := time.Microsecond, time.Millisecond
	results := runsFixture(map[string][]runFigures{
		"inlay-no-store": {withUser(fig(130*us, 140*us, 26*ms, 80*ms, 2900, 6000, 62<<20), 80*us, 84*us),
			fig(200*us, 160*us, 24*ms, 90*ms, 2800, 5900, 70<<20)},
		"floor-no-store": {withUser(fig(100*us, 125*us, 20*ms, 60*ms, 3000, 7000, 10<<20), 40*us, 50*us),
			fig(100*us, 130*us, 20*ms, 60*ms, 3000, 7000, 10<<20)},
		"floor-defaults-no-store": {fig(110*us, 140*us, 20*ms, 60*ms, 3000, 6500, 12<<20), fig(120*us, 150*us, 20*ms, 60*ms, 3000, 6500, 12<<20)},
		controlKey:                {fig(110*us, 150*us, 21*ms, 66*ms, 3000, 6800, 10<<20), fig(100*us, 140*us, 20*ms, 72*ms, 3000, 6900, 10<<20)},
		"inlay-cached":            {fig(35*us, 35*us, 10*ms, 30*ms, 42000, 45000, 45<<20), fig(0, 35*us, 0, 28*ms, 0, 44000, 45<<20)},
		"floor-cached":            {fig(30*us, 30*us, 8*ms, 40*ms, 40000, 40000, 20<<20), fig(0, 30*us, 0, 35*ms, 0, 41000, 20<<20)},
	})
	md := renderRuns("the floor ran", results, checkRuns(results))
	wantInMarkdown(t, md,
		"ran 2 times",
		"| Inlay, no-store | 1 | 2,900 | 13.00 ms / 26.00 ms | 0.130 ms | 6,000 | 40.00 ms / 80.00 ms | 0.140 ms | 62.0 MiB | 0.50 |",
		"| **Inlay, no-store** | **median** | **2,850** | **12.50 ms / 25.00 ms** | **0.165 ms** |",
		"| Inlay, max-age=60 | 2 | – | – | – | 44,000 |",
		"| no-store CPU per page, Inlay / floor, 64 | 1.30 × | 2.00 × |",
		"| floor program with Inlay's defaults, no-store | 2 | 3,000 | 10.00 ms / 20.00 ms | 0.120 ms |",
		"| no-store CPU per page, Inlay / floor with defaults, 64 | 1.18 × | 1.67 × |",
		// user 80 / 40 and 84 / 50 µs, system 50 / 60 and 56 / 75: the
		// second run measured no user time.
		"| no-store user CPU per page, Inlay / floor, 64 | 2.00 × | – |",
		"| no-store user CPU per page, Inlay / floor, 256 | 1.68 × | – |",
		"| no-store system CPU per page, Inlay / floor, 64 | 0.83 × | – |",
		"| no-store system CPU per page, Inlay / floor, 256 | 0.75 × | – |",
		"| no-store CPU per page, floor with defaults / floor, 256 | 1.12 × | 1.15 × |",
		"Inlay's defaults cost the floor program, in CPU per page (the floor with defaults / the floor, medians of 2 and 2 runs): "+
			"0.115 ms / 0.100 ms = 1.15 × at 64 connections, 0.145 ms / 0.128 ms = 1.14 × at 256.",
		"| no-store: CPU per page ≤ 1.15 × the floor program's with Inlay's defaults, 64 connections | 0.165 ms / 0.115 ms = 1.43 × (medians of 2 and 2 runs) | **fail** |",
		"| cached req/s, Inlay / nginx, 256 | – | – |",
		"| cached p99, Inlay / floor stitched once, 256 | 0.75 × | 0.80 × |",
		"| cached p99, floor stitched once / nginx, 256 | – | – |",
		"| floor program, page stitched once, max-age=60 | 2 | – | – | – | 41,000 | 17.50 ms / 35.00 ms | 0.030 ms | 20.0 MiB |",
		"| floor program again, no-store (control) | 2 | 3,000 | 10.00 ms / 20.00 ms | 0.100 ms |",
		"| control: no-store CPU per page, floor again / floor, 256 | 1.20 × | 1.08 × |",
		"| control: no-store p99, floor again / floor, 256 | 1.10 × | 1.20 × |",
		"#### Targets, medians of 2 runs\n\nThe control, the same floor program run again right after it, came to "+
			"1.05 × in CPU per page and 1.02 × in p99 at 64 connections, and 1.14 × in CPU per page and 1.15 × in p99 at 256 connections (medians of 2 and 2 runs).",
		"| no-store: CPU per page ≤ 1.15 × the floor program's, 64 connections | 0.165 ms / 0.100 ms = 1.65 × (medians of 2 and 2 runs) | **fail** |",
	)
	if strings.Contains(md, "direct") {
		t.Errorf("the direct column has no runs of its own:\n%s", md)
	}
	// The targets against the floor with Inlay's defaults follow the bare
	// floor's and come before nginx's.
	var at []int
	for _, s := range []string{
		"| no-store: CPU per page ≤ 1.15 × the floor program's, 256 connections |",
		"| no-store: CPU per page ≤ 1.15 × the floor program's with Inlay's defaults, 64 connections |",
		"| no-store: CPU per page ≤ 1.15 × the floor program's with Inlay's defaults, 256 connections |",
		"| no-store: p99 ≤ 1.1 × nginx SSI's, 64 connections |",
	} {
		at = append(at, strings.Index(md, s))
	}
	if !slices.IsSorted(at) || at[0] < 0 {
		t.Errorf("the floor's targets are out of order (at %v):\n%s", at, md)
	}
	without := slices.DeleteFunc(slices.Clone(results), func(r *peerResult) bool { return r.Column.Key == "floor-defaults-no-store" })
	md = renderRuns("the floor ran", without, checkRuns(without))
	if strings.Contains(md, "Inlay's defaults cost") || strings.Contains(md, "with Inlay's defaults, no-store |") {
		t.Errorf("the floor with Inlay's defaults did not run, yet its figures are written:\n%s", md)
	}
	without = slices.DeleteFunc(slices.Clone(results), func(r *peerResult) bool { return r.Column.Key == controlKey })
	md = renderRuns("the floor ran", without, checkRuns(without))
	if strings.Contains(md, "The control") || strings.Contains(md, "(control) |") {
		t.Errorf("the control did not run, yet its figures are written:\n%s", md)
	}
}

// The control's sentence reads the two bare floors' medians, loop by loop,
// and says nothing of a loop either did not measure.
func TestControlSpread(t *testing.T) {
	us, ms := time.Microsecond, time.Millisecond
	floor := runsFixture(map[string][]runFigures{"floor-no-store": {fig(100*us, 120*us, 20*ms, 60*ms, 3000, 7000, 10<<20)}})
	again := runsFixture(map[string][]runFigures{controlKey: {fig(90*us, 144*us, 21*ms, 75*ms, 3000, 6000, 10<<20)}})
	only256 := runsFixture(map[string][]runFigures{controlKey: {fig(0, 132*us, 0, 54*ms, 0, 6000, 10<<20)}})
	m := func(rs []*peerResult) *runMedians {
		for _, v := range medians(rs) {
			return v
		}
		return nil
	}
	for _, tc := range []struct {
		name         string
		floor, again *runMedians
		want         string
	}{
		{"both loops", m(floor), m(again), "The control, the same floor program run again right after it, came to " +
			"0.90 × in CPU per page and 1.05 × in p99 at 64 connections, and 1.20 × in CPU per page and 1.25 × in p99 at 256 connections (medians of 1 and 1 runs). " +
			"A ratio below is the servers' only where it is further from the target than that from 1."},
		{"one loop", m(floor), m(only256), "The control, the same floor program run again right after it, came to " +
			"1.10 × in CPU per page and 0.90 × in p99 at 256 connections (medians of 1 and 1 runs). " +
			"A ratio below is the servers' only where it is further from the target than that from 1."},
		{"no control", m(floor), nil, ""},
		{"no floor", nil, m(again), ""},
	} {
		if got := controlSpread(tc.floor, tc.again); got != tc.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

func TestPeerLoopConns(t *testing.T) {
	col := func(key string) peerColumn {
		for _, c := range peerColumns {
			if c.Key == key {
				return c
			}
		}
		t.Fatalf("no column %s", key)
		return peerColumn{}
	}
	for _, tc := range []struct {
		key  string
		run  int
		want []int
	}{
		{"direct", 1, []int{64}},
		{"inlay-no-store", 1, []int{64, 256}},
		{"floor-no-store", 3, []int{64, 256}},
		{"floor-defaults-no-store", 2, []int{64, 256}},
		{controlKey, 2, []int{64, 256}},
		{"nginx-no-store", 2, []int{64, 256}},
		{"inlay-cached", 1, []int{64, 256}},
		{"nginx-cached", 2, []int{256}},
	} {
		if got := peerLoopConns(col(tc.key), tc.run); !slices.Equal(got, tc.want) {
			t.Errorf("%s, run %d: loops %v, want %v", tc.key, tc.run, got, tc.want)
		}
	}
}

func TestFirstRun(t *testing.T) {
	results := runsFixture(map[string][]runFigures{
		"direct":         {fig(0, 0, time.Millisecond, 0, 3000, 0, 0)},
		"inlay-no-store": {fig(1, 1, 1, 1, 1, 1, 1), fig(1, 1, 1, 1, 1, 1, 1), fig(1, 1, 1, 1, 1, 1, 1)},
	})
	first := firstRun(results)
	if len(first) != 2 || first[0].Column.Key != "direct" || first[1].Run != 1 {
		t.Errorf("first run: %d results", len(first))
	}
}

// TestPlainBuild: the benchmark refuses an Inlay binary linked with
// -ldflags (a -X of runtime.godebugDefault overwrites the GODEBUG
// defaults go build sets) and takes a plain go build's.
func TestPlainBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		flags []string
		plain bool
	}{
		{"plain", nil, true},
		{"ldflags", []string{"-ldflags=-X=runtime.godebugDefault=adaptivestackstart=0"}, false},
	} {
		bin := filepath.Join(dir, tc.name)
		args := append(append([]string{"build", "-o", bin}, tc.flags...), "./testdata/stackstart")
		if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
			t.Fatalf("go %v: %v\n%s", args, err, out)
		}
		if err := plainBuild(bin); (err == nil) != tc.plain {
			t.Errorf("%s: plainBuild = %v, want plain %t", tc.name, err, tc.plain)
		}
	}
}
