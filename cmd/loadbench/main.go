// Command loadbench is Inlay's load benchmark.
//
// It composes a page from four fragments served over loopback by stub team
// services (header 2 KB / 5 ms, search 4 KB / 20 ms, basket 1 KB / 10 ms
// and primary, footer 1 KB / 5 ms), through a freshly built `inlay serve`
// running as its own process, once with the fragments no-store and once
// cacheable (max-age=60). As a baseline it fetches the slowest fragment,
// and the primary one, straight from their services, so that Inlay's
// overhead is a ratio measured in the same run.
//
// For each scenario it measures latency percentiles at a fixed rate (an
// open loop, with vegeta), time to first byte, peak throughput at 256
// connections (a closed loop, with wrk when it is installed, else a Go
// generator), Inlay's CPU time per page and peak RSS from /proc, and the
// upstream fetches per page. Inlay runs its default config throughout.
//
// A sixth scenario (hanging) adds to the page of a service per fragment a
// fifth box from a service that never answers, with a 300 ms deadline and
// an inline fallback: a closed loop with every page checked, and a burst,
// measure that the hanging box costs the page its deadline and no more.
// These are latency promises make test leaves to the benchmark.
//
// A seventh scenario (slow-instance) serves the four fragments, no-store,
// from one team service running as four instances on their own loopback
// addresses (127.0.0.2 to .5), one ten times slower than the others:
// Inlay with the four as the service's endpoints, and nginx SSI with them
// in an upstream block (round robin), each in a closed loop of 64
// connections with every page checked. It reports both p99s, their ratio
// against the target, and the fetches each instance answered.
// With -scenarios slow-instance and -out it rewrites that section of the
// file alone.
//
// A fifth scenario (one-service) serves the four fragments from one team
// service and composes the page with Inlay and, when nginx is installed,
// with nginx's SSI module, side by side: closed loops at 64 and 256
// connections and a burst of 1,000 page loads started at once, with every
// page checked for a 200 and all four fragments, no-store and cacheable
// (nginx with proxy_cache). nginx's CPU and RSS are its master's and
// workers' summed. The floor program (testdata/floor), the least a Go
// program on net/http does to compose the page, runs beside them,
// no-store, as a process of its own, and so does the same program with
// -defaults, which does by hand the per-page work Inlay does by default:
// Inlay's CPU per page is checked against both. With -cached, the same
// program serves the page stitched once, from memory, beside the cached
// columns: the least a Go program on net/http does for a cached page.
// The server columns run -runs times (3), one after the other, and the
// issue's targets (CPU per page against the floor's, p99 and cached
// throughput against nginx's, cached p99 against the floor's too, peak
// RSS) are checked on the medians of the runs.
//
// It prints Markdown tables with the targets and whether each is met, and
// with -out splices them into a file.
//
// With -pin (Linux, taskset), each server runs alone on the last core, and
// this process (the stub services and Go load generators) and wrk on the
// others: on a small machine, the load then takes no CPU from the server
// under test, as in production, where the shoppers' browsers are
// elsewhere.
//
// With -profile or -memprofile it instead runs the composer in its own
// process under pprof, for one scenario, and writes the profiles. With
// -h2c, Inlay fetches the fragments over h2c (HTTP/2 without TLS) instead
// of HTTP/1.1.
//
// Usage:
//
//	go run ./cmd/loadbench [-out docs/benchmarks.md] [-rate 500] [-duration 10s] [-conns 256] [-h2c] [-nginx auto] [-burst 1000] [-runs 3] [-floor=true]
//	go run ./cmd/loadbench -scenarios slow-instance [-out docs/benchmarks.md]
//	go run ./cmd/loadbench -scenarios one-service -pin
//	go run ./cmd/loadbench -profile cpu.out -memprofile mem.out [-scenario cacheable]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	slog.SetDefault(logger)
	err := run(ctx, os.Args[1:], os.Stdout, logger)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		logger.Error("loadbench failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
}

// options are the command line's settings.
type options struct {
	bench      benchConfig
	generator  string
	out        string
	cpuProfile string
	memProfile string
	scenario   string
	only       string
	inlayEnv   string
	godebug    string
	nginx      string
	peer       peerConfig
	floor      bool
	keep       bool
	pin        bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.bench.Rate, "rate", 500, "open-loop `requests` per second")
	fs.DurationVar(&o.bench.Duration, "duration", 10*time.Second, "length of the open-loop run and of the peak run, each")
	fs.DurationVar(&o.bench.Warmup, "warmup", 2*time.Second, "open-loop warm-up before measuring")
	fs.IntVar(&o.bench.Conns, "conns", 256, "connections of the peak run")
	fs.IntVar(&o.bench.TTFBRequests, "ttfb", 200, "sequential `requests` of the time-to-first-byte run")
	fs.StringVar(&o.generator, "generator", "auto", "closed-loop generator: wrk, go, or auto (wrk if on PATH)")
	fs.StringVar(&o.out, "out", "", "splice the results into this Markdown `file`")
	fs.StringVar(&o.cpuProfile, "profile", "", "profile mode: write a CPU profile of the composer to `file`")
	fs.StringVar(&o.memProfile, "memprofile", "", "profile mode: write an allocation profile of the composer to `file`")
	fs.StringVar(&o.scenario, "scenario", "cacheable", "profile mode: no-store or cacheable")
	fs.StringVar(&o.only, "scenarios", "", "comma-separated `keys` of the scenarios to run (direct, direct-primary, no-store, cacheable, "+peerKey+", "+hangingKey+", "+slowKey+"); empty means all")
	fs.StringVar(&o.nginx, "nginx", "auto", "nginx binary of the SSI peer in the "+peerKey+" and "+slowKey+" scenarios: a path, auto (nginx if on PATH) or off")
	fs.IntVar(&o.peer.Burst, "burst", 1000, "page `loads` started at once in the "+peerKey+" scenario")
	fs.IntVar(&o.peer.Runs, "runs", 3, "`runs` of each server in the "+peerKey+" scenario, one after the other; its later targets are checked on the medians")
	fs.BoolVar(&o.floor, "floor", true, "run the floor program ("+floorPackage+"), bare, with -defaults and with -cached, as a peer in the "+peerKey+" scenario")
	fs.DurationVar(&o.peer.Timeout, "burst-timeout", 10*time.Second, "deadline of each page load of the burst")
	fs.StringVar(&o.godebug, "godebug", inlayGODEBUG, "the GODEBUG `settings` of the Inlay process (built by a plain go build); the default is make run's and the server image's")
	fs.StringVar(&o.inlayEnv, "inlay-env", "", "extra environment of the Inlay process, comma-separated `KEY=VALUE`s, such as GOGC=200")
	fs.BoolVar(&o.bench.H2C, "h2c", false, "Inlay fetches the fragments over h2c (HTTP/2 without TLS), not HTTP/1.1")
	fs.BoolVar(&o.keep, "keep", false, "keep the work folder (Inlay's config, layout and logs)")
	fs.BoolVar(&o.pin, "pin", false, "run each server alone on the last core, and the stub services and the load generator on the others (Linux, taskset)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	b := o.bench
	if b.Rate <= 0 || b.Duration <= 0 || b.Warmup < 0 || b.Conns <= 0 || b.TTFBRequests <= 0 || o.peer.Burst < 0 || o.peer.Timeout <= 0 || o.peer.Runs <= 0 {
		return o, errors.New("-rate, -duration, -conns, -ttfb, -runs and -burst-timeout must be positive, -warmup and -burst not negative")
	}
	return o, nil
}

// inlayEnv is what the Inlay process gets in its environment on top of
// the benchmark's own: GODEBUG, then -inlay-env, whose GODEBUG, if it
// has one, wins.
func inlayEnv(o options) []string {
	var env []string
	if o.godebug != "" {
		env = append(env, "GODEBUG="+o.godebug)
	}
	if o.inlayEnv != "" {
		env = append(env, strings.Split(o.inlayEnv, ",")...)
	}
	return env
}

// run executes one loadbench invocation.
func run(ctx context.Context, args []string, stdout io.Writer, logger *slog.Logger) error {
	o, err := parseFlags(args, os.Stderr)
	if err != nil {
		return err
	}
	if o.bench.WrkPath, err = findWrk(o.generator); err != nil {
		return err
	}
	if o.peer.Nginx, err = findNginx(o.nginx); err != nil {
		return err
	}
	if o.pin {
		if pin, err = newCPUSplit(runtime.NumCPU()); err != nil {
			return err
		}
		if err := pin.pinSelf(ctx); err != nil {
			return err
		}
	}
	// Bound the whole run: four scenarios of a warm-up, two timed runs
	// and a TTFB run, the side-by-side runs, plus building Inlay.
	perScenario := o.bench.Warmup + 2*o.bench.Duration + 30*time.Second
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute+time.Duration(len(scenarios))*perScenario+peerBudget(o.bench, o.peer)+hangingBudget(o.bench, o.peer)+slowBudget(o.bench))
	defer cancel()

	if o.cpuProfile != "" || o.memProfile != "" {
		return runProfile(ctx, o, stdout, logger)
	}

	dir, err := os.MkdirTemp("", "loadbench-")
	if err != nil {
		return fmt.Errorf("work folder: %w", err)
	}
	keep := o.keep
	defer func() {
		if keep {
			logger.Info("work folder kept", slog.String("dir", dir))
			return
		}
		os.RemoveAll(dir)
	}()

	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	logger.Info("building inlay", slog.String("module", root), slog.String("dir", dir))
	bin, err := buildInlay(ctx, root, dir)
	if err != nil {
		return err
	}
	if err := plainBuild(bin); err != nil {
		return err
	}
	load := loadAvg()
	one, _, _ := strings.Cut(load, ",")
	if l, err := strconv.ParseFloat(one, 64); err == nil && l > 0.5 {
		logger.Warn("the machine is busy: figures will be skewed", slog.String("load_average", load))
	}
	b := &bench{cfg: o.bench, bin: bin, dir: dir, proc: newProcReader(ctx), logger: logger, env: inlayEnv(o)}
	var results []*result
	byKey := map[string]*result{}
	selected, peers, err := selectScenarios(o.only)
	if err != nil {
		return err
	}
	for _, sc := range selected {
		r, err := b.runScenario(ctx, sc)
		if err != nil {
			keep = true // the failing Inlay's log is there
			return fmt.Errorf("scenario %s: %w", sc.Key, err)
		}
		results = append(results, r)
		byKey[sc.Key] = r
	}
	var peerResults []*peerResult
	if peers {
		if o.peer.Nginx == "" {
			logger.Warn("nginx not found: the side-by-side runs leave nginx out (apt-get install nginx)")
		}
		if o.floor {
			logger.Info("building the floor program", slog.String("package", floorPackage))
			if o.peer.Floor, err = buildFloor(ctx, root, dir); err != nil {
				return err
			}
			o.peer.Env = godebugOnly(inlayEnv(o))
		}
		if peerResults, err = b.runPeers(ctx, o.peer); err != nil {
			keep = true
			return fmt.Errorf("scenario %s: %w", peerKey, err)
		}
	}

	m := machine{CPUs: runtime.NumCPU(), CPUModel: cpuModel(), GoVersion: runtime.Version(), Kernel: kernel(), Generator: "vegeta, closed loop", Date: time.Now(), LoadAvg: load, LoadAfter: loadAvg(), Revision: revision(ctx, root), Cores: pin.describe()}
	if o.bench.WrkPath != "" {
		m.Generator = wrkVersion(ctx, o.bench.WrkPath)
	}
	report := renderMarkdown(m, o.bench, results, checkTargets(byKey))
	if peers {
		nginx := "nginx not installed: its columns are left out"
		if o.peer.Nginx != "" {
			nginx = "nginx " + nginxVersion(ctx, o.peer.Nginx) + ", configured as `nginxConfig` in cmd/loadbench/nginx.go says"
		}
		first := firstRun(peerResults)
		report += "\n" + renderPeers(o.bench, o.peer, nginx, first, checkPeers(first))
		report += "\n" + renderRuns(floorText(o), peerResults, checkRuns(peerResults))
	}
	if wants(o.only, hangingKey) {
		hr, err := b.runHanging(ctx, o.peer)
		if err != nil {
			keep = true
			return fmt.Errorf("scenario %s: %w", hangingKey, err)
		}
		report += "\n" + renderHanging(o.bench, o.peer, hr)
	}
	var slowSection string
	if wants(o.only, slowKey) {
		sr, err := b.runSlowInstance(ctx, o.peer.Nginx)
		if err != nil {
			keep = true
			return fmt.Errorf("scenario %s: %w", slowKey, err)
		}
		nginx := ""
		if o.peer.Nginx != "" {
			nginx = "nginx " + nginxVersion(ctx, o.peer.Nginx)
		}
		slowSection = renderSlow(m, o.bench, nginx, sr, checkSlow(sr))
		report += "\n" + slowSection
	}
	fmt.Fprint(stdout, report)
	if o.out != "" {
		splice := func(doc string) string { return spliceReport(doc, report) }
		if strings.TrimSpace(o.only) == slowKey {
			// The other scenarios' figures in the file stay as they are.
			splice = func(doc string) string { return spliceSection(doc, slowKey, slowSection) }
		}
		if err := spliceFile(o.out, splice); err != nil {
			return err
		}
		logger.Info("results written", slog.String("file", o.out))
	}
	return nil
}

// floorText says how the floor program and Inlay ran, for the report.
func floorText(o options) string {
	godebug := "an empty GODEBUG"
	if env := godebugOnly(inlayEnv(o)); len(env) > 0 {
		godebug = "`" + env[len(env)-1] + "` in the environment"
	}
	inlay := "Inlay is a plain `go build` of ./cmd/inlay (no -ldflags or -gcflags, checked in its build info), run with " + godebug
	if !o.floor {
		return inlay + "; the floor program did not run, bare, with -defaults or with -cached (-floor=false)"
	}
	return inlay + "; the floor program (`" + floorPackage + "`, read its doc comment) is a plain `go build` too, run with the same GODEBUG, " +
		"as its own process in front of the same stub service as Inlay and nginx (in the benchmark's process), so that its CPU from /proc is the composer's alone; " +
		"with `-defaults` it also does by hand the per-page work Inlay does by default, and with `-cached` it serves the page stitched once, from memory"
}

// findWrk resolves the -generator flag to a wrk path, or "" for the Go
// generator.
func findWrk(generator string) (string, error) {
	switch generator {
	case "go":
		return "", nil
	case "wrk", "auto":
		path, err := exec.LookPath("wrk")
		if err != nil {
			if generator == "wrk" {
				return "", fmt.Errorf("wrk not found (apt-get install wrk): %w", err)
			}
			slog.Info("wrk not on PATH: the peak run uses vegeta in a closed loop (apt-get install wrk for wrk)")
			return "", nil
		}
		return path, nil
	}
	return "", fmt.Errorf("-generator %q: want wrk, go or auto", generator)
}

// selectScenarios returns the scenarios named in a comma-separated list,
// in their usual order, and whether the side-by-side runs (peerKey) are
// named; an empty list means all of them.
func selectScenarios(only string) ([]scenario, bool, error) {
	if only == "" {
		return scenarios, true, nil
	}
	want := map[string]bool{}
	for _, k := range strings.Split(only, ",") {
		want[strings.TrimSpace(k)] = true
	}
	peers := want[peerKey]
	delete(want, peerKey)
	delete(want, hangingKey) // see wants
	delete(want, slowKey)
	var out []scenario
	for _, sc := range scenarios {
		if want[sc.Key] {
			out = append(out, sc)
			delete(want, sc.Key)
		}
	}
	for k := range want {
		return nil, false, fmt.Errorf("-scenarios: unknown scenario %q", k)
	}
	return out, peers, nil
}

// wants reports whether a comma-separated list of scenarios names the
// scenario key (hangingKey or slowKey, which run after the others); an
// empty list means all of them.
func wants(only, key string) bool {
	if only == "" {
		return true
	}
	for _, k := range strings.Split(only, ",") {
		if strings.TrimSpace(k) == key {
			return true
		}
	}
	return false
}
