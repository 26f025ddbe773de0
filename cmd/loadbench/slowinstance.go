package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// slowKey names the slow-instance scenario in -scenarios.
const slowKey = "slow-instance"

// The slow-instance scenario: the page of four no-store fragments from one
// team service that runs as four instances, each on its own loopback
// address, one of them answering ten times slower than its siblings.
// Inlay is given the four as the service's endpoints; nginx SSI, as the
// servers of an upstream block (its default round robin). It measures the
// issue's promise that Inlay's choice of instance (peak-EWMA over two
// random instances) keeps the page's tail away from the slow one.
const (
	// slowInstances is how many instances the service runs.
	slowInstances = 4
	// slowIndex is the slow instance's index: the last, 127.0.0.5.
	slowIndex = slowInstances - 1
	// slowFactor multiplies each fragment's service time on the slow
	// instance.
	slowFactor = 10
	// slowConns are the closed loop's connections.
	slowConns = 64
	// targetSlowP99Ratio is how many times lower than nginx SSI's
	// Inlay's p99 must be.
	targetSlowP99Ratio = 3.0
	// targetSlowShare is the most of Inlay's fetches the slow instance
	// may get.
	targetSlowShare = 0.05
)

// instanceHost returns the loopback address of instance i: 127.0.0.2,
// 127.0.0.3, and so on (Linux routes all of 127.0.0.0/8 to loopback).
func instanceHost(i int) string { return fmt.Sprintf("127.0.0.%d", i+2) }

// instanceSet is the team service's instances, each a one-service stub
// on its own loopback address, counting the fetches it answers.
type instanceSet struct {
	stubs []*stub
}

// startInstances starts slowInstances instances of the one team service,
// answering with cacheControl, the one at slowIndex slowFactor times
// slower than the others.
func startInstances(cacheControl string, logger *slog.Logger) (*instanceSet, error) {
	set := &instanceSet{}
	for i := range slowInstances {
		slowdown := 1
		if i == slowIndex {
			slowdown = slowFactor
		}
		st, err := startStubOn(instanceHost(i), slowdown, cacheControl, false, true, logger)
		if err != nil {
			set.Close()
			return nil, fmt.Errorf("instance %d: %w", i+1, err)
		}
		set.stubs = append(set.stubs, st)
	}
	return set, nil
}

// URLs returns the base URLs of the instances, in order.
func (s *instanceSet) URLs() []string {
	var out []string
	for _, st := range s.stubs {
		out = append(out, st.Services[oneServiceName])
	}
	return out
}

// Addrs returns the host:ports of the instances, in order.
func (s *instanceSet) Addrs() []string {
	var out []string
	for _, st := range s.stubs {
		out = append(out, st.Addr(oneServiceName))
	}
	return out
}

// Fetches returns how many fragment requests each instance has answered.
func (s *instanceSet) Fetches() []int64 {
	var out []int64
	for _, st := range s.stubs {
		out = append(out, st.Fetches())
	}
	return out
}

// Close stops every instance.
func (s *instanceSet) Close() {
	for _, st := range s.stubs {
		st.Close()
	}
}

// slowColumn is one column of the scenario's table: a server's closed
// loop, or nginx's loops pooled.
type slowColumn struct {
	Server string // serverInlay or serverNginx
	// Place is the slow instance's place in nginx's upstream list, from
	// 1; 0 for Inlay and for nginx's loops pooled.
	Place     int
	PageBytes int
	Loop      peakResult
	Fetches   []int64          // answered by each instance during the loop
	SlowMix   map[string]int64 // the slow instance's fetches during the loop, by fragment
	Load      string           // the 1-minute load average as the loop started; empty when pooled
}

// Title is the column's title.
func (c *slowColumn) Title() string {
	switch {
	case c.Server == serverInlay:
		return "Inlay, endpoints"
	case c.Place > 0:
		return fmt.Sprintf("nginx SSI, slow instance %s in upstream", ordinal(c.Place))
	}
	return fmt.Sprintf("nginx SSI, the %d places pooled", slowInstances)
}

// ordinal writes 1 as 1st, 2 as 2nd, and so on.
func ordinal(n int) string {
	switch {
	case n%100 >= 11 && n%100 <= 13:
		return fmt.Sprintf("%dth", n)
	case n%10 == 1:
		return fmt.Sprintf("%dst", n)
	case n%10 == 2:
		return fmt.Sprintf("%dnd", n)
	case n%10 == 3:
		return fmt.Sprintf("%drd", n)
	}
	return fmt.Sprintf("%dth", n)
}

// slowResult holds the figures of the slow-instance scenario.
type slowResult struct {
	Inlay *slowColumn
	// Nginx has a column per place of the slow instance in the upstream
	// list, and Pooled their pages together; both empty without nginx.
	Nginx  []*slowColumn
	Pooled *slowColumn
}

// columns returns the table's columns, in order.
func (r *slowResult) columns() []*slowColumn {
	out := []*slowColumn{r.Inlay}
	out = append(out, r.Nginx...)
	if r.Pooled != nil {
		out = append(out, r.Pooled)
	}
	return out
}

// shareOf returns the share of fetches that went to instance i, and
// their total.
func shareOf(fetches []int64, i int) (float64, int64) {
	var total int64
	for _, n := range fetches {
		total += n
	}
	if total == 0 || i >= len(fetches) {
		return 0, total
	}
	return float64(fetches[i]) / float64(total), total
}

// upstreamOrder returns the instances' addresses in the order of nginx's
// upstream list that puts the slow one at place (from 1), the others in
// their own order around it.
func upstreamOrder(addrs []string, place int) []string {
	var out []string
	for i, a := range addrs {
		if i != slowIndex {
			out = append(out, a)
		}
	}
	place = min(max(place, 1), len(out)+1)
	return slices.Insert(out, place-1, addrs[slowIndex])
}

// poolLoops adds up closed loops run one after the other: their counts
// summed, their req/s over their time together, their percentiles those
// of the mixture of their latencies, each loop weighing the same (see
// pooledQuantile).
func poolLoops(loops []peakResult) (peakResult, error) {
	var out peakResult
	out.Checked = len(loops) > 0
	for _, l := range loops {
		out.Tool, out.Conns = l.Tool, l.Conns
		out.Requests += l.Requests
		out.Duration += l.Duration
		out.Errors += l.Errors
		out.Non200 += l.Non200
		out.Incomplete += l.Incomplete
		out.Checked = out.Checked && l.Checked
	}
	if out.Duration > 0 {
		out.RPS = float64(out.Requests) / out.Duration.Seconds()
	}
	var err error
	if out.P50, err = pooledQuantile(loops, 50); err != nil {
		return out, err
	}
	out.P99, err = pooledQuantile(loops, 99)
	return out, err
}

// poolColumns returns nginx's columns pooled: their loops (see poolLoops)
// and fetches added up. The slow instance's fragments are left out: each
// loop's are in its own column.
func poolColumns(cols []*slowColumn) (*slowColumn, error) {
	p := &slowColumn{Server: serverNginx, Fetches: make([]int64, slowInstances)}
	var loops []peakResult
	for _, c := range cols {
		p.PageBytes = c.PageBytes
		loops = append(loops, c.Loop)
		for i, n := range c.Fetches {
			p.Fetches[i] += n
		}
	}
	var err error
	p.Loop, err = poolLoops(loops)
	return p, err
}

// runSlowInstance measures the slow-instance scenario: Inlay, then, when
// nginxBin is set, nginx SSI once for each place of the slow instance in
// its upstream list, each for a share of the duration.
func (b *bench) runSlowInstance(ctx context.Context, nginxBin string) (*slowResult, error) {
	res := &slowResult{}
	var err error
	if res.Inlay, err = b.runSlowInlay(ctx); err != nil {
		return nil, fmt.Errorf("inlay: %w", err)
	}
	if nginxBin == "" {
		return res, nil
	}
	if res.Nginx, err = b.runSlowNginx(ctx, nginxBin); err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	if res.Pooled, err = poolColumns(res.Nginx); err != nil {
		return nil, fmt.Errorf("nginx, pooling the loops: %w", err)
	}
	return res, nil
}

// runSlowInlay measures Inlay in front of fresh instances, given as the
// service's endpoints.
func (b *bench) runSlowInlay(ctx context.Context) (*slowColumn, error) {
	set, err := startInstances(cacheNoStore, b.logger)
	if err != nil {
		return nil, err
	}
	defer set.Close()
	dir, err := b.workDir(slowKey + "-" + serverInlay)
	if err != nil {
		return nil, err
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	layout := layoutHTML(func(string) string { return oneServiceName })
	p, err := b.launchInlay(ctx, dir, addr, layout, instancesConfigYAML(addr, map[string][]string{oneServiceName: set.URLs()}, false))
	if err != nil {
		return nil, err
	}
	defer p.stop()
	col := &slowColumn{Server: serverInlay}
	err = b.measureSlow(ctx, col, set, p.url(pagePath), b.cfg.Warmup, b.cfg.Duration)
	return col, err
}

// runSlowNginx measures nginx SSI in front of fresh instances, once for
// each place of the slow instance in its upstream list, each with a
// fresh nginx for a share of the warm-up and of the duration. nginx's
// round robin is per worker and hands a page's includes to the servers
// in turn, so that with as many includes as servers each include stays on
// one server, and the slow instance serves the fragment its place makes
// it: one place alone would measure the luck of that draw.
func (b *bench) runSlowNginx(ctx context.Context, bin string) ([]*slowColumn, error) {
	set, err := startInstances(cacheNoStore, b.logger)
	if err != nil {
		return nil, err
	}
	defer set.Close()
	addrs := set.Addrs()
	warmup, dur := b.cfg.Warmup/slowInstances, max(b.cfg.Duration/slowInstances, time.Second)
	var out []*slowColumn
	for place := 1; place <= slowInstances; place++ {
		col := &slowColumn{Server: serverNginx, Place: place}
		err := func() error {
			dir, err := b.workDir(fmt.Sprintf("%s-%s-%d", slowKey, serverNginx, place))
			if err != nil {
				return err
			}
			addr, err := freeLoopbackAddr()
			if err != nil {
				return err
			}
			p, err := startNginx(ctx, bin, dir, nginxSettings{Listen: addr, Upstreams: upstreamOrder(addrs, place)})
			if err != nil {
				return err
			}
			defer p.stop()
			return b.measureSlow(ctx, col, set, p.url(pagePath), warmup, dur)
		}()
		if err != nil {
			return out, fmt.Errorf("slow instance %s in upstream: %w", ordinal(place), err)
		}
		out = append(out, col)
	}
	return out, nil
}

// measureSlow checks the page at target, warms up, then runs the closed
// loop of slowConns connections with every page checked, into col, with
// the fetches each instance answered during the loop.
func (b *bench) measureSlow(ctx context.Context, col *slowColumn, set *instanceSet, target string, warmup, dur time.Duration) error {
	log := b.logger.With(slog.String("scenario", slowKey), slog.String("column", col.Title()))
	markers := fragmentMarkers()
	var err error
	if col.PageBytes, err = checkPage(ctx, target, markers); err != nil {
		return err
	}
	if warmup > 0 {
		log.Info("warming up", slog.String("target", target), slog.Duration("for", warmup))
		if _, err := closedLoop(ctx, b.cfg.WrkPath, target, slowConns, warmup); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	col.Load, _, _ = strings.Cut(loadAvg(), ",")
	log.Info("closed loop", slog.Int("conns", slowConns), slog.Duration("for", dur))
	f0, m0 := set.Fetches(), set.stubs[slowIndex].FragmentFetches()
	if col.Loop, err = closedLoop(ctx, b.cfg.WrkPath, target, slowConns, dur, markers...); err != nil {
		return fmt.Errorf("closed loop: %w", err)
	}
	col.Fetches = set.Fetches()
	for i := range col.Fetches {
		col.Fetches[i] -= f0[i]
	}
	col.SlowMix = set.stubs[slowIndex].FragmentFetches()
	for f := range col.SlowMix {
		col.SlowMix[f] -= m0[f]
	}
	share, total := shareOf(col.Fetches, slowIndex)
	log.Info("done", slog.Duration("p50", col.Loop.P50), slog.Duration("p99", col.Loop.P99), slog.Float64("rps", col.Loop.RPS),
		slog.Int64("fetches", total), slog.Float64("slow_share", share))
	if col.Loop.Errors > 0 || col.Loop.Non200 > 0 || col.Loop.Incomplete > 0 {
		log.Warn("failed pages", slog.Int64("errors", col.Loop.Errors), slog.Int64("non200", col.Loop.Non200), slog.Int64("incomplete", col.Loop.Incomplete))
	}
	return nil
}

// checkSlow compares the slow-instance scenario with its targets. The
// ratio to nginx is reported as not measured when nginx did not run.
func checkSlow(r *slowResult) []check {
	if r == nil || r.Inlay == nil {
		return nil
	}
	inlay := r.Inlay.Loop
	ratioTarget := fmt.Sprintf("slow instance: nginx SSI's p99 (its %d places pooled) ≥ %.0f × Inlay's, %d connections", slowInstances, targetSlowP99Ratio, slowConns)
	var cs []check
	if r.Pooled == nil {
		cs = append(cs, check{Target: ratioTarget, Measured: "nginx not installed", Skipped: true})
	} else {
		n, a := r.Pooled.Loop.P99, inlay.P99
		cs = append(cs, check{
			Target:   ratioTarget,
			Measured: ratioText(fmtMs(n), fmtMs(a), float64(n), float64(a)),
			Pass:     a > 0 && inlay.Requests > 0 && float64(n) >= targetSlowP99Ratio*float64(a),
		})
	}
	share, total := shareOf(r.Inlay.Fetches, slowIndex)
	cs = append(cs, check{
		Target:   fmt.Sprintf("slow instance: Inlay sends ≤ %.0f %% of its fetches to the %d× slower instance, %d connections", 100*targetSlowShare, slowFactor, slowConns),
		Measured: shareText(r.Inlay.Fetches, slowIndex),
		Pass:     total > 0 && share <= targetSlowShare,
	}, check{
		Target:   fmt.Sprintf("slow instance: Inlay: 0 errors, 0 non-200 and 0 incomplete pages, %d connections", slowConns),
		Measured: hangingPages(inlay),
		Pass:     inlay.Checked && inlay.Requests > 0 && inlay.Errors == 0 && inlay.Non200 == 0 && inlay.Incomplete == 0,
	})
	return cs
}

// shareText writes instance i's fetches out of all of them: "120 of
// 80,000 = 0.15 %".
func shareText(fetches []int64, i int) string {
	share, total := shareOf(fetches, i)
	if i >= len(fetches) || total == 0 {
		return "no fetches"
	}
	return fmt.Sprintf("%s of %s = %.2f %%", fmtInt(fetches[i]), fmtInt(total), 100*share)
}

// mixText writes a fragment mix in the page's order, each fragment's
// share of the fetches: "header 50 %, footer 50 %"; fragments with none
// are left out.
func mixText(mix map[string]int64) string {
	var total int64
	for _, n := range mix {
		total += n
	}
	if total == 0 {
		return "none"
	}
	var parts []string
	for _, f := range fragmentSpecs {
		if n := mix[f.Name]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %.0f %%", f.Name, 100*float64(n)/float64(total)))
		}
	}
	return strings.Join(parts, ", ")
}

// Markers around the slow-instance section inside the generated part of
// docs/benchmarks.md, so that `-scenarios slow-instance -out` rewrites
// that section alone.
func sectionBegin(key string) string { return "<!-- loadbench:" + key + ":begin -->" }
func sectionEnd(key string) string   { return "<!-- loadbench:" + key + ":end -->" }

// renderSlow returns the slow-instance scenario's section, between its
// own markers: how it ran, the table of the servers and the targets.
// nginx names nginx's version, or is empty when it did not run.
func renderSlow(m machine, cfg benchConfig, nginx string, r *slowResult, checks []check) string {
	var b strings.Builder
	b.WriteString(sectionBegin(slowKey) + "\n\n")
	b.WriteString("### One slow instance among four\n\n")
	fmt.Fprintf(&b, "One team service runs as %d instances, each on its own loopback address (%s to %s); the last answers every fragment %d× slower "+
		"(search %s instead of %s). The page of four no-store fragments, all from that service. Inlay runs its default config with the %d as the service's `endpoints`: "+
		"a closed loop of %d connections for %s after a %s warm-up. ",
		slowInstances, instanceHost(0), instanceHost(slowInstances-1), slowFactor,
		fmtMs(slowest().Latency*slowFactor), fmtMs(slowest().Latency), slowInstances, slowConns, cfg.Duration, cfg.Warmup)
	if nginx == "" {
		b.WriteString("nginx is not installed: its columns are left out. ")
	} else {
		fmt.Fprintf(&b, "%s, configured as for the one-service scenario with the %d as the servers of its `upstream` block (round robin, its default), "+
			"runs once with the slow instance at each place of the list, a fresh nginx each time, for a %s warm-up and a %s loop: "+
			"its round robin hands a page's %d includes to the servers in turn, so each include stays on one server and the slow one's place decides which fragment it serves. "+
			"The pooled column's percentiles are those of the %d loops' latencies mixed, each loop weighing the same, "+
			"as if the slow instance served each fragment for a quarter of the pages (as round robin does when the page's includes do not line up with the servers); its req/s are the loops' over their time together. ",
			nginx, slowInstances, cfg.Warmup/slowInstances, max(cfg.Duration/slowInstances, time.Second), len(fragmentSpecs), slowInstances)
	}
	fmt.Fprintf(&b, "Every page is checked for a 200 and the four fragments in order; the instances count the fetches they answer during the loop. Inlay %s, run on %s.\n\n",
		m.Revision, m.Date.UTC().Format("2006-01-02 15:04 UTC"))
	row := newColumns(&b, r.columns(), func(c *slowColumn) string { return c.Title() }).row
	row("response size", func(c *slowColumn) string { return fmtInt(int64(c.PageBytes)) + " B" })
	at := fmt.Sprintf(", %d connections", slowConns)
	row("req/s"+at, func(c *slowColumn) string { return fmtInt(int64(c.Loop.RPS)) })
	row("latency p50 / p99"+at, func(c *slowColumn) string { return fmtMs(c.Loop.P50) + " / " + fmtMs(c.Loop.P99) })
	row("errors / non-200 / incomplete"+at, func(c *slowColumn) string { return hangingPages(c.Loop) })
	for i := range slowInstances {
		name := "fetches, " + instanceHost(i)
		if i == slowIndex {
			name += fmt.Sprintf(" (%d× slower)", slowFactor)
		}
		row(name, func(c *slowColumn) string { return shareText(c.Fetches, i) })
	}
	row("fragments the slow instance served", func(c *slowColumn) string {
		if c.SlowMix == nil {
			return "each in one loop"
		}
		return mixText(c.SlowMix)
	})
	row("load average as the loop started", func(c *slowColumn) string { return cmp.Or(c.Load, "–") })
	b.WriteString("\n#### Targets, one slow instance\n\n")
	writeChecks(&b, checks)
	b.WriteString("\n" + sectionEnd(slowKey) + "\n")
	return b.String()
}

// spliceSection puts section (which holds its own markers for key) in
// place of the one between those markers in doc's generated part, or
// at the end of the generated part when it has none yet, keeping
// everything else. A doc without a generated part gets one holding the
// section.
func spliceSection(doc, key, section string) string {
	section = strings.TrimSpace(section)
	begin, end := sectionBegin(key), sectionEnd(key)
	if i := strings.Index(doc, begin); i >= 0 {
		if j := strings.Index(doc[i:], end); j >= 0 {
			return doc[:i] + section + doc[i+j+len(end):]
		}
	}
	if i := strings.Index(doc, beginMarker); i >= 0 {
		if j := strings.Index(doc[i:], endMarker); j >= 0 {
			k := i + j
			return strings.TrimRight(doc[:k], "\n") + "\n\n" + section + "\n\n" + doc[k:]
		}
	}
	return spliceReport(doc, section)
}

// slowBudget bounds the slow-instance scenario: Inlay's warm-up, loop and
// process start, and nginx's, at each place.
func slowBudget(cfg benchConfig) time.Duration {
	return 2*(cfg.Warmup+cfg.Duration) + (1+slowInstances)*(30*time.Second)
}
