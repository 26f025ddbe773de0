package main

import (
	"fmt"
	"strings"
	"time"
)

// Targets of the side-by-side comparison.
const (
	targetPeerLatencyRatio = 1.05 // no-store p50 ≤ this × the direct slowest fragment's, first loop
	targetPeerCPUNoStore   = 1.0  // no-store CPU per page ≤ this × nginx's, first loop
	targetPeerRPSCached    = 1.1  // cached req/s ≥ this × nginx's, last loop
	targetPeerCPUCached    = 1.0  // cached CPU per page ≤ this × nginx's, last loop
)

// checkPeers compares the side-by-side results with their targets. A
// target against nginx is reported as not measured when nginx did not run.
func checkPeers(results []*peerResult) []check {
	by := map[string]*peerResult{}
	for _, r := range results {
		by[r.Column.Key] = r
	}
	first, last := peerConns[0], peerConns[len(peerConns)-1]
	direct, inlayNS, nginxNS := by["direct"], by["inlay-no-store"], by["nginx-no-store"]
	inlayC, nginxC := by["inlay-cached"], by["nginx-cached"]
	var cs []check
	noNginx := func(target string) check {
		return check{Target: target, Measured: "nginx not installed", Skipped: true}
	}

	if inlayNS != nil {
		target := fmt.Sprintf("no-store: CPU per page ≤ %.1f × nginx SSI's, %d connections", targetPeerCPUNoStore, first)
		if nginxNS == nil {
			cs = append(cs, noNginx(target))
		} else {
			a, n := inlayNS.Loops[first].CPUPerPage, nginxNS.Loops[first].CPUPerPage
			cs = append(cs, check{Target: target, Measured: ratioText(fmtCPU(a), fmtCPU(n), float64(a), float64(n)),
				Pass: n > 0 && float64(a) <= targetPeerCPUNoStore*float64(n)})
		}
	}
	if inlayNS != nil && direct != nil {
		a, d := inlayNS.Loops[first].P50, direct.Loops[first].P50
		cs = append(cs, check{
			Target:   fmt.Sprintf("no-store: p50 ≤ %.2f × direct %s, %d connections", targetPeerLatencyRatio, slowest().Name, first),
			Measured: ratioText(fmtMs(a), fmtMs(d), float64(a), float64(d)),
			Pass:     d > 0 && float64(a) <= targetPeerLatencyRatio*float64(d),
		})
	}
	for _, r := range []*peerResult{inlayNS, inlayC} {
		if r == nil {
			continue
		}
		kind := strings.TrimPrefix(r.Column.Key, "inlay-")
		for _, c := range peerConns {
			l := r.Loops[c]
			cs = append(cs, check{
				Target:   fmt.Sprintf("%s: 0 errors, 0 non-200 and 0 incomplete pages, %d connections", kind, c),
				Measured: fmt.Sprintf("%s / %s / %s of %s", fmtInt(l.Errors), fmtInt(l.Non200), fmtInt(l.Incomplete), fmtInt(l.Requests)),
				Pass:     l.Checked && l.Requests > 0 && l.Errors == 0 && l.Non200 == 0 && l.Incomplete == 0,
			})
		}
		if br := r.Burst; br != nil {
			cs = append(cs, check{
				Target:   fmt.Sprintf("%s: burst of %s loads, 0 failed, 0 non-200 and 0 incomplete pages", kind, fmtInt(int64(br.N))),
				Measured: fmt.Sprintf("%s / %s / %s", fmtInt(int64(br.Failed)), fmtInt(int64(br.Non200)), fmtInt(int64(br.Incomplete))),
				Pass:     br.OK == br.N,
			})
		}
	}
	if inlayNS != nil {
		cs = append(cs, check{
			Target:   fmt.Sprintf("no-store: peak RSS ≤ %s, %d connections", fmtMiB(targetRSS), last),
			Measured: fmtMiB(inlayNS.RSSPeak),
			Pass:     inlayNS.RSSPeak <= targetRSS,
		})
	}
	if inlayC != nil {
		target := fmt.Sprintf("cached: req/s ≥ %.1f × nginx SSI's, %d connections", targetPeerRPSCached, last)
		if nginxC == nil {
			cs = append(cs, noNginx(target))
		} else {
			a, n := inlayC.Loops[last].RPS, nginxC.Loops[last].RPS
			cs = append(cs, check{Target: target, Measured: ratioText(fmtInt(int64(a)), fmtInt(int64(n)), a, n),
				Pass: n > 0 && a >= targetPeerRPSCached*n})
		}
		target = fmt.Sprintf("cached: CPU per page ≤ nginx SSI's, %d connections", last)
		if nginxC == nil {
			cs = append(cs, noNginx(target))
		} else {
			a, n := inlayC.Loops[last].CPUPerPage, nginxC.Loops[last].CPUPerPage
			cs = append(cs, check{Target: target, Measured: ratioText(fmtCPU(a), fmtCPU(n), float64(a), float64(n)),
				Pass: n > 0 && float64(a) <= targetPeerCPUCached*float64(n)})
		}
	}
	return cs
}

// ratioText writes "a / b = r ×".
func ratioText(a, b string, x, y float64) string {
	if y == 0 {
		return a + " / " + b
	}
	return fmt.Sprintf("%s / %s = %.2f ×", a, b, x/y)
}

// renderPeers returns the side-by-side tables.
func renderPeers(cfg benchConfig, pc peerConfig, nginx string, results []*peerResult, checks []check) string {
	var b strings.Builder
	b.WriteString("### One service: Inlay and nginx SSI side by side\n\n")
	fmt.Fprintf(&b, "One team service serves the four fragments from one listener. Closed loops of %s each, after a %s warm-up at %d connections, "+
		"every page checked for a 200 and the four fragments in order; then a burst of %s page loads started at once, each on its own connection. "+
		"Inlay runs its default config. %s. CPU and RSS are the server's own: Inlay's process, the floor program's, or nginx's master and workers summed.",
		cfg.Duration, cfg.Warmup, peerConns[0], fmtInt(int64(pc.Burst)), nginx)
	if pc.Runs > 1 {
		fmt.Fprintf(&b, " These are the first of %d runs; the next section has them all.", pc.Runs)
	}
	b.WriteString("\n\n")

	row := newColumns(&b, results, func(r *peerResult) string { return r.Column.Title }).row
	loop := func(c int, f func(l *peerLoop) string) func(r *peerResult) string {
		return func(r *peerResult) string {
			l := r.Loops[c]
			if l == nil {
				return "–"
			}
			return f(l)
		}
	}
	proc := func(f func(r *peerResult) string) func(r *peerResult) string {
		return func(r *peerResult) string {
			if !r.HasProc {
				return "–"
			}
			return f(r)
		}
	}
	row("response size", func(r *peerResult) string { return fmtInt(int64(r.PageBytes)) + " B" })
	for _, c := range peerConns {
		at := fmt.Sprintf(", %d connections", c)
		row("req/s"+at, loop(c, func(l *peerLoop) string { return fmtInt(int64(l.RPS)) }))
		row("latency p50 / p99"+at, loop(c, func(l *peerLoop) string { return fmtMs(l.P50) + " / " + fmtMs(l.P99) }))
		row("errors / non-200 / incomplete"+at, loop(c, func(l *peerLoop) string {
			if !l.Checked {
				return fmtInt(l.Errors) + " / ? / ?"
			}
			return fmt.Sprintf("%s / %s / %s of %s", fmtInt(l.Errors), fmtInt(l.Non200), fmtInt(l.Incomplete), fmtInt(l.Requests))
		}))
		row("CPU per page"+at, proc(loop(c, func(l *peerLoop) string { return fmtCPU(l.CPUPerPage) })))
		row("upstream fetches per page"+at, loop(c, func(l *peerLoop) string { return fmt.Sprintf("%.2f", l.UpstreamPerPage) }))
	}
	row(fmt.Sprintf("peak RSS (VmHWM) after %d connections", peerConns[len(peerConns)-1]), proc(func(r *peerResult) string { return fmtMiB(r.RSSPeak) }))
	burstRow := func(name string, f func(br *burstResult) string) {
		row(name, func(r *peerResult) string {
			if r.Burst == nil {
				return "–"
			}
			return f(r.Burst)
		})
	}
	burstRow(fmt.Sprintf("burst of %s: failed / non-200 / incomplete", fmtInt(int64(pc.Burst))), func(br *burstResult) string {
		return fmt.Sprintf("%s / %s / %s", fmtInt(int64(br.Failed)), fmtInt(int64(br.Non200)), fmtInt(int64(br.Incomplete)))
	})
	burstRow("burst: latency p50 / max", func(br *burstResult) string { return fmtMs(br.Latency.P50) + " / " + fmtMs(br.Latency.Max) })
	row("peak RSS (VmHWM) after the burst", proc(func(r *peerResult) string {
		if r.Burst == nil {
			return "–"
		}
		return fmtMiB(r.RSSBurst)
	}))

	b.WriteString("\n#### Targets, side by side\n\n")
	writeChecks(&b, checks)
	return b.String()
}

// writeChecks writes a targets table.
func writeChecks(b *strings.Builder, checks []check) {
	b.WriteString("| target | measured | |\n|---|---|---|\n")
	for _, c := range checks {
		verdict := "**fail**"
		switch {
		case c.Skipped:
			verdict = "not measured"
		case c.Pass:
			verdict = "pass"
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", c.Target, c.Measured, verdict)
	}
}

// peerBudget bounds the side-by-side run: each column's warm-up, loops,
// burst and process start, in every run.
func peerBudget(cfg benchConfig, pc peerConfig) time.Duration {
	return time.Duration(len(peerColumns)*max(pc.Runs, 1)) * (cfg.Warmup + time.Duration(len(peerConns))*cfg.Duration + pc.Timeout + 30*time.Second)
}
