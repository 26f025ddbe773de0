package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Targets of the issue, for a 2-core machine.
const (
	targetLatencyRatio  = 1.05                   // no-store p50 ≤ this × direct p50
	targetCPUNoStore    = 100 * time.Microsecond // CPU per page, no-store
	targetCPUCacheable  = 50 * time.Microsecond  // CPU per page, cacheable
	targetPeakCacheable = 20000                  // pages/s at 256 connections, cacheable
	targetTTFBSlack     = time.Millisecond       // TTFB ≤ primary latency + this
	targetRSS           = 64 << 20               // peak RSS, bytes
)

// check is one target and how the run measured against it.
type check struct {
	Target   string
	Measured string
	Pass     bool
	Skipped  bool // not measured: what it compares with did not run
}

// checkTargets compares the results with the targets. Scenarios missing
// from byKey are skipped.
func checkTargets(byKey map[string]*result) []check {
	var cs []check
	direct, primary := byKey["direct"], byKey["direct-primary"]
	noStore, cacheable := byKey["no-store"], byKey["cacheable"]
	if noStore != nil && direct != nil && direct.Open.Latency.P50 > 0 {
		ratio := float64(noStore.Open.Latency.P50) / float64(direct.Open.Latency.P50)
		cs = append(cs, check{
			Target:   fmt.Sprintf("no-store: p50 page latency ≤ %.2f × direct (%s)", targetLatencyRatio, direct.Scenario.Fragment),
			Measured: fmt.Sprintf("%s / %s = %.3f ×", fmtMs(noStore.Open.Latency.P50), fmtMs(direct.Open.Latency.P50), ratio),
			Pass:     ratio <= targetLatencyRatio,
		})
	}
	if noStore != nil {
		cs = append(cs, check{
			Target:   "no-store: CPU per page ≤ " + fmtCPU(targetCPUNoStore),
			Measured: fmtCPU(noStore.CPUPeak) + " (peak run)",
			Pass:     noStore.CPUPeak <= targetCPUNoStore,
		})
	}
	if cacheable != nil {
		cs = append(cs,
			check{
				Target:   fmt.Sprintf("cacheable: ≥ %s pages/s at %d connections", fmtInt(targetPeakCacheable), cacheable.Peak.Conns),
				Measured: fmtInt(int64(cacheable.Peak.RPS)) + " pages/s",
				Pass:     cacheable.Peak.RPS >= targetPeakCacheable && cacheable.Peak.Errors == 0,
			},
			check{
				Target:   "cacheable: CPU per page ≤ " + fmtCPU(targetCPUCacheable),
				Measured: fmtCPU(cacheable.CPUPeak) + " (peak run)",
				Pass:     cacheable.CPUPeak <= targetCPUCacheable,
			})
	}
	for _, r := range []*result{noStore, cacheable} {
		if r == nil || primary == nil {
			continue
		}
		limit := primary.TTFB.P50 + targetTTFBSlack
		cs = append(cs, check{
			Target:   fmt.Sprintf("%s: TTFB p50 ≤ primary (%s direct TTFB p50) + %s", r.Scenario.Key, primary.Scenario.Fragment, fmtMs(targetTTFBSlack)),
			Measured: fmt.Sprintf("%s (limit %s)", fmtMs(r.TTFB.P50), fmtMs(limit)),
			Pass:     r.TTFB.P50 <= limit,
		})
	}
	for _, r := range []*result{noStore, cacheable} {
		if r == nil {
			continue
		}
		cs = append(cs, check{
			Target:   fmt.Sprintf("%s: peak RSS ≤ %s at %d connections", r.Scenario.Key, fmtMiB(targetRSS), r.Peak.Conns),
			Measured: fmtMiB(r.PeakRSS),
			Pass:     r.PeakRSS <= targetRSS,
		})
	}
	return cs
}

// machine describes where the run happened.
type machine struct {
	CPUs      int
	CPUModel  string
	GoVersion string
	Kernel    string
	Generator string // closed-loop generator: wrk's version or "Go"
	Date      time.Time
	LoadAvg   string // 1-, 5- and 15-minute load averages before the run
	LoadAfter string // the same after the run
	Revision  string // the measured Inlay's commit
	Cores     string // how the servers and the load shared the cores (-pin)
}

// renderMarkdown returns the results and targets tables.
func renderMarkdown(m machine, cfg benchConfig, results []*result, checks []check) string {
	var b strings.Builder
	b.WriteString("### Latest run\n\n")
	fmt.Fprintf(&b, "Inlay %s, run on %s: %d × %s, %s, Linux %s; closed loop by %s. "+
		"Load average (1, 5, 15 minutes, as `uptime` shows it) %s before the run and %s after it, the run's own load included: the machine is shared, and other work skews the figures.",
		m.Revision, m.Date.UTC().Format("2006-01-02 15:04 UTC"), m.CPUs, m.CPUModel, m.GoVersion, m.Kernel, m.Generator, m.LoadAvg, m.LoadAfter)
	if m.Cores != "" {
		b.WriteString(" " + m.Cores)
	}
	b.WriteString("\n\n")
	if len(results) == 0 {
		return b.String()
	}
	b.WriteString("### A service per fragment\n\n")
	fmt.Fprintf(&b, "Open loop: vegeta at %d req/s for %s after a %s warm-up. TTFB: %d sequential requests on one connection. "+
		"Peak: closed loop, %d connections for %s. CPU and RSS are the `inlay serve` process's own. Inlay fetches the fragments over %s.\n\n",
		cfg.Rate, cfg.Duration, cfg.Warmup, cfg.TTFBRequests, cfg.Conns, cfg.Duration, upstreamProtocol(cfg))

	row := newColumns(&b, results, func(r *result) string { return r.Scenario.Title }).row
	proc := func(f func(r *result) string) func(r *result) string {
		return func(r *result) string {
			if !r.HasProc {
				return "–"
			}
			return f(r)
		}
	}
	rate := strconv.Itoa(cfg.Rate) + " req/s"
	row("response size", func(r *result) string { return fmtInt(int64(r.PageBytes)) + " B" })
	row("latency p50 at "+rate, func(r *result) string { return fmtMs(r.Open.Latency.P50) })
	row("latency p90 at "+rate, func(r *result) string { return fmtMs(r.Open.Latency.P90) })
	row("latency p99 at "+rate, func(r *result) string { return fmtMs(r.Open.Latency.P99) })
	row("failed at "+rate, func(r *result) string {
		return fmt.Sprintf("%d / %s", r.Open.Failed, fmtInt(int64(r.Open.OK+r.Open.Failed)))
	})
	row("time to first byte p50", func(r *result) string { return fmtMs(r.TTFB.P50) })
	row("time to first byte p99", func(r *result) string { return fmtMs(r.TTFB.P99) })
	row(fmt.Sprintf("peak req/s, %d connections", cfg.Conns), func(r *result) string { return fmtInt(int64(r.Peak.RPS)) })
	row("latency p50 / p99 at peak", func(r *result) string { return fmtMs(r.Peak.P50) + " / " + fmtMs(r.Peak.P99) })
	row("errors at peak", func(r *result) string { return fmtInt(r.Peak.Errors) })
	row("CPU per page at "+rate, proc(func(r *result) string { return fmtCPU(r.CPUOpen) }))
	row("CPU per page at peak", proc(func(r *result) string { return fmtCPU(r.CPUPeak) }))
	row("peak RSS (VmHWM)", proc(func(r *result) string { return fmtMiB(r.PeakRSS) }))
	row("upstream fetches per page", func(r *result) string { return strconv.FormatFloat(r.UpstreamPerPage, 'f', 2, 64) })

	b.WriteString("\n#### Targets, a service per fragment\n\n")
	writeChecks(&b, checks)
	return b.String()
}

// upstreamProtocol names how Inlay talks to the fragment services.
func upstreamProtocol(cfg benchConfig) string {
	if cfg.H2C {
		return "h2c (HTTP/2 without TLS, `h2c: true`)"
	}
	return "HTTP/1.1"
}

func fmtMs(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}

func fmtCPU(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64) + " ms"
}

func fmtMiB(n int64) string {
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}

// fmtInt writes n with thousands separators: 20,000.
func fmtInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Markers around the generated part of docs/benchmarks.md; the text above
// them is written by hand and kept.
const (
	beginMarker = "<!-- loadbench:begin: generated by `make loadbench`, edit above this line -->"
	endMarker   = "<!-- loadbench:end -->"
)

// spliceReport puts report between the markers of doc, keeping what is
// around them, or appends it with the markers when doc has none.
func spliceReport(doc, report string) string {
	section := beginMarker + "\n\n" + strings.TrimSpace(report) + "\n\n" + endMarker + "\n"
	i := strings.Index(doc, beginMarker)
	if i < 0 {
		if doc = strings.TrimRight(doc, "\n"); doc != "" {
			doc += "\n\n"
		}
		return doc + section
	}
	after := ""
	if j := strings.Index(doc[i:], endMarker); j >= 0 {
		after = strings.TrimPrefix(doc[i+j+len(endMarker):], "\n")
	}
	return doc[:i] + section + after
}

// spliceFile rewrites the file at path as splice makes its text (empty
// when there is no file yet), creating it if need be.
func spliceFile(path string, splice func(doc string) string) error {
	doc, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if err := os.WriteFile(path, []byte(splice(string(doc))), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// cpuModel returns the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.Lines(string(data)) {
		if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown CPU"
}

// kernel returns the running kernel's release.
func kernel() string {
	data, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(data))
}

// loadAvg returns the 1-, 5- and 15-minute load averages, as in
// "0.52, 0.61, 0.70": other work on the machine skews every figure.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}
