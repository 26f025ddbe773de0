package main

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlayhq/inlay/teams/teamtest"
)

func TestPageComplete(t *testing.T) {
	markers := []string{"<a>", "<b>", "<c>"}
	for _, tc := range []struct {
		body string
		want bool
	}{
		{"<a>1<b>2<c>3", true},
		{"<a><b><c>", true},
		{"<a>1<c>3", false},     // one missing
		{"<b>1<a>2<c>3", false}, // out of order
		{"<a>", false},
		{"", false},
		{"<a><b><c><a>", true},
	} {
		if got := pageComplete([]byte(tc.body), markers); got != tc.want {
			t.Errorf("pageComplete(%q) = %t, want %t", tc.body, got, tc.want)
		}
	}
	if !pageComplete([]byte("anything"), nil) {
		t.Error("no markers: every body is complete")
	}
}

// kindServer answers a page per request, cycling through a complete
// page, a 500 and a page that lacks a fragment, and counts what it sent.
// The complete page is streamed in chunks, a fragment per chunk, as Inlay
// streams a page.
type kindServer struct {
	n                      atomic.Int64
	ok, non200, incomplete atomic.Int64
	complete, partial      string
}

func newKindServer() *kindServer {
	ms := fragmentMarkers()
	return &kindServer{
		complete: strings.Join(ms, "x"),
		partial:  strings.Join(ms[:len(ms)-1], "x"),
	}
}

func (k *kindServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch k.n.Add(1) % 3 {
	case 0:
		k.ok.Add(1)
		for _, m := range fragmentMarkers() {
			fmt.Fprint(w, m+"x")
			http.NewResponseController(w).Flush()
		}
	case 1:
		k.non200.Add(1)
		http.Error(w, k.complete, http.StatusInternalServerError)
	default:
		k.incomplete.Add(1)
		fmt.Fprint(w, k.partial)
	}
}

// TestClosedLoopChecksPages runs each closed-loop generator (wrk when
// installed) on one connection against a server whose answers are known,
// and compares the counts: they can differ by the one answer in flight
// when the run ends.
func TestClosedLoopChecksPages(t *testing.T) {
	wrk, _ := exec.LookPath("wrk")
	for _, gen := range []struct{ name, wrk string }{{"go", ""}, {"wrk", wrk}} {
		t.Run(gen.name, func(t *testing.T) {
			if gen.name == "wrk" && wrk == "" {
				t.Skip("wrk not installed (Debian package wrk)")
			}
			k := newKindServer()
			srv := teamtest.New(t, k.ServeHTTP)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := closedLoop(ctx, gen.wrk, srv.URL+"/page", 1, time.Second, fragmentMarkers()...)
			if err != nil {
				t.Fatal(err)
			}
			srv.Close() // every answer is counted by now
			if !res.Checked {
				t.Fatal("the run was not checked")
			}
			within := func(what string, got, sent int64) {
				if got > sent || got < sent-1 || sent == 0 {
					t.Errorf("%s: counted %d, the server sent %d", what, got, sent)
				}
			}
			within("non-200", res.Non200, k.non200.Load())
			within("incomplete", res.Incomplete, k.incomplete.Load())
			answered := res.Requests // wrk counts every answer
			if gen.wrk == "" {
				answered += res.Errors // vegeta's closed loop counts 5xx apart
			}
			within("answers", answered, k.n.Load())
			if len(res.Ladder) != len(ladderQuantiles) {
				t.Fatalf("a ladder of %d rungs, want %d", len(res.Ladder), len(ladderQuantiles))
			}
			for i, p := range res.Ladder {
				if p.Q != ladderQuantiles[i] || p.V <= 0 || i > 0 && p.V < res.Ladder[i-1].V {
					t.Fatalf("rung %d: %+v after %+v", i, p, res.Ladder[max(i-1, 0)])
				}
			}
		})
	}
}

func TestBurst(t *testing.T) {
	k := newKindServer()
	hang := make(chan struct{})
	var hung atomic.Int64
	srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		if hung.Add(1) <= 3 { // the first three never answer
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		k.ServeHTTP(w, r)
	})
	defer close(hang)
	// The three hung loads fail at the burst's deadline; it is 5s so
	// that no answered load of a busy machine reaches it (I6).
	res := burst(context.Background(), srv.URL, 63, 5*time.Second, fragmentMarkers())
	// 60 answered: 20 complete, 20 500s, 20 incomplete.
	want := burstResult{N: 63, OK: 20, Non200: 20, Incomplete: 20, Failed: 3}
	got := res
	got.Latency, got.FirstErr = latencies{}, ""
	if got != want {
		t.Errorf("burst = %+v, want %+v", got, want)
	}
	if res.Latency.N != 20 || res.FirstErr == "" {
		t.Errorf("latency samples %d, first error %q", res.Latency.N, res.FirstErr)
	}
}

// TestSampleTree samples a real process with two children: the tree is
// the three of them.
func TestSampleTree(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 60 & sleep 60 & wait")
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = killGroup(cmd.Process.Pid)
			_ = cmd.Wait()
		})
	}
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pr := newProcReader(ctx)
	waitFor(ctx, t, "two children", func() bool {
		c, err := pr.children(cmd.Process.Pid)
		return err == nil && len(c) == 2
	})
	one, err := pr.sample(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := pr.sampleTree(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if tree.HWM <= one.HWM || tree.RSS <= one.RSS {
		t.Errorf("tree %+v is not above its root %+v", tree, one)
	}
	stop()
	if _, err := pr.sampleTree(cmd.Process.Pid); err == nil {
		t.Error("sampling a process that is gone did not fail")
	}
}

func TestSelectScenarios(t *testing.T) {
	all, peers, err := selectScenarios("")
	if err != nil || len(all) != len(scenarios) || !peers {
		t.Errorf("all: %d scenarios, peers %t, %v", len(all), peers, err)
	}
	only, peers, err := selectScenarios(peerKey)
	if err != nil || len(only) != 0 || !peers {
		t.Errorf("%s: %d scenarios, peers %t, %v", peerKey, len(only), peers, err)
	}
	two, peers, err := selectScenarios("cacheable, direct")
	if err != nil || len(two) != 2 || two[0].Key != "direct" || peers {
		t.Errorf("two: %+v, peers %t, %v", two, peers, err)
	}
	if _, _, err := selectScenarios("nope"); err == nil {
		t.Error("an unknown scenario was accepted")
	}
	hanging, peers, err := selectScenarios(hangingKey + ",direct")
	if err != nil || len(hanging) != 1 || peers {
		t.Errorf("%s: %+v, peers %t, %v", hangingKey, hanging, peers, err)
	}
	slow, peers, err := selectScenarios(slowKey)
	if err != nil || len(slow) != 0 || peers {
		t.Errorf("%s: %+v, peers %t, %v", slowKey, slow, peers, err)
	}
	for _, tc := range []struct {
		only, key string
		want      bool
	}{
		{"", hangingKey, true},
		{hangingKey, hangingKey, true},
		{"direct, " + hangingKey, hangingKey, true},
		{"direct", hangingKey, false},
		{peerKey, hangingKey, false},
		{slowKey, hangingKey, false},
		{"", slowKey, true},
		{slowKey, slowKey, true},
		{hangingKey + ", " + slowKey, slowKey, true},
		{hangingKey, slowKey, false},
		{peerKey, slowKey, false},
	} {
		if got := wants(tc.only, tc.key); got != tc.want {
			t.Errorf("wants(%q, %q) = %t, want %t", tc.only, tc.key, got, tc.want)
		}
	}
}

// peerFixture builds side-by-side results with the given figures.
func peerFixture(withNginx bool) []*peerResult {
	ms, us := time.Millisecond, time.Microsecond
	mk := func(key string, proc bool, loops map[int]peerLoop, rss int64, b *burstResult) *peerResult {
		var col peerColumn
		for _, c := range peerColumns {
			if c.Key == key {
				col = c
			}
		}
		r := &peerResult{Column: col, PageBytes: 8522, Loops: map[int]*peerLoop{}, HasProc: proc, RSSPeak: rss, Burst: b}
		for c, l := range loops {
			l.Conns, l.Checked = c, true
			r.Loops[c] = &l
		}
		return r
	}
	loop := func(rps float64, p50, cpu time.Duration, requests int64) peerLoop {
		return peerLoop{peakResult: peakResult{RPS: rps, P50: p50, Requests: requests}, CPUPerPage: cpu}
	}
	okBurst := &burstResult{N: 1000, OK: 1000}
	out := []*peerResult{
		mk("direct", false, map[int]peerLoop{64: loop(3000, 20*ms, 0, 30000)}, 0, nil),
		// no-store: CPU 2 × nginx (fail), p50 1.04 × (pass), 3 incomplete at 256 (fail), RSS 70 MiB (fail)
		mk("inlay-no-store", true, map[int]peerLoop{64: loop(2900, 20800*us, 200*us, 29000), 256: loop(3500, 70*ms, 250*us, 35000)}, 70<<20,
			&burstResult{N: 1000, OK: 998, Incomplete: 2}),
	}
	out[1].Loops[256].Incomplete = 3
	// the floor, bare and with Inlay's defaults: no target of this table
	out = append(out,
		mk("floor-no-store", true, map[int]peerLoop{64: loop(2950, 20500*us, 120*us, 29500), 256: loop(6000, 40*ms, 110*us, 60000)}, 10<<20, nil),
		mk("floor-defaults-no-store", true, map[int]peerLoop{64: loop(2950, 20600*us, 135*us, 29500), 256: loop(5800, 42*ms, 125*us, 58000)}, 12<<20, nil))
	if withNginx {
		out = append(out, mk("nginx-no-store", true, map[int]peerLoop{64: loop(2900, 21*ms, 100*us, 29000), 256: loop(3800, 60*ms, 120*us, 38000)}, 30<<20, okBurst))
	}
	// cached: 1.2 × nginx's req/s (pass), CPU equal (pass)
	out = append(out, mk("inlay-cached", true, map[int]peerLoop{64: loop(20000, 3*ms, 40*us, 200000), 256: loop(24000, 10*ms, 40*us, 240000)}, 40<<20, okBurst))
	if withNginx {
		out = append(out, mk("nginx-cached", true, map[int]peerLoop{64: loop(20000, 3*ms, 40*us, 200000), 256: loop(20000, 12*ms, 40*us, 200000)}, 30<<20, okBurst))
	}
	return out
}

func TestCheckPeers(t *testing.T) {
	verdicts := func(cs []check) map[string]string {
		m := map[string]string{}
		for _, c := range cs {
			v := "fail"
			switch {
			case c.Skipped:
				v = "skipped"
			case c.Pass:
				v = "pass"
			}
			m[c.Target] = v
		}
		return m
	}
	want := map[string]string{
		"no-store: CPU per page ≤ 1.0 × nginx SSI's, 64 connections":                 "fail",
		"no-store: p50 ≤ 1.05 × direct search, 64 connections":                       "pass",
		"no-store: 0 errors, 0 non-200 and 0 incomplete pages, 64 connections":       "pass",
		"no-store: 0 errors, 0 non-200 and 0 incomplete pages, 256 connections":      "fail",
		"no-store: burst of 1,000 loads, 0 failed, 0 non-200 and 0 incomplete pages": "fail",
		"no-store: peak RSS ≤ 64.0 MiB, 256 connections":                             "fail",
		"cached: 0 errors, 0 non-200 and 0 incomplete pages, 64 connections":         "pass",
		"cached: 0 errors, 0 non-200 and 0 incomplete pages, 256 connections":        "pass",
		"cached: burst of 1,000 loads, 0 failed, 0 non-200 and 0 incomplete pages":   "pass",
		"cached: req/s ≥ 1.1 × nginx SSI's, 256 connections":                         "pass",
		"cached: CPU per page ≤ nginx SSI's, 256 connections":                        "pass",
	}
	got := verdicts(checkPeers(peerFixture(true)))
	for target, v := range want {
		if got[target] != v {
			t.Errorf("%s: got %q, want %q", target, got[target], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d checks, want %d: %v", len(got), len(want), got)
	}

	without := verdicts(checkPeers(peerFixture(false)))
	for _, target := range []string{
		"no-store: CPU per page ≤ 1.0 × nginx SSI's, 64 connections",
		"cached: req/s ≥ 1.1 × nginx SSI's, 256 connections",
		"cached: CPU per page ≤ nginx SSI's, 256 connections",
	} {
		if without[target] != "skipped" {
			t.Errorf("without nginx, %s: got %q, want skipped", target, without[target])
		}
	}
	if without["no-store: peak RSS ≤ 64.0 MiB, 256 connections"] != "fail" {
		t.Error("without nginx, the RSS target was not checked")
	}
}

func TestRenderPeers(t *testing.T) {
	results := peerFixture(true)
	md := renderPeers(benchConfig{Duration: 10 * time.Second, Warmup: 2 * time.Second}, peerConfig{Burst: 1000}, "nginx 1.0", results, checkPeers(results))
	wantInMarkdown(t, md,
		"| | direct: search (slowest) | Inlay, no-store | floor program, no-store | floor program with Inlay's defaults, no-store | nginx SSI, no-store | "+
			"Inlay, max-age=60 | nginx SSI + proxy_cache, max-age=60 |",
		"| req/s, 64 connections | 3,000 | 2,900 | 2,950 | 2,950 | 2,900 | 20,000 | 20,000 |",
		"| CPU per page, 64 connections | – | 0.200 ms | 0.120 ms | 0.135 ms | 0.100 ms | 0.040 ms | 0.040 ms |",
		"| errors / non-200 / incomplete, 256 connections | – | 0 / 0 / 3 of 35,000 |",
		"| burst of 1,000: failed / non-200 / incomplete | – | 0 / 0 / 2 | – | – | 0 / 0 / 0 |",
		"| peak RSS (VmHWM) after 256 connections | – | 70.0 MiB | 10.0 MiB | 12.0 MiB | 30.0 MiB | 40.0 MiB | 30.0 MiB |",
		"| no-store: CPU per page ≤ 1.0 × nginx SSI's, 64 connections | 0.200 ms / 0.100 ms = 2.00 × | **fail** |",
		"| cached: req/s ≥ 1.1 × nginx SSI's, 256 connections | 24,000 / 20,000 = 1.20 × | pass |",
	)
}

// TestPeerRunColumns: a run measures the columns whose server is there,
// in peerColumns' order: the floor's four (bare, bare again as the
// control, with Inlay's defaults, and the page stitched once) only when it
// was built (-floor), nginx's only when it is installed, and
// the direct column in the first run only.
func TestPeerRunColumns(t *testing.T) {
	for _, tc := range []struct {
		name string
		pc   peerConfig
		run  int
		want []string
	}{
		{"every server, first run", peerConfig{Floor: "/bin/floor", Nginx: "/usr/sbin/nginx"}, 1, []string{
			"direct", "inlay-no-store", "floor-no-store", "floor-again-no-store", "floor-defaults-no-store", "nginx-no-store", "inlay-cached", "floor-cached", "nginx-cached"}},
		{"every server, second run", peerConfig{Floor: "/bin/floor", Nginx: "/usr/sbin/nginx"}, 2, []string{
			"inlay-no-store", "floor-no-store", "floor-again-no-store", "floor-defaults-no-store", "nginx-no-store", "inlay-cached", "floor-cached", "nginx-cached"}},
		{"no floor (-floor=false)", peerConfig{Nginx: "/usr/sbin/nginx"}, 1, []string{
			"direct", "inlay-no-store", "nginx-no-store", "inlay-cached", "nginx-cached"}},
		{"no nginx", peerConfig{Floor: "/bin/floor"}, 3, []string{
			"inlay-no-store", "floor-no-store", "floor-again-no-store", "floor-defaults-no-store", "inlay-cached", "floor-cached"}},
		{"Inlay alone", peerConfig{}, 1, []string{"direct", "inlay-no-store", "inlay-cached"}},
	} {
		var got []string
		for _, col := range peerRunColumns(tc.pc, tc.run) {
			got = append(got, col.Key)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: columns %q, want %q", tc.name, got, tc.want)
		}
	}
}
