package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// scenario is one column of the results table.
type scenario struct {
	Key          string // "direct", "direct-primary", "no-store" or "cacheable"
	Title        string
	Inlay        bool   // the page through Inlay; else one fragment straight from its service
	Fragment     string // the fragment fetched directly, when not Inlay
	CacheControl string // what the fragment services answer
}

// scenarios run in this order, each with fresh fragment services and, for
// Inlay, a fresh Inlay process.
var scenarios = []scenario{
	{Key: "direct", Title: "direct: " + slowest().Name + " (slowest)", Fragment: slowest().Name, CacheControl: cacheNoStore},
	{Key: "direct-primary", Title: "direct: " + primary().Name + " (primary)", Fragment: primary().Name, CacheControl: cacheNoStore},
	{Key: "no-store", Title: "Inlay, fragments no-store", Inlay: true, CacheControl: cacheNoStore},
	{Key: "cacheable", Title: "Inlay, fragments max-age=60", Inlay: true, CacheControl: cacheCacheable},
}

// benchConfig holds the run's parameters.
type benchConfig struct {
	Rate         int           // open-loop requests per second
	Duration     time.Duration // of the open-loop and of the peak run, each
	Warmup       time.Duration // open-loop warm-up before measuring
	Conns        int           // connections of the peak run
	TTFBRequests int           // sequential requests of the TTFB run
	WrkPath      string        // wrk binary; empty for vegeta's closed loop
	// H2C makes the fragment services accept h2c and sets h2c: true for
	// them in Inlay's config: Inlay fetches over HTTP/2 without TLS.
	H2C bool
}

// result holds every figure of one scenario.
type result struct {
	Scenario  scenario
	PageBytes int
	Open      openLoopResult
	TTFB      latencies
	Peak      peakResult

	// Process figures, for Inlay scenarios only: the fragment services
	// share the load generator's process, so direct runs have none.
	HasProc bool
	CPUOpen time.Duration // CPU time per page during the open-loop run
	CPUPeak time.Duration // CPU time per page during the peak run
	PeakRSS int64         // VmHWM after the peak run, bytes

	UpstreamPerPage float64 // fragment fetches per page, open-loop run
}

// bench runs every scenario against an Inlay binary built into dir.
type bench struct {
	cfg    benchConfig
	bin    string
	dir    string
	proc   procReader
	env    []string // extra environment of the Inlay process
	logger *slog.Logger
}

// runScenario measures one scenario.
func (b *bench) runScenario(ctx context.Context, sc scenario) (*result, error) {
	st, err := startStub(sc.CacheControl, b.cfg.H2C, false, b.logger)
	if err != nil {
		return nil, err
	}
	defer st.Close()

	res := &result{Scenario: sc}
	target := st.FragmentURL(sc.Fragment)
	sample := func() (procSample, error) { return procSample{}, nil }
	if sc.Inlay {
		dir, err := b.workDir(sc.Key)
		if err != nil {
			return nil, err
		}
		addr, err := freeLoopbackAddr()
		if err != nil {
			return nil, err
		}
		p, err := b.launchInlay(ctx, dir, addr, layoutHTML(st.ServiceOf), configYAML(addr, st.Services, b.cfg.H2C))
		if err != nil {
			return nil, err
		}
		defer p.stop()
		target = p.url(pagePath)
		res.HasProc = true
		sample = func() (procSample, error) { return b.proc.sample(p.pid()) }
	}
	log := b.logger.With(slog.String("scenario", sc.Key))

	if res.PageBytes, err = checkPage(ctx, target, scenarioMarkers(sc)); err != nil {
		return nil, err
	}
	log.Info("warming up", slog.String("target", target), slog.Duration("for", b.cfg.Warmup))
	if _, err := openLoop(ctx, target, b.cfg.Rate, b.cfg.Warmup); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}

	log.Info("open loop", slog.Int("rate", b.cfg.Rate), slog.Duration("for", b.cfg.Duration))
	s0, err := sample()
	if err != nil {
		return nil, err
	}
	f0 := st.Fetches()
	if res.Open, err = openLoop(ctx, target, b.cfg.Rate, b.cfg.Duration); err != nil {
		return nil, fmt.Errorf("open loop: %w", err)
	}
	f1 := st.Fetches()
	s1, err := sample()
	if err != nil {
		return nil, err
	}
	if pages := res.Open.OK + res.Open.Failed; pages > 0 {
		res.UpstreamPerPage = float64(f1-f0) / float64(pages)
		res.CPUOpen = (s1.CPU - s0.CPU) / time.Duration(pages)
	}
	if res.Open.Failed > 0 {
		log.Warn("failures in the open-loop run", slog.Int("failed", res.Open.Failed), slog.String("first", res.Open.FirstErr))
	}

	log.Info("time to first byte", slog.Int("requests", b.cfg.TTFBRequests))
	if res.TTFB, err = measureTTFB(ctx, target, b.cfg.TTFBRequests); err != nil {
		return nil, err
	}

	log.Info("peak", slog.Int("conns", b.cfg.Conns), slog.Duration("for", b.cfg.Duration))
	s2, err := sample()
	if err != nil {
		return nil, err
	}
	if res.Peak, err = closedLoop(ctx, b.cfg.WrkPath, target, b.cfg.Conns, b.cfg.Duration); err != nil {
		return nil, fmt.Errorf("peak: %w", err)
	}
	s3, err := sample()
	if err != nil {
		return nil, err
	}
	if res.Peak.Requests > 0 {
		res.CPUPeak = (s3.CPU - s2.CPU) / time.Duration(res.Peak.Requests)
	}
	res.PeakRSS = s3.HWM
	if res.Peak.Errors > 0 {
		log.Warn("errors in the peak run", slog.Int64("errors", res.Peak.Errors))
	}
	log.Info("done",
		slog.Duration("p50", res.Open.Latency.P50), slog.Duration("ttfb_p50", res.TTFB.P50),
		slog.Float64("peak_rps", res.Peak.RPS), slog.Duration("cpu_per_page_peak", res.CPUPeak),
		slog.Int64("peak_rss_kib", res.PeakRSS>>10), slog.Float64("upstream_per_page", res.UpstreamPerPage))
	return res, nil
}

// checkPage GETs target once and checks that it is a 200 with every
// marker in document order. It returns the body's size.
func checkPage(ctx context.Context, target string, markers []string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return 0, fmt.Errorf("check: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("check %s: %w", target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("check %s: reading body: %w", target, err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("check %s: status %d", target, resp.StatusCode)
	}
	if !pageComplete(body, markers) {
		return 0, fmt.Errorf("check %s: a fragment is missing or out of order:\n%s", target, body)
	}
	return len(body), nil
}

// scenarioMarkers are the fragment markers a scenario's answer holds.
func scenarioMarkers(sc scenario) []string {
	if sc.Inlay {
		return fragmentMarkers()
	}
	return []string{fragmentMarker(sc.Fragment)}
}

// workDir makes the work folder of a scenario's run, name, in the
// benchmark's.
func (b *bench) workDir(name string) (string, error) {
	dir := filepath.Join(b.dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("scenario dir: %w", err)
	}
	return dir, nil
}

// launchInlay writes the layout and the Inlay config cfg into dir and
// starts `inlay serve` on addr with them, logging to dir/inlay.log.
func (b *bench) launchInlay(ctx context.Context, dir, addr, layout, cfg string) (*serverProc, error) {
	cfgPath, err := writeConfig(dir, layout, cfg)
	if err != nil {
		return nil, err
	}
	return startInlay(ctx, b.bin, cfgPath, addr, filepath.Join(dir, "inlay.log"), b.env)
}
