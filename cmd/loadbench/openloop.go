package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// openLoopResult is the outcome of a fixed-rate attack.
type openLoopResult struct {
	Rate     int
	Duration time.Duration
	OK       int // 2xx responses
	Failed   int // errors and other statuses
	Latency  latencies
	FirstErr string
}

// openLoop sends GET target at a fixed rate for dur, whatever the server's
// speed (vegeta's open loop: a late answer does not delay the next
// request), and returns the exact latency percentiles of the answers.
func openLoop(ctx context.Context, target string, rate int, dur time.Duration) (openLoopResult, error) {
	attacker := vegeta.NewAttacker(
		vegeta.Timeout(5*time.Second),
		vegeta.KeepAlive(true),
		vegeta.MaxBody(0), // read and discard the body: latency is to the last byte
		vegeta.Redirects(vegeta.NoFollow),
		vegeta.Proxy(func(*http.Request) (*url.URL, error) { return nil, nil }),
	)
	targeter := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: target})
	pacer := vegeta.ConstantPacer{Freq: rate, Per: time.Second}
	res := openLoopResult{Rate: rate, Duration: dur}
	samples := make([]time.Duration, 0, rate*int(dur/time.Second+1))
	stop := context.AfterFunc(ctx, func() { attacker.Stop() })
	defer stop()
	for r := range attacker.Attack(targeter, pacer, dur, "loadbench") {
		if r.Error == "" && r.Code >= 200 && r.Code < 300 {
			res.OK++
			samples = append(samples, r.Latency)
			continue
		}
		res.Failed++
		if res.FirstErr == "" {
			res.FirstErr = fmt.Sprintf("status %d: %s", r.Code, r.Error)
		}
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	res.Latency = summarize(samples)
	return res, nil
}

// measureTTFB sends n sequential GETs of target on one kept-alive
// connection and returns the time from sending each request to the first
// byte of its response.
func measureTTFB(ctx context.Context, target string, n int) (latencies, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	samples := make([]time.Duration, 0, n)
	for i := -1; i < n; i++ { // request -1 opens the connection and is not counted
		var start, first time.Time
		trace := &httptrace.ClientTrace{
			WroteRequest:         func(httptrace.WroteRequestInfo) { start = time.Now() },
			GotFirstResponseByte: func() { first = time.Now() },
		}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, target, nil)
		if err != nil {
			return latencies{}, fmt.Errorf("ttfb request: %w", err)
		}
		resp, err := client.Do(req)
		if err != nil {
			return latencies{}, fmt.Errorf("ttfb: %w", err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return latencies{}, fmt.Errorf("ttfb: reading body: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			return latencies{}, fmt.Errorf("ttfb: status %d", resp.StatusCode)
		}
		if i >= 0 {
			samples = append(samples, first.Sub(start))
		}
	}
	return summarize(samples), nil
}
