package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/inlayhq/inlay/teams/teamtest"
)

// A config reload keeps the fetch engine: during an outage, a save of the
// config file and a SIGHUP each leave the stale copy served and the open
// breaker open (Inlay does not call the sick service again), and 20
// reloads leave no connection pool or goroutine behind.
func TestReloadKeepsCacheAndBreakers(t *testing.T) {
	var failing atomic.Bool
	var calls atomic.Int64
	team := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if failing.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		// Stale as soon as it is stored (its Age uses up its max-age), and
		// kept for ten minutes of errors.
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Cache-Control", "max-age=1, stale-if-error=600")
		w.Header().Set("Age", "1")
		io.WriteString(w, "<p>box v1</p>")
	})
	main := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<h1>main</h1>")
	})

	dir := t.TempDir()
	write := func(name, body string) { teamtest.WriteFile(t, filepath.Join(dir, name), body) }
	write("p.html", `<fragment src="shell:/main" primary></fragment>[<fragment id="box" src="team:/box"><em>fallback</em></fragment>]`)
	cfgText := fmt.Sprintf("listen: 127.0.0.1:0\ndrain_delay: 1ms\nlayouts: .\nservices:\n  shell:\n    url: %s\n  team:\n    url: %s\n    breaker:\n      failures: 3\n      open_for: 10m\npages:\n  - path: /\n    layout: p.html\n", main.URL, team.URL)
	write("inlay.yaml", cfgText)
	logs := &teamtest.Logs{}
	base := serveFile(t, filepath.Join(dir, "inlay.yaml"), logs)
	stale := "<h1>main</h1>[<p>box v1</p>]"
	if _, body := get(t, base+"/"); body != stale {
		t.Fatalf("first page: %q", body)
	}
	// The service fails, and the breaker opens after three failures while
	// the stale copy is served.
	failing.Store(true)
	for range 3 {
		if _, body := get(t, base+"/"); body != stale {
			t.Fatalf("during the outage: got %q, want the stale copy", body)
		}
	}
	waitLog(t, logs, `"to":"open"`, 1)
	before := calls.Load()

	reloads := 0
	reload := func(how string, do func()) {
		t.Helper()
		reloads++
		do()
		waitLog(t, logs, "config reloaded", reloads)
		if _, body := get(t, base+"/"); body != stale {
			t.Errorf("after %s: got %q, want the stale copy", how, body)
		}
		if n := calls.Load(); n != before {
			t.Errorf("after %s: the sick service got %d calls, want none (its breaker open)", how, n-before)
		}
	}
	reload("a save of the config file", func() { write("inlay.yaml", cfgText+"# saved\n") })
	if reloadSignal != nil {
		reload("a SIGHUP", func() { raiseReload(t) })
	}

	// Twenty more reloads leave goroutines and open files where they were.
	goroutines, fds := runtime.NumGoroutine(), openFiles(t)
	for i := range 20 {
		reload(fmt.Sprintf("reload %d", i+1), func() { write("inlay.yaml", cfgText+strings.Repeat("#\n", i+2)) })
	}
	teamtest.WaitUntil(t, "goroutines and open files back at their level", func() bool {
		return runtime.NumGoroutine() <= goroutines+5 && openFiles(t) <= fds+5
	})
}

// openFiles counts the process's open file descriptors.
func openFiles(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(entries)
}
