package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// Thirty-two shoppers at once on a page of eight boxes of just under
// 1 MiB each ask for 256 MiB of fragment bodies at a time. The budget of
// bodies in flight (128 MiB by default) holds Inlay's peak RSS under the
// budget and 64 MiB: the boxes over it degrade, the pages are all served.
// Measured on a real `inlay serve` process (this test binary run as
// Inlay), without the race detector, whose shadow memory would be measured
// too: make test runs the TestLoad tests in a pass of their own.
func TestLoadBodiesInFlightStayWithinTheBudget(t *testing.T) {
	if raceDetector {
		t.Skip("measures RSS: make test runs it without -race")
	}
	box := bytes.Repeat([]byte("<p>0123456789abcdef</p>\n"), (1<<20-64)/25)
	team := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(box)
	})

	dir := t.TempDir()
	var layout strings.Builder
	layout.WriteString("<!doctype html><title>big</title><main>\n")
	for i := range 8 {
		fmt.Fprintf(&layout, "<fragment id=\"b%d\" src=\"team:/b%d\"><p>box %d is unavailable</p></fragment>\n", i, i, i)
	}
	layout.WriteString("</main><footer id=\"end\">end</footer>\n")
	addr := freeAddr(t)
	teamtest.Shop{
		Extra:    fmt.Sprintf("listen: %s\nlayouts: .\naccess_log: false\n", addr),
		Services: map[string]string{"team": team.URL},
		Pages:    "  - path: /\n    layout: p.html",
		Layouts:  map[string]string{"p.html": layout.String()},
	}.WriteIn(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "serve", "--config", filepath.Join(dir, "inlay.yaml"))
	cmd.Env = append(os.Environ(), childCommand+"=1")
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	teamtest.WaitUntil(t, addr+" accepting connections", func() bool { return teamtest.Accepting(addr) })

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}, Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var pages, whole, degraded int
	for range 32 {
		wg.Go(func() {
			for range 4 {
				resp, err := client.Get("http://" + addr + "/")
				if err != nil {
					t.Error(err)
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				mu.Lock()
				pages++
				switch {
				case err != nil || resp.StatusCode != http.StatusOK || !bytes.HasSuffix(bytes.TrimSpace(body), []byte(`<footer id="end">end</footer>`)):
					t.Errorf("page: %d %v, %d bytes", resp.StatusCode, err, len(body))
				case bytes.Contains(body, []byte("is unavailable")):
					degraded++
				default:
					whole++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	peak := peakRSS(t, cmd.Process.Pid)
	limit := int64(fetch.DefaultMaxInflightBytes + 64<<20)
	t.Logf("%d pages (%d whole, %d with degraded boxes); peak RSS %d MiB, limit %d MiB", pages, whole, degraded, peak>>20, limit>>20)
	if peak > limit {
		t.Errorf("peak RSS: got %d MiB, want at most the budget and 64 MiB (%d MiB)", peak>>20, limit>>20)
	}
	if whole == 0 {
		t.Error("no page was whole: the budget refused everything")
	}
}

// peakRSS reads a process's peak resident set (VmHWM) from /proc.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}
