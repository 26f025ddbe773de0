package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// burstResult is the outcome of n page loads started at once.
type burstResult struct {
	N          int
	OK         int // complete 200 pages
	Non200     int // answers with another status
	Incomplete int // 200s that lack a fragment or hold them out of order
	Failed     int // no answer: connection errors and timeouts
	Latency    latencies
	FirstErr   string
}

// burst starts n GETs of target at once, each on a connection of its own,
// waits for them all (each bounded by timeout), and checks every page as
// pageComplete does.
func burst(ctx context.Context, target string, n int, timeout time.Duration, markers []string) burstResult {
	tr := &http.Transport{MaxIdleConnsPerHost: n, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: timeout}
	type outcome struct {
		status   int
		complete bool
		latency  time.Duration
		err      error
	}
	outcomes := make([]outcome, n)
	start := make(chan struct{})
	var ready, done sync.WaitGroup
	ready.Add(n)
	for i := range n {
		done.Go(func() {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
			ready.Done()
			if err != nil {
				outcomes[i].err = err
				return
			}
			<-start
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				outcomes[i].err = err
				return
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			outcomes[i] = outcome{status: resp.StatusCode, complete: pageComplete(body, markers), latency: time.Since(t0), err: err}
		})
	}
	ready.Wait()
	close(start)
	done.Wait()

	res := burstResult{N: n}
	var samples []time.Duration
	for _, o := range outcomes {
		switch {
		case o.err != nil:
			res.Failed++
			if res.FirstErr == "" {
				res.FirstErr = o.err.Error()
			}
		case o.status != http.StatusOK:
			res.Non200++
			if res.FirstErr == "" {
				res.FirstErr = fmt.Sprintf("status %d", o.status)
			}
		case !o.complete:
			res.Incomplete++
		default:
			res.OK++
			samples = append(samples, o.latency)
		}
	}
	res.Latency = summarize(samples)
	return res
}
