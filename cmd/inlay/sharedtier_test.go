package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/fragments/shared/redistest"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// exactSharedTimeout is cache.shared.timeout in tests that count origin
// fetches exactly: the 20ms default can pass on a busy 2-core machine
// (under -race especially), and a replica whose lookup times out fetches
// the origin by itself, which is right in production and breaks an exact
// count. Tests about failures keep the default.
const exactSharedTimeout = "500ms"

// replica is one inlay serve process: the test binary re-executed.
type replica struct {
	addr, admin, config string
	cmd                 *exec.Cmd
	stopped             bool
}

// replicasPublicURL is the replicas' public_url: behind a load balancer
// every replica sees the shop's one host, while the tests reach each on
// its own port. Without it, each port would be a base URL of its own, and
// part of every fragment's key (row S5).
const replicasPublicURL = "public_url: http://127.0.0.1\n"

// sharedConfig writes a config for one replica: a page /p/{id} whose
// primary box comes from the team stub's /box/{id} (cookies forwarded),
// with the shared tier at redisURL (none when empty), timeout as
// cache.shared.timeout (the default when empty) and more top-level YAML.
// A deadline, if given, is the team's fragments' and the page's.
func sharedConfig(t *testing.T, team, redisURL, timeout, extra string, deadline ...string) (cfgPath, addr, admin string) {
	t.Helper()
	layout := `<!doctype html><title>shared</title><main><fragment id="box" src="team:/box/{id}" primary></fragment></main>` + "\n"
	addr, admin = freeAddr(t), freeAddr(t)
	cache := ""
	if redisURL != "" {
		cache = "cache:\n  shared:\n    url: " + redisURL + "\n"
		if timeout != "" {
			cache += "    timeout: " + timeout + "\n"
		}
	}
	service, page := "", ""
	for _, d := range deadline {
		service, page = "    timeout: "+d+"\n", "page_timeout: "+d+"\n"
	}
	cfgPath, _ = teamtest.Shop{
		Extra:       fmt.Sprintf("listen: %s\nadmin: %s\nlayouts: .\naccess_log: false\ndrain_delay: 10ms\n%s%s%s", addr, admin, page, cache, extra),
		Services:    map[string]string{"team": team},
		ServiceYAML: map[string]string{"team": "    cookies: true\n" + service},
		Pages:       "  - path: /p/{id}\n    layout: p.html",
		Layouts:     map[string]string{"p.html": layout},
	}.Write(t)
	return cfgPath, addr, admin
}

// startReplica starts an inlay serve process and waits for it to listen.
// A deadline, if given, is the team's fragments' and the page's.
func startReplica(t *testing.T, team, redisURL, timeout string, deadline ...string) *replica {
	t.Helper()
	return startReplicaWith(t, team, redisURL, timeout, replicasPublicURL, deadline...)
}

// startReplicaWith is startReplica with extra as more top-level YAML in
// place of the replicas' public_url.
func startReplicaWith(t *testing.T, team, redisURL, timeout, extra string, deadline ...string) *replica {
	t.Helper()
	cfg, addr, admin := sharedConfig(t, team, redisURL, timeout, extra, deadline...)
	r := &replica{addr: addr, admin: admin, config: cfg}
	r.cmd = exec.Command(os.Args[0], "serve", "--config", cfg)
	r.cmd.Env = append(os.Environ(), childCommand+"=1")
	r.cmd.Stderr = io.Discard
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.stop)
	teamtest.WaitUntil(t, addr+" accepting connections", func() bool { return teamtest.Accepting(addr) })
	teamtest.WaitUntil(t, admin+" accepting connections", func() bool { return teamtest.Accepting(admin) })
	return r
}

// stop ends the replica gracefully.
func (r *replica) stop() {
	if r.stopped {
		return
	}
	r.stopped = true
	r.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		r.cmd.Process.Kill()
		<-done
	}
}

// pageLoad is one page load's outcome.
type pageLoad struct {
	status int
	body   string
	timing string // Server-Timing
	took   time.Duration
}

func loadPage(client *http.Client, url string, header ...string) (pageLoad, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return pageLoad{}, err
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return pageLoad{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return pageLoad{status: resp.StatusCode, body: string(body), timing: resp.Header.Get("Server-Timing"), took: time.Since(start)}, err
}

// percentile returns the p-th percentile of ds (sorted in place).
func percentile(ds []time.Duration, p float64) time.Duration {
	slices.Sort(ds)
	if len(ds) == 0 {
		return 0
	}
	return ds[min(len(ds)-1, int(float64(len(ds))*p))]
}

// 300 concurrent cold loads of one page spread over 3 replicas, whose box
// takes 300ms: with the shared tier, the team sees 1 fetch; without, one
// per replica. The numbers (origin fetches, p50, p99) are in
// docs/benchmarks.md.
func TestLoadSharedTierColdPageAcrossReplicas(t *testing.T) {
	if raceDetector {
		t.Skip("counts and times a load of 3 processes: make test runs it without -race")
	}
	rs := redistest.Start(t)
	team := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond) // the box's own latency
		teamtest.Fragment("<p>cold box</p>", "max-age=60")(w, r)
	})
	for _, tc := range []struct {
		name     string
		redisURL string
		want     int64
	}{
		{"shared tier", rs.URL(""), 1},
		{"in-process only", "", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The box's and the page's deadline is a minute: the count
			// of origin fetches is the subject, and 300 loads on three
			// processes of a busy machine can take longer than the
			// defaults (I6).
			const longDeadline = "1m"
			replicas := []*replica{
				startReplica(t, team.URL, tc.redisURL, exactSharedTimeout, longDeadline),
				startReplica(t, team.URL, tc.redisURL, exactSharedTimeout, longDeadline),
				startReplica(t, team.URL, tc.redisURL, exactSharedTimeout, longDeadline),
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 100}, Timeout: 2 * time.Minute} // a hang guard
			defer client.CloseIdleConnections()
			// Each replica serves a page first, so that what is timed is
			// the cold key, not a process's first request.
			for _, r := range replicas {
				if p, err := loadPage(client, "http://"+r.addr+"/p/warm-"+r.addr); err != nil || p.status != http.StatusOK {
					t.Fatalf("warming %s: %d %v", r.addr, p.status, err)
				}
			}
			before := team.Hits()
			const loads = 300
			took := make([]time.Duration, loads)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range loads {
				wg.Go(func() {
					<-start
					p, err := loadPage(client, "http://"+replicas[i%len(replicas)].addr+"/p/cold")
					if err != nil || p.status != http.StatusOK || !strings.Contains(p.body, "<p>cold box</p>") {
						t.Errorf("load %d: %d %v", i, p.status, err)
					}
					took[i] = p.took
				})
			}
			close(start)
			wg.Wait()
			got := team.Hits() - before
			t.Logf("%s: %d loads over %d replicas: %d origin fetches, p50 %v, p99 %v",
				tc.name, loads, len(replicas), got, percentile(took, .5).Round(time.Millisecond), percentile(took, .99).Round(time.Millisecond))
			if got != tc.want {
				t.Errorf("origin fetches: got %d, want %d", got, tc.want)
			}
		})
	}
}

// A copy warmed through replica A with max-age=1, stale-if-error=600
// outlives A: once the service fails, a fresh replica B serves it.
func TestSharedTierStaleCopyOutlivesReplicas(t *testing.T) {
	rs := redistest.Start(t)
	team := teamtest.New(t, teamtest.Fragment("<p>warm copy</p>", "max-age=1, stale-if-error=600"))
	a := startReplica(t, team.URL, rs.URL(""), exactSharedTimeout)
	client := &http.Client{Timeout: 10 * time.Second}
	p, err := loadPage(client, "http://"+a.addr+"/p/1")
	if err != nil || p.status != http.StatusOK || !strings.Contains(p.body, "warm copy") {
		t.Fatalf("warming through A: %d %v", p.status, err)
	}
	warmed := time.Now()
	a.stop()
	team.Set(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusInternalServerError) })
	// The copy's freshness (max-age=1) ends; its stale-if-error window
	// does not.
	time.Sleep(time.Until(warmed.Add(1100 * time.Millisecond)))

	b := startReplica(t, team.URL, rs.URL(""), exactSharedTimeout)
	p, err = loadPage(client, "http://"+b.addr+"/p/1")
	if err != nil || p.status != http.StatusOK || !strings.Contains(p.body, "warm copy") {
		t.Fatalf("fresh replica B with the service down: %d %v\n%s", p.status, err, p.body)
	}
	if !strings.Contains(p.timing, `stale shared`) {
		t.Errorf("Server-Timing %q: want the box stale from the shared tier", p.timing)
	}
}

// Purge by tag on one replica's admin listener, then with inlay purge:
// both replicas show the new body. How soon is logged; the 30s wait only
// guards against a purge that never arrives (I6).
func TestSharedTierPurgeAcrossReplicas(t *testing.T) {
	rs := redistest.Start(t)
	team := teamtest.New(t, teamtest.Fragment("<p>v1</p>", "max-age=600", "Surrogate-Key", "sku-1 shelf"))
	a := startReplica(t, team.URL, rs.URL(""), exactSharedTimeout)
	b := startReplica(t, team.URL, rs.URL(""), exactSharedTimeout)
	client := &http.Client{Timeout: 10 * time.Second}
	for _, r := range []*replica{a, b} {
		if p, err := loadPage(client, "http://"+r.addr+"/p/1"); err != nil || !strings.Contains(p.body, "<p>v1</p>") {
			t.Fatalf("warming: %v", err)
		}
	}
	waitBoth := func(want string) {
		t.Helper()
		start := time.Now()
		deadline := start.Add(30 * time.Second)
		for _, r := range []*replica{a, b} {
			for {
				p, err := loadPage(client, "http://"+r.addr+"/p/1")
				if err == nil && strings.Contains(p.body, want) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("replica %s does not show %s 30s after the purge", r.addr, want)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		t.Logf("both replicas show %s %v after the purge", want, time.Since(start).Round(time.Millisecond))
	}

	team.Set(teamtest.Fragment("<p>v2</p>", "max-age=600", "Surrogate-Key", "sku-1 shelf"))
	resp, err := client.Post("http://"+a.admin+"/-/purge?tag=sku-1&tag=unused", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var res struct{ Purged int }
	err = json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || res.Purged != 1 {
		t.Fatalf("POST /-/purge: %d, %+v, %v; want 200 and 1 purged", resp.StatusCode, res, err)
	}
	waitBoth("<p>v2</p>")

	team.Set(teamtest.Fragment("<p>v3</p>", "max-age=600", "Surrogate-Key", "sku-1 shelf"))
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"purge", "--config", b.config, "--tag", "shelf"}, &stdout, &stderr); code != 0 {
		t.Fatalf("inlay purge: exit %d: %s", code, stderr.String())
	}
	if got := strings.TrimSpace(stdout.String()); got != `{"purged":1}` {
		t.Errorf("inlay purge printed %q", got)
	}
	waitBoth("<p>v3</p>")

	resp, err = client.Post("http://"+a.admin+"/-/purge", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("purge without a tag: %d, want 400", resp.StatusCode)
	}
}

// Without a shared tier, inlay purge asks the replica at the config's
// admin address, which purges its own memory.
func TestPurgeCommandWithoutSharedTier(t *testing.T) {
	team := teamtest.New(t, teamtest.Fragment("<p>v1</p>", "max-age=600", "Surrogate-Key", "sku-1"))
	a := startReplica(t, team.URL, "", "")
	client := &http.Client{Timeout: 10 * time.Second}
	loadPage(client, "http://"+a.addr+"/p/1")
	team.Set(teamtest.Fragment("<p>v2</p>", "max-age=600", "Surrogate-Key", "sku-1"))
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"purge", "--config", a.config, "--tag", "sku-1"}, &stdout, &stderr); code != 0 {
		t.Fatalf("inlay purge: exit %d: %s", code, stderr.String())
	}
	if got := strings.TrimSpace(stdout.String()); got != `{"purged":1}` {
		t.Errorf("inlay purge printed %q", got)
	}
	if p, err := loadPage(client, "http://"+a.addr+"/p/1"); err != nil || !strings.Contains(p.body, "<p>v2</p>") {
		t.Errorf("after the purge: %v\n%s", err, p.body)
	}
	for _, args := range [][]string{{"purge", "--config", a.config}, {"purge", "--config", filepath.Join(t.TempDir(), "none.yaml"), "--tag", "x"}} {
		stderr.Reset()
		if code := run(context.Background(), args, io.Discard, &stderr); code == 0 || !strings.Contains(stderr.String(), "inlay purge:") {
			t.Errorf("%q: exit %d, %q; want a clear error", args, code, stderr.String())
		}
	}
}

// A response fetched with the shopper's cookies and not marked public
// never reaches Redis: every key is scanned and every value read for its
// canary. One fetched without cookies does, so the scan can fail.
func TestSharedTierKeepsCredentialedResponsesOutOfRedis(t *testing.T) {
	rs := redistest.Start(t)
	team := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		teamtest.Fragment("<p>canary-"+strings.TrimPrefix(r.URL.Path, "/box/")+"</p>", "max-age=60")(w, r)
	})
	a := startReplica(t, team.URL, rs.URL(""), exactSharedTimeout)
	client := &http.Client{Timeout: 10 * time.Second}
	if p, err := loadPage(client, "http://"+a.addr+"/p/with-cookie", "Cookie", "session=shopper-secret"); err != nil || !strings.Contains(p.body, "canary-with-cookie") {
		t.Fatalf("with cookie: %v", err)
	}
	if p, err := loadPage(client, "http://"+a.addr+"/p/anonymous"); err != nil || !strings.Contains(p.body, "canary-anonymous") {
		t.Fatalf("anonymous: %v", err)
	}
	found := map[string]bool{}
	for k, v := range rs.Values(t) {
		for _, c := range []string{"canary-with-cookie", "canary-anonymous", "shopper-secret"} {
			if bytes.Contains(v, []byte(c)) || strings.Contains(k, c) {
				found[c] = true
			}
		}
	}
	if found["canary-with-cookie"] || found["shopper-secret"] {
		t.Errorf("a response fetched with cookies is in Redis: %v", found)
	}
	if !found["canary-anonymous"] {
		t.Error("the anonymous response is not in Redis: the scan proves nothing")
	}
}

// With Redis killed mid-run, every page is still 200 with its box: the
// box is the primary and the tier's calls run within its fetch's 1s
// deadline, so a page the dead tier held past it would be a 504. How fast
// the pages were is logged, not asserted (I6). With Redis back, the tier
// is used again. The tier keeps its 20ms default deadline.
func TestLoadSharedTierRedisKilledMidRun(t *testing.T) {
	if raceDetector {
		t.Skip("times pages of 2 processes: make test runs it without -race")
	}
	rs := redistest.Start(t)
	team := teamtest.New(t, teamtest.Fragment("<p>box</p>", "max-age=60"))
	a := startReplica(t, team.URL, rs.URL(""), "")
	b := startReplica(t, team.URL, rs.URL(""), "")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()

	var seq atomic.Int64
	var mu sync.Mutex
	var took []time.Duration
	load := func(rounds int) {
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for range rounds {
					r := []*replica{a, b}[w%2]
					p, err := loadPage(client, fmt.Sprintf("http://%s/p/k%d", r.addr, seq.Add(1)))
					if err != nil || p.status != http.StatusOK || !strings.Contains(p.body, "<p>box</p>") {
						t.Errorf("page: %d %v", p.status, err)
						return
					}
					mu.Lock()
					took = append(took, p.took)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	load(10)
	rs.Kill()
	load(25)
	if p, err := loadPage(client, "http://"+a.addr+"/-/ready"); err != nil || p.status != http.StatusOK {
		t.Errorf("/-/ready with Redis down: %d %v, want 200", p.status, err)
	}
	t.Logf("%d pages, Redis killed after 80: p50 %v, p99 %v", len(took), percentile(took, .5).Round(time.Millisecond), percentile(took, .99).Round(time.Millisecond))

	rs.Restart()
	deadline := time.Now().Add(30 * time.Second) // a hang guard: the Store probes every 500ms
	for i := 0; ; i++ {
		// A key A fetched is in the tier again once B finds it there.
		url := fmt.Sprintf("/p/back-%d", i)
		loadPage(client, "http://"+a.addr+url)
		p, err := loadPage(client, "http://"+b.addr+url)
		if err == nil && strings.Contains(p.timing, "shared") {
			t.Logf("tier used again %d tries after the restart", i+1)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tier was not used again within 30s of Redis coming back (last Server-Timing %q)", p.timing)
		}
		time.Sleep(100 * time.Millisecond)
	}
	resp, err := client.Get("http://" + a.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"inlay_shared_cache_up 1", `inlay_cache_tier_hits_total{tier="origin"}`, "inlay_shared_cache_errors_total"} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// I5: serve refuses a cache.shared.url that names a Redis Cluster node at
// start, with an error that names the limit, instead of starting a replica
// whose first tagged write would panic and end the process.
func TestServeRefusesARedisCluster(t *testing.T) {
	cl := redistest.StartCluster(t)
	team := teamtest.New(t, teamtest.Fragment("<p>box</p>", "max-age=60", "Surrogate-Key", "a b"))
	path, _, _ := sharedConfig(t, team.URL, cl.URL(), "", "")
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := false
	err = serve(ctx, cfg, nil, slog.New(slog.DiscardHandler), func(string) { started = true; cancel() })
	if started {
		t.Fatal("serve started on a Redis Cluster")
	}
	for _, want := range []string{"cache.shared", "Redis Cluster is not supported yet", "single primary"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("serve: %v; want an error saying %q", err, want)
		}
	}
}

// I5: a config reload whose cache.shared.url names a Redis Cluster node is
// rejected with the limit, and the running config, on its own shared tier,
// keeps serving.
func TestReloadRefusesARedisCluster(t *testing.T) {
	rs := redistest.Start(t)
	cl := redistest.StartCluster(t)
	team := teamtest.New(t, teamtest.Fragment("<p>box</p>", "max-age=60", "Surrogate-Key", "a b"))
	path, _, _ := sharedConfig(t, team.URL, rs.URL(""), exactSharedTimeout, "")
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &teamtest.Logs{}
	addrc := make(chan string, 1)
	served := make(chan error, 1)
	go func() {
		served <- serve(ctx, cfg, nil, slog.New(slog.NewJSONHandler(logs, nil)), func(addr string) { addrc <- addr })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-served:
		t.Fatalf("serve: %v", err)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, bytes.Replace(text, []byte(rs.URL("")), []byte(cl.URL()), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	teamtest.WaitUntil(t, "the reload is rejected", func() bool {
		return strings.Contains(logs.String(), "config rejected, the running one is kept")
	})
	if text := logs.String(); !strings.Contains(text, "Redis Cluster is not supported yet") {
		t.Errorf("the rejection does not name the limit:\n%s", text)
	}
	resp, body := teamtest.Get(t, "http://"+addr+"/p/1")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<p>box</p>") {
		t.Errorf("page after the rejected reload: %d %q", resp.StatusCode, body)
	}
	teamtest.WaitUntil(t, "the running shared tier stores the page's box", func() bool { return len(rs.Values(t)) > 0 })
	cancel()
	if err := <-served; err != nil {
		t.Errorf("serve: %v", err)
	}
}
