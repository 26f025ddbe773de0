package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// peakResult is the outcome of a closed-loop run: every connection sends
// its next request as soon as the last answer is in.
type peakResult struct {
	Tool     string // "wrk" or "go"
	Conns    int
	Requests int64 // answered requests
	Duration time.Duration
	RPS      float64
	Errors   int64 // non-2xx/3xx answers and socket errors
	P50, P99 time.Duration
}

// closedLoop runs the closed-loop peak test with wrk when wrkPath is set,
// else with the Go generator.
func closedLoop(ctx context.Context, wrkPath, target string, conns int, dur time.Duration) (peakResult, error) {
	if wrkPath != "" {
		return runWrk(ctx, wrkPath, target, conns, dur)
	}
	return goClosedLoop(ctx, target, conns, dur)
}

// runWrk runs wrk with one thread per core.
func runWrk(ctx context.Context, wrkPath, target string, conns int, dur time.Duration) (peakResult, error) {
	threads := min(runtime.NumCPU(), conns)
	secs := max(1, int((dur+time.Second/2)/time.Second))
	cmd := exec.CommandContext(ctx, wrkPath,
		"-t", strconv.Itoa(threads), "-c", strconv.Itoa(conns), "-d", strconv.Itoa(secs)+"s",
		"--timeout", "5s", "--latency", target)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return peakResult{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	res, err := parseWrk(string(out))
	if err != nil {
		return peakResult{}, fmt.Errorf("wrk output: %w\n%s", err, out)
	}
	res.Conns = conns
	return res, nil
}

var (
	wrkTotal    = regexp.MustCompile(`(?m)^\s*(\d+) requests in ([0-9.]+)(us|ms|s|m),`)
	wrkRPS      = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	wrkNon2xx   = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSocket   = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkLatDistr = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s|m)\s*$`)
)

// parseWrk reads wrk's report: totals, Requests/sec, errors and, with
// --latency, the 50th and 99th percentiles.
func parseWrk(out string) (peakResult, error) {
	res := peakResult{Tool: "wrk"}
	m := wrkRPS.FindStringSubmatch(out)
	if m == nil {
		return res, errors.New("no Requests/sec line")
	}
	rps, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return res, fmt.Errorf("Requests/sec: %w", err)
	}
	res.RPS = rps
	if m := wrkTotal.FindStringSubmatch(out); m != nil {
		res.Requests, _ = strconv.ParseInt(m[1], 10, 64)
		res.Duration, err = wrkDuration(m[2], m[3])
		if err != nil {
			return res, err
		}
	} else {
		return res, errors.New("no 'N requests in T' line")
	}
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		res.Errors += n
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			res.Errors += n
		}
	}
	for _, m := range wrkLatDistr.FindAllStringSubmatch(out, -1) {
		d, err := wrkDuration(m[2], m[3])
		if err != nil {
			return res, err
		}
		if m[1] == "50" {
			res.P50 = d
		} else {
			res.P99 = d
		}
	}
	return res, nil
}

// wrkDuration parses wrk's "12.34ms" style numbers.
func wrkDuration(num, unit string) (time.Duration, error) {
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("duration %s%s: %w", num, unit, err)
	}
	scale := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute}[unit]
	return time.Duration(f * float64(scale)), nil
}

// goClosedLoop is the fallback when wrk is not installed: conns workers
// on one shared transport, each sending its next GET when the last
// answer has been read.
func goClosedLoop(ctx context.Context, target string, conns int, dur time.Duration) (peakResult, error) {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	var ok, failed atomic.Int64
	perWorker := make([][]time.Duration, conns)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conns {
		wg.Go(func() {
			for ctx.Err() == nil {
				t0 := time.Now()
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
				if err != nil {
					failed.Add(1)
					return
				}
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						failed.Add(1)
					}
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch {
				case ctx.Err() != nil:
				case err != nil || resp.StatusCode >= 400:
					failed.Add(1)
				default:
					ok.Add(1)
					perWorker[w] = append(perWorker[w], time.Since(t0))
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, s := range perWorker {
		all = append(all, s...)
	}
	lat := summarize(all)
	return peakResult{
		Tool: "go", Conns: conns, Requests: ok.Load(), Duration: elapsed,
		RPS: float64(ok.Load()) / elapsed.Seconds(), Errors: failed.Load(),
		P50: lat.P50, P99: lat.P99,
	}, nil
}

// wrkVersion returns the first words of wrk's version line, such as
// "wrk debian/4.1.0-3+b2", or "" when it cannot tell.
func wrkVersion(ctx context.Context, wrkPath string) string {
	out, _ := exec.CommandContext(ctx, wrkPath, "--version").CombinedOutput()
	line, _, _ := strings.Cut(string(out), "\n")
	f := strings.Fields(line)
	return strings.Join(f[:min(2, len(f))], " ")
}
