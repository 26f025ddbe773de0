package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/inlayhq/inlay/composer"
	"github.com/inlayhq/inlay/composer/config"
)

// runProfile runs the composer inside this process, behind an
// http.Server set up as `inlay serve` sets its own, and profiles it during
// a closed-loop run of one scenario. The fragment services run in this
// process too, so the no-store profile includes them; with wrk the load
// generator stays outside.
func runProfile(ctx context.Context, o options, stdout io.Writer, logger *slog.Logger) error {
	var sc *scenario
	for i := range scenarios {
		if scenarios[i].Key == o.scenario && scenarios[i].Inlay {
			sc = &scenarios[i]
		}
	}
	if sc == nil {
		return fmt.Errorf("-scenario %q: want no-store or cacheable", o.scenario)
	}
	st, err := startStub(sc.CacheControl, o.bench.H2C, false, logger)
	if err != nil {
		return err
	}
	defer st.Close()

	dir, err := os.MkdirTemp("", "loadbench-profile-")
	if err != nil {
		return fmt.Errorf("work folder: %w", err)
	}
	defer os.RemoveAll(dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	cfgPath, err := writeConfig(dir, layoutHTML(st.ServiceOf), configYAML(ln.Addr().String(), st.Services, o.bench.H2C))
	if err != nil {
		return err
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return fmt.Errorf("generated config: %w", err)
	}
	srv, err := composer.New(cfg, composer.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("composer: %w", err)
	}
	defer srv.Close()
	// The timeouts of cmd/inlay's newHTTPServer.
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("serving", slog.String("error", err.Error()))
		}
	}()
	defer hs.Close()
	target := "http://" + ln.Addr().String() + pagePath

	if _, err := checkPage(ctx, target, scenarioMarkers(*sc)); err != nil {
		return err
	}
	logger.Info("warming up", slog.String("scenario", sc.Key), slog.Duration("for", o.bench.Warmup))
	if _, err := openLoop(ctx, target, o.bench.Rate, o.bench.Warmup); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}

	pr := newProcReader(ctx)
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	s0, err := pr.sample(os.Getpid())
	if err != nil {
		return err
	}
	f0 := st.Fetches()
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
	}
	logger.Info("profiling", slog.String("scenario", sc.Key), slog.Int("conns", o.bench.Conns), slog.Duration("for", o.bench.Duration))
	stopWatch := make(chan struct{})
	memc := make(chan memPeak, 1)
	go func() { memc <- watchMemory(stopWatch, 250*time.Millisecond) }()
	peak, err := closedLoop(ctx, o.bench.WrkPath, target, o.bench.Conns, o.bench.Duration)
	close(stopWatch)
	mp := <-memc
	if o.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return fmt.Errorf("peak: %w", err)
	}
	s1, err := pr.sample(os.Getpid())
	if err != nil {
		return err
	}
	runtime.ReadMemStats(&m1)
	if o.memProfile != "" {
		if err := writeAllocs(o.memProfile); err != nil {
			return err
		}
	}

	pages := max(peak.Requests, 1)
	fmt.Fprintf(stdout, "scenario %s, %d connections, %s (%s)\n", sc.Key, peak.Conns, peak.Duration.Round(time.Millisecond), peak.Tool)
	fmt.Fprintf(stdout, "pages/s              %s (errors %d)\n", fmtInt(int64(peak.RPS)), peak.Errors)
	inProcess := "composer and fragment services"
	if peak.Tool != "wrk" {
		inProcess += " and the Go load generator"
	}
	fmt.Fprintf(stdout, "CPU per page         %s (this whole process: %s)\n", fmtCPU((s1.CPU-s0.CPU)/time.Duration(pages)), inProcess)
	fmt.Fprintf(stdout, "allocations per page %.1f objects, %s bytes\n",
		float64(m1.Mallocs-m0.Mallocs)/float64(pages), fmtInt(int64((m1.TotalAlloc-m0.TotalAlloc)/uint64(pages))))
	fmt.Fprintf(stdout, "GC cycles            %d (%.1f per 10,000 pages)\n", m1.NumGC-m0.NumGC, float64(m1.NumGC-m0.NumGC)*10000/float64(pages))
	fmt.Fprintf(stdout, "upstream per page    %.2f\n", float64(st.Fetches()-f0)/float64(pages))
	fmt.Fprintf(stdout, "during the run, max  %s heap in use, %s goroutine stacks, %s from the OS, %s goroutines\n",
		fmtMiB(int64(mp.HeapInuse)), fmtMiB(int64(mp.StackInuse)), fmtMiB(int64(mp.Sys)), fmtInt(int64(mp.Goroutines)))
	for _, p := range []string{o.cpuProfile, o.memProfile} {
		if p != "" {
			fmt.Fprintf(stdout, "go tool pprof -top %s\n", p)
		}
	}
	return nil
}

// writeAllocs writes the allocation profile (every allocation since start).
func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("alloc profile: %w", err)
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("alloc profile: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("alloc profile: %w", err)
	}
	return nil
}

// memPeak is the most memory the runtime held at a sample during a run.
type memPeak struct {
	HeapInuse, StackInuse, Sys uint64
	Goroutines                 int
}

// watchMemory samples the runtime's memory every interval until stop is
// closed and returns the maxima.
func watchMemory(stop <-chan struct{}, interval time.Duration) memPeak {
	var p memPeak
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return p
		case <-t.C:
		}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		p.HeapInuse = max(p.HeapInuse, m.HeapInuse)
		p.StackInuse = max(p.StackInuse, m.StackInuse)
		p.Sys = max(p.Sys, m.Sys)
		p.Goroutines = max(p.Goroutines, runtime.NumGoroutine())
	}
}
