package main

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Targets of the repeated side-by-side runs, each checked on the medians
// of the runs: a single run on a shared machine moves by more than the
// margins.
const (
	targetRunsCPUFloor   = 1.15 // no-store CPU per page ≤ this × the floor program's, bare and with Inlay's defaults, every loop
	targetRunsP99NoStore = 1.1  // no-store p99 ≤ this × nginx SSI's, every loop
	targetRunsRPSCached  = 1.5  // cached req/s ≥ this × nginx's, last loop
	targetRunsP99Cached  = 1.0  // cached p99 ≤ this × nginx's, and × the floor's with the page stitched once, last loop
)

// runMedians are the medians of one column's runs, loop by loop: a loop
// a run did not measure does not count.
type runMedians struct {
	Runs       int
	Loops      map[int]int // runs that measured each loop, by connections
	CPUPerPage map[int]time.Duration
	P50, P99   map[int]time.Duration
	RPS        map[int]float64
	RSSPeak    int64 // VmHWM after the closed loops
}

// median returns the median of xs, the mean of the middle two when their
// number is even, or zero for none. xs is sorted in place.
func median[T int64 | float64 | time.Duration](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// medians returns each column's medians over its runs, by column key.
func medians(results []*peerResult) map[string]*runMedians {
	byKey := map[string][]*peerResult{}
	for _, r := range results {
		byKey[r.Column.Key] = append(byKey[r.Column.Key], r)
	}
	out := map[string]*runMedians{}
	for key, rs := range byKey {
		m := &runMedians{Runs: len(rs), Loops: map[int]int{}, CPUPerPage: map[int]time.Duration{},
			P50: map[int]time.Duration{}, P99: map[int]time.Duration{}, RPS: map[int]float64{}}
		var rss []int64
		for _, r := range rs {
			rss = append(rss, r.RSSPeak)
		}
		m.RSSPeak = median(rss)
		for _, c := range peerConns {
			var cpu, p50, p99 []time.Duration
			var rps []float64
			for _, r := range rs {
				if l := r.Loops[c]; l != nil {
					cpu, rps = append(cpu, l.CPUPerPage), append(rps, l.RPS)
					p50, p99 = append(p50, l.P50), append(p99, l.P99)
				}
			}
			if len(rps) == 0 {
				continue
			}
			m.Loops[c] = len(rps)
			m.CPUPerPage[c], m.RPS[c] = median(cpu), median(rps)
			m.P50[c], m.P99[c] = median(p50), median(p99)
		}
		out[key] = m
	}
	return out
}

// checkRuns compares the medians of the repeated runs with their targets.
// A target whose peer (the floor, bare or with Inlay's defaults, or nginx)
// did not run is reported as not measured.
func checkRuns(results []*peerResult) []check {
	m := medians(results)
	last := peerConns[len(peerConns)-1]
	var cs []check
	ratio := func(target, peer string, a, p *runMedians, c int, value func(*runMedians, int) float64, text func(float64) string,
		pass func(a, p float64) bool) {
		if a == nil || a.Loops[c] == 0 {
			return
		}
		if p == nil || p.Loops[c] == 0 {
			cs = append(cs, check{Target: target, Measured: peer + " did not run", Skipped: true})
			return
		}
		x, y := value(a, c), value(p, c)
		cs = append(cs, check{
			Target:   target,
			Measured: fmt.Sprintf("%s (medians of %d and %d runs)", ratioText(text(x), text(y), x, y), a.Loops[c], p.Loops[c]),
			Pass:     y > 0 && pass(x, y),
		})
	}
	cpu := func(r *runMedians, c int) float64 { return float64(r.CPUPerPage[c]) }
	p99 := func(r *runMedians, c int) float64 { return float64(r.P99[c]) }
	rps := func(r *runMedians, c int) float64 { return r.RPS[c] }
	cpuText := func(x float64) string { return fmtCPU(time.Duration(x)) }
	msText := func(x float64) string { return fmtMs(time.Duration(x)) }
	rpsText := func(x float64) string { return fmtInt(int64(x)) }

	inlayNS, floorNS, floorDNS, nginxNS := m["inlay-no-store"], m["floor-no-store"], m["floor-defaults-no-store"], m["nginx-no-store"]
	inlayC, floorC, nginxC := m["inlay-cached"], m["floor-cached"], m["nginx-cached"]
	for _, c := range peerConns {
		ratio(fmt.Sprintf("no-store: CPU per page ≤ %.2f × the floor program's, %d connections", targetRunsCPUFloor, c),
			"the floor program", inlayNS, floorNS, c, cpu, cpuText, func(a, p float64) bool { return a <= targetRunsCPUFloor*p })
	}
	for _, c := range peerConns {
		ratio(fmt.Sprintf("no-store: CPU per page ≤ %.2f × the floor program's with Inlay's defaults, %d connections", targetRunsCPUFloor, c),
			"the floor program with Inlay's defaults", inlayNS, floorDNS, c, cpu, cpuText, func(a, p float64) bool { return a <= targetRunsCPUFloor*p })
	}
	for _, c := range peerConns {
		ratio(fmt.Sprintf("no-store: p99 ≤ %.1f × nginx SSI's, %d connections", targetRunsP99NoStore, c),
			"nginx", inlayNS, nginxNS, c, p99, msText, func(a, p float64) bool { return a <= targetRunsP99NoStore*p })
	}
	ratio(fmt.Sprintf("cached: req/s ≥ %.1f × nginx SSI's, %d connections", targetRunsRPSCached, last),
		"nginx", inlayC, nginxC, last, rps, rpsText, func(a, p float64) bool { return a >= targetRunsRPSCached*p })
	ratio(fmt.Sprintf("cached: p99 ≤ nginx SSI's, %d connections", last),
		"nginx", inlayC, nginxC, last, p99, msText, func(a, p float64) bool { return a <= targetRunsP99Cached*p })
	ratio(fmt.Sprintf("cached: p99 ≤ the floor program's, the page stitched once, %d connections", last),
		"the floor program", inlayC, floorC, last, p99, msText, func(a, p float64) bool { return a <= targetRunsP99Cached*p })
	if inlayNS != nil {
		cs = append(cs, check{
			Target:   fmt.Sprintf("no-store: peak RSS ≤ %s, %d connections", fmtMiB(targetRSS), last),
			Measured: fmt.Sprintf("%s (%d runs)", fmtMiB(inlayNS.RSSPeak), inlayNS.Runs),
			Pass:     inlayNS.RSSPeak <= targetRSS,
		})
	}
	return cs
}

// firstRun returns the results of the first run, the side-by-side table's.
func firstRun(results []*peerResult) []*peerResult {
	var out []*peerResult
	for _, r := range results {
		if r.Run <= 1 {
			out = append(out, r)
		}
	}
	return out
}

// renderRuns returns the section of the repeated runs: every run's
// figures, column by column, with the medians, what Inlay's defaults cost
// the floor program on the medians, then each run's ratios, then the
// targets checked on the medians.
func renderRuns(floor string, results []*peerResult, checks []check) string {
	var b strings.Builder
	runs := 0
	for _, r := range results {
		runs = max(runs, r.Run)
	}
	med := medians(results)
	b.WriteString("### One service, run after run: Inlay, the floor program and nginx SSI\n\n")
	fmt.Fprintf(&b, "The server columns of the table above ran %d times, a run of each after the other (Inlay, the floor, the floor again as the control, the floor with Inlay's defaults, "+
		"nginx, then Inlay, the floor with the page stitched once and nginx cached, and again), each run with a fresh stub service and a fresh server process, the same warm-up and closed loops; "+
		"the cached columns' later runs measure %d connections only, and only the first run has the burst. "+
		"Load is the machine's 1-minute load average as the run started, the benchmark's own earlier runs included. "+
		"%s. The targets are checked on the medians of the runs.%s\n\n", runs, peerConns[len(peerConns)-1], floor,
		defaultsCost(med["floor-no-store"], med["floor-defaults-no-store"]))

	var cols []peerColumn
	for _, col := range peerColumns {
		if col.Server != serverDirect && slices.ContainsFunc(results, func(r *peerResult) bool { return r.Column.Key == col.Key }) {
			cols = append(cols, col)
		}
	}
	b.WriteString("| | run |")
	for _, c := range peerConns {
		fmt.Fprintf(&b, " req/s, %d | p50 / p99, %d | CPU per page, %d |", c, c, c)
	}
	b.WriteString(" peak RSS | load |\n|---|---:|")
	b.WriteString(strings.Repeat("---:|", 3*len(peerConns)+2))
	b.WriteString("\n")
	for _, col := range cols {
		rs := slices.DeleteFunc(slices.Clone(results), func(r *peerResult) bool { return r.Column.Key != col.Key })
		slices.SortFunc(rs, func(x, y *peerResult) int { return cmp.Compare(x.Run, y.Run) })
		for _, r := range rs {
			fmt.Fprintf(&b, "| %s | %d |", col.Title, r.Run)
			for _, c := range peerConns {
				if l := r.Loops[c]; l != nil {
					fmt.Fprintf(&b, " %s | %s / %s | %s |", fmtInt(int64(l.RPS)), fmtMs(l.P50), fmtMs(l.P99), fmtCPU(l.CPUPerPage))
				} else {
					b.WriteString(" – | – | – |")
				}
			}
			fmt.Fprintf(&b, " %s | %s |\n", fmtMiB(r.RSSPeak), r.Load)
		}
		m := med[col.Key]
		fmt.Fprintf(&b, "| **%s** | **median** |", col.Title)
		for _, c := range peerConns {
			if m.Loops[c] == 0 {
				b.WriteString(" – | – | – |")
				continue
			}
			fmt.Fprintf(&b, " **%s** | **%s / %s** | **%s** |", fmtInt(int64(m.RPS[c])), fmtMs(m.P50[c]), fmtMs(m.P99[c]), fmtCPU(m.CPUPerPage[c]))
		}
		fmt.Fprintf(&b, " **%s** | |\n", fmtMiB(m.RSSPeak))
	}

	b.WriteString("\n#### Ratios, run by run\n\n")
	writeRunRatios(&b, results, runs)
	fmt.Fprintf(&b, "\n#### Targets, medians of %d runs\n\n", runs)
	if spread := controlSpread(med["floor-no-store"], med[controlKey]); spread != "" {
		b.WriteString(spread + "\n\n")
	}
	writeChecks(&b, checks)
	return b.String()
}

// defaultsCost says what Inlay's defaults cost the floor program: the
// medians of its CPU per page with -defaults to those of the bare floor,
// at each loop; "" when either did not run.
func defaultsCost(floor, withDefaults *runMedians) string {
	at := bothLoops(withDefaults, floor, func(c int) string {
		x, y := withDefaults.CPUPerPage[c], floor.CPUPerPage[c]
		conns := fmt.Sprint(c)
		if c == peerConns[0] {
			conns += " connections"
		}
		return fmt.Sprintf("%s at %s", ratioText(fmtCPU(x), fmtCPU(y), float64(x), float64(y)), conns)
	})
	if len(at) == 0 {
		return ""
	}
	return fmt.Sprintf(" Inlay's defaults cost the floor program, in CPU per page (the floor with defaults / the floor, medians of %d and %d runs): %s.",
		withDefaults.Runs, floor.Runs, strings.Join(at, ", "))
}

// controlSpread says how far apart the bare floor's two columns came, on
// the medians of their runs: the same program twice, so what this run
// cannot tell apart. "" when the control did not run.
func controlSpread(floor, again *runMedians) string {
	at := bothLoops(again, floor, func(c int) string {
		return fmt.Sprintf("%.2f × in CPU per page and %.2f × in p99 at %d connections",
			float64(again.CPUPerPage[c])/float64(floor.CPUPerPage[c]), float64(again.P99[c])/float64(floor.P99[c]), c)
	})
	if len(at) == 0 {
		return ""
	}
	return fmt.Sprintf("The control, the same floor program run again right after it, came to %s (medians of %d and %d runs). "+
		"A ratio below is the servers' only where it is further from the target than that from 1.", strings.Join(at, ", and "), again.Runs, floor.Runs)
}

// bothLoops returns what say says of each loop that a and its peer p
// both measured, p's CPU per page and p99 not zero (say divides by
// them); nil when either did not run.
func bothLoops(a, p *runMedians, say func(conns int) string) []string {
	if a == nil || p == nil {
		return nil
	}
	var out []string
	for _, c := range peerConns {
		if a.Loops[c] > 0 && p.Loops[c] > 0 && p.CPUPerPage[c] > 0 && p.P99[c] > 0 {
			out = append(out, say(c))
		}
	}
	return out
}

// writeRunRatios writes a table of each run's ratios: Inlay's no-store
// CPU per page to the floor's, bare and with Inlay's defaults, then its
// user and its system time per page to the bare floor's, the floor's
// with defaults to the bare floor's, Inlay's no-store p99 to nginx's, the
// control's CPU per page and p99 to the bare floor's, Inlay's
// cached req/s and p99 to nginx's, its cached p99 to the floor's with the
// page stitched once, and that floor's to nginx's, each within the run.
func writeRunRatios(b *strings.Builder, results []*peerResult, runs int) {
	at := func(key string, run, conns int) *peerLoop {
		for _, r := range results {
			if r.Column.Key == key && r.Run == run {
				return r.Loops[conns]
			}
		}
		return nil
	}
	type ratio struct {
		title    string
		a, p     string
		conns    int
		quantity func(*peerLoop) float64
	}
	cpu := func(l *peerLoop) float64 { return float64(l.CPUPerPage) }
	p99 := func(l *peerLoop) float64 { return float64(l.P99) }
	last := peerConns[len(peerConns)-1]
	var ratios []ratio
	// add adds the ratio of a's quantity to p's, titled "title, conns", at
	// each of conns.
	add := func(title, a, p string, quantity func(*peerLoop) float64, conns ...int) {
		for _, c := range conns {
			ratios = append(ratios, ratio{fmt.Sprintf("%s, %d", title, c), a, p, c, quantity})
		}
	}
	// Where the CPU goes: Inlay's own code (user time) or the kernel's
	// work for its sockets (system time).
	user := func(l *peerLoop) float64 { return float64(l.UserPerPage) }
	system := func(l *peerLoop) float64 {
		if l.UserPerPage == 0 {
			return 0 // not measured
		}
		return float64(l.CPUPerPage - l.UserPerPage)
	}
	add("no-store CPU per page, Inlay / floor", "inlay-no-store", "floor-no-store", cpu, peerConns...)
	add("no-store CPU per page, Inlay / floor with defaults", "inlay-no-store", "floor-defaults-no-store", cpu, peerConns...)
	add("no-store user CPU per page, Inlay / floor", "inlay-no-store", "floor-no-store", user, peerConns...)
	add("no-store system CPU per page, Inlay / floor", "inlay-no-store", "floor-no-store", system, peerConns...)
	add("no-store CPU per page, floor with defaults / floor", "floor-defaults-no-store", "floor-no-store", cpu, peerConns...)
	add("no-store p99, Inlay / nginx", "inlay-no-store", "nginx-no-store", p99, peerConns...)
	add("control: no-store CPU per page, floor again / floor", controlKey, "floor-no-store", cpu, peerConns...)
	add("control: no-store p99, floor again / floor", controlKey, "floor-no-store", p99, peerConns...)
	add("cached req/s, Inlay / nginx", "inlay-cached", "nginx-cached", func(l *peerLoop) float64 { return l.RPS }, last)
	add("cached p99, Inlay / nginx", "inlay-cached", "nginx-cached", p99, last)
	add("cached p99, Inlay / floor stitched once", "inlay-cached", "floor-cached", p99, last)
	add("cached p99, floor stitched once / nginx", "floor-cached", "nginx-cached", p99, last)

	numbers := make([]int, runs)
	for i := range numbers {
		numbers[i] = i + 1
	}
	row := newColumns(b, numbers, func(run int) string { return fmt.Sprintf("run %d", run) }).row
	for _, q := range ratios {
		row(q.title, func(run int) string {
			a, p := at(q.a, run, q.conns), at(q.p, run, q.conns)
			if a == nil || p == nil || q.quantity(p) == 0 {
				return "–"
			}
			return fmt.Sprintf("%.2f ×", q.quantity(a)/q.quantity(p))
		})
	}
}
