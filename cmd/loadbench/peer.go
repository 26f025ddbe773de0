package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"
)

// peerKey is the -scenarios key of the side-by-side comparison.
const peerKey = "one-service"

// peerConns are the closed loops of the side-by-side comparison, in
// order: the first is where latency and no-store CPU are compared, the
// last where throughput, cached CPU and memory are.
var peerConns = []int{64, 256}

// Servers of the side-by-side comparison.
const (
	serverDirect = "direct"
	serverInlay  = "inlay"
	serverFloor  = "floor"
	serverNginx  = "nginx"
)

// peerColumn is one column of the side-by-side table.
type peerColumn struct {
	Key          string
	Title        string
	Server       string // serverDirect, serverInlay, serverFloor or serverNginx
	CacheControl string
	Args         []string // the floor program's extra arguments
}

// controlKey is the control column's key: the bare floor program again,
// right after its first column, in each run. The two are the same
// program, so what differs between them is the machine's: the difference
// between any two columns of the same run must be larger than theirs to
// say anything about the servers.
const controlKey = "floor-again-no-store"

// peerColumns are the side-by-side runs, in order; nginx's are left out
// when it is not installed, the floor's four when it was not built. The
// floor program with -defaults does by hand the per-page work Inlay does
// by default (its doc comment lists it): beside the bare floor, it
// tells what those defaults cost on their own. With -cached it serves the
// page stitched once, from memory: the least a Go program on net/http
// does for a cached page, the Go floor of the cached columns. The control
// column (controlKey) runs the bare floor a second time.
var peerColumns = []peerColumn{
	{Key: "direct", Title: "direct: " + slowest().Name + " (slowest)", Server: serverDirect, CacheControl: cacheNoStore},
	{Key: "inlay-no-store", Title: "Inlay, no-store", Server: serverInlay, CacheControl: cacheNoStore},
	{Key: "floor-no-store", Title: "floor program, no-store", Server: serverFloor, CacheControl: cacheNoStore},
	{Key: controlKey, Title: "floor program again, no-store (control)", Server: serverFloor, CacheControl: cacheNoStore},
	{Key: "floor-defaults-no-store", Title: "floor program with Inlay's defaults, no-store", Server: serverFloor, CacheControl: cacheNoStore,
		Args: []string{"-defaults"}},
	{Key: "nginx-no-store", Title: "nginx SSI, no-store", Server: serverNginx, CacheControl: cacheNoStore},
	{Key: "inlay-cached", Title: "Inlay, max-age=60", Server: serverInlay, CacheControl: cacheCacheable},
	{Key: "floor-cached", Title: "floor program, page stitched once, max-age=60", Server: serverFloor, CacheControl: cacheCacheable,
		Args: []string{"-cached"}},
	{Key: "nginx-cached", Title: "nginx SSI + proxy_cache, max-age=60", Server: serverNginx, CacheControl: cacheCacheable},
}

// peerLoop is one closed loop of a side-by-side run.
type peerLoop struct {
	peakResult
	CPUPerPage      time.Duration
	UserPerPage     time.Duration // of CPUPerPage, the user time; the rest is the kernel's
	UpstreamPerPage float64
}

// peerResult holds every figure of one side-by-side column in one run.
type peerResult struct {
	Column    peerColumn
	Run       int // 1 to peerConfig.Runs; the direct column runs once
	PageBytes int
	Loops     map[int]*peerLoop // by connections
	HasProc   bool              // Inlay, the floor or nginx: CPU and RSS are theirs
	RSSPeak   int64             // VmHWM after the closed loops, bytes
	Burst     *burstResult
	RSSBurst  int64  // VmHWM after the burst, bytes
	Load      string // the 1-minute load average as the run started
}

// peerConfig holds the side-by-side run's parameters.
type peerConfig struct {
	Nginx   string        // nginx binary; empty leaves nginx out
	Floor   string        // floor program's binary; empty leaves it out
	Runs    int           // runs of each server column, one after the other
	Env     []string      // extra environment of the floor process
	Burst   int           // page loads started at once
	Timeout time.Duration // of each page load of the burst
}

// runPeers runs the side-by-side comparison: one team service serving the
// four fragments from one listener; the slowest fragment straight from
// it, then the page through Inlay, the floor program (bare, bare again
// as the control, and with Inlay's defaults) and nginx SSI, no-store, and
// through Inlay, the floor with the page stitched once and nginx
// cacheable. The server columns run pc.Runs times, a run of each column
// after the other (Inlay, the floor, the floor again, the floor with
// defaults, nginx, then Inlay, the floor and nginx cached, and again), so
// that a drift of the machine's load reaches them all alike; the direct
// column runs once.
func (b *bench) runPeers(ctx context.Context, pc peerConfig) ([]*peerResult, error) {
	var out []*peerResult
	for run := 1; run <= max(pc.Runs, 1); run++ {
		for _, col := range peerRunColumns(pc, run) {
			r, err := b.runPeer(ctx, pc, col, run)
			if err != nil {
				return out, fmt.Errorf("%s, run %d: %w", col.Key, run, err)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// peerRunColumns are the columns run number run measures, in order:
// those whose server is there (nginx when pc.Nginx is set, the floor's
// when pc.Floor is), the direct column in the first run only.
func peerRunColumns(pc peerConfig, run int) []peerColumn {
	var cols []peerColumn
	for _, col := range peerColumns {
		if (col.Server == serverNginx && pc.Nginx == "") || (col.Server == serverFloor && pc.Floor == "") ||
			(col.Server == serverDirect && run > 1) {
			continue
		}
		cols = append(cols, col)
	}
	return cols
}

// peerLoopConns are the closed loops of a column's run: the direct
// column's is the first only (the floor of the latency target); a cached
// column's later runs, the last only (where the cached targets are).
func peerLoopConns(col peerColumn, run int) []int {
	switch {
	case col.Server == serverDirect:
		return peerConns[:1]
	case col.CacheControl != cacheNoStore && run > 1:
		return peerConns[len(peerConns)-1:]
	}
	return peerConns
}

// runPeer measures one column's run: a check of the page, a warm-up, the
// closed loops, and in the first run, for Inlay and nginx, the burst.
func (b *bench) runPeer(ctx context.Context, pc peerConfig, col peerColumn, run int) (*peerResult, error) {
	log := b.logger.With(slog.String("scenario", peerKey), slog.String("column", col.Key), slog.Int("run", run))
	st, err := startStub(col.CacheControl, false, true, b.logger)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	load, _, _ := strings.Cut(loadAvg(), ",")
	res := &peerResult{Column: col, Run: run, Loops: map[int]*peerLoop{}, Load: load}
	markers := fragmentMarkers()
	target := st.FragmentURL(slowest().Name)
	sample := func() (procSample, error) { return procSample{}, nil }
	if col.Server != serverDirect {
		dir, err := b.workDir(fmt.Sprintf("%s-%s-%d", peerKey, col.Key, run))
		if err != nil {
			return nil, err
		}
		addr, err := freeLoopbackAddr()
		if err != nil {
			return nil, err
		}
		var pid int
		upstream := st.Addr(oneServiceName)
		switch col.Server {
		case serverInlay:
			p, err := b.launchInlay(ctx, dir, addr, layoutHTML(st.ServiceOf), configYAML(addr, st.Services, false))
			if err != nil {
				return nil, err
			}
			defer p.stop()
			pid, target = p.pid(), p.url(pagePath)
		case serverFloor:
			p, err := startFloor(ctx, pc.Floor, addr, upstream, filepath.Join(dir, "floor.log"), pc.Env, col.Args...)
			if err != nil {
				return nil, err
			}
			defer p.stop()
			pid, target = p.pid(), p.url(pagePath)
		case serverNginx:
			p, err := startNginx(ctx, pc.Nginx, dir, nginxSettings{Listen: addr, Upstreams: []string{upstream}, Cached: col.CacheControl == cacheCacheable})
			if err != nil {
				return nil, err
			}
			defer p.stop()
			pid, target = p.pid(), p.url(pagePath)
		}
		res.HasProc = true
		sample = func() (procSample, error) { return b.proc.sampleTree(pid) }
	} else {
		markers = []string{fragmentMarker(slowest().Name)}
	}

	if res.PageBytes, err = checkPage(ctx, target, markers); err != nil {
		return nil, err
	}
	log.Info("warming up", slog.String("target", target), slog.Duration("for", b.cfg.Warmup))
	if b.cfg.Warmup > 0 {
		if _, err := closedLoop(ctx, b.cfg.WrkPath, target, peerConns[0], b.cfg.Warmup); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
	}
	conns := peerLoopConns(col, run)
	for _, c := range conns {
		log.Info("closed loop", slog.Int("conns", c), slog.Duration("for", b.cfg.Duration))
		s0, err := sample()
		if err != nil {
			return nil, err
		}
		f0 := st.Fetches()
		pr, err := closedLoop(ctx, b.cfg.WrkPath, target, c, b.cfg.Duration, markers...)
		if err != nil {
			return nil, fmt.Errorf("closed loop, %d connections: %w", c, err)
		}
		f1 := st.Fetches()
		s1, err := sample()
		if err != nil {
			return nil, err
		}
		loop := &peerLoop{peakResult: pr}
		if pr.Requests > 0 {
			loop.CPUPerPage = (s1.CPU - s0.CPU) / time.Duration(pr.Requests)
			loop.UserPerPage = (s1.User - s0.User) / time.Duration(pr.Requests)
			loop.UpstreamPerPage = float64(f1-f0) / float64(pr.Requests)
		}
		res.Loops[c] = loop
		res.RSSPeak = s1.HWM
		if pr.Errors > 0 || pr.Non200 > 0 || pr.Incomplete > 0 {
			log.Warn("failed pages", slog.Int("conns", c), slog.Int64("errors", pr.Errors),
				slog.Int64("non200", pr.Non200), slog.Int64("incomplete", pr.Incomplete))
		}
	}
	if run == 1 && (col.Server == serverInlay || col.Server == serverNginx) && pc.Burst > 0 {
		log.Info("burst", slog.Int("loads", pc.Burst))
		br := burst(ctx, target, pc.Burst, pc.Timeout, markers)
		res.Burst = &br
		s, err := sample()
		if err != nil {
			return nil, err
		}
		res.RSSBurst = s.HWM
		if br.OK != br.N {
			log.Warn("failed pages in the burst", slog.Int("non200", br.Non200), slog.Int("incomplete", br.Incomplete),
				slog.Int("failed", br.Failed), slog.String("first", br.FirstErr))
		}
	}
	last := res.Loops[conns[len(conns)-1]]
	log.Info("done", slog.Float64("rps", last.RPS), slog.Duration("p50", last.P50),
		slog.Duration("cpu_per_page", last.CPUPerPage), slog.Int64("rss_peak_kib", res.RSSPeak>>10))
	return res, nil
}

// fragmentMarkers are the markers of the page's fragments, in order.
func fragmentMarkers() []string {
	var ms []string
	for _, f := range fragmentSpecs {
		ms = append(ms, fragmentMarker(f.Name))
	}
	return ms
}
