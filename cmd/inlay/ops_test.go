package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inlayhq/inlay/teams/teamtest"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// get fetches url (see teamtest.Get) and returns the status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, body := teamtest.Get(t, url)
	return resp.StatusCode, body
}

// TestServeOperations runs `serve` with an admin listener: metrics and
// pprof only there, readiness, one access-log line per page, and a config
// reloaded on SIGHUP (a broken one keeps the running config).
func TestServeOperations(t *testing.T) {
	team := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<p>from "+r.URL.Path+"</p>")
	})
	dir := t.TempDir()
	write := func(name, body string) { teamtest.WriteFile(t, filepath.Join(dir, name), body) }
	write("p.html", `<fragment src="team:/one" primary></fragment>`)
	write("q.html", `<fragment src="team:/two" primary></fragment>`)
	admin := freeAddr(t)
	cfgText := func(layout string) string {
		// The drain delay on shutdown is TestServeDrainsInFlightPagesOnShutdown's.
		return fmt.Sprintf("listen: 127.0.0.1:0\ndrain_delay: 1ms\nadmin: %s\nlayouts: .\nservices:\n  team:\n    url: %s\npages:\n  - path: /\n    layout: %s\n", admin, team.URL, layout)
	}
	write("inlay.yaml", cfgText("p.html"))
	logs := &teamtest.Logs{}
	base := serveFile(t, filepath.Join(dir, "inlay.yaml"), logs)

	if code, body := get(t, base+"/"); code != 200 || body != "<p>from /one</p>" {
		t.Fatalf("page: %d %q", code, body)
	}
	if code, _ := get(t, base+"/-/ready"); code != 200 {
		t.Errorf("ready: %d, want 200", code)
	}
	if code, _ := get(t, base+"/metrics"); code != 404 {
		t.Errorf("metrics on the shopper port: %d, want 404", code)
	}
	// The page is counted once its handler returns, which may be just
	// after the shopper has the last byte: wait for it, under a hang guard.
	const counted = `inlay_page_duration_seconds_count{route="/",status="200"} 1`
	code, metrics := get(t, "http://"+admin+"/metrics")
	for deadline := time.Now().Add(10 * time.Second); code == 200 && !strings.Contains(metrics, counted) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		code, metrics = get(t, "http://"+admin+"/metrics")
	}
	if code != 200 || !strings.Contains(metrics, counted) {
		t.Errorf("admin metrics: %d, lacks the page: %.300s", code, metrics)
	}
	if code, _ := get(t, "http://"+admin+"/debug/pprof/"); code != 200 {
		t.Errorf("pprof on admin: %d", code)
	}
	if !strings.Contains(logs.String(), `"msg":"page"`) || !strings.Contains(logs.String(), `"route":"/"`) {
		t.Errorf("no access log line: %s", logs.String())
	}

	// An edit of the file reloads it: a broken one is rejected and the
	// running config keeps serving.
	write("inlay.yaml", cfgText("p.html")+"bogus: 1\n")
	waitLog(t, logs, "config rejected", 1)
	if _, body := get(t, base+"/"); body != "<p>from /one</p>" {
		t.Errorf("after a broken reload: %q", body)
	}
	// So is an emptied one, as an editor leaves it between truncating the
	// file and writing it.
	write("inlay.yaml", "")
	waitLog(t, logs, "config rejected", 2)
	if _, body := get(t, base+"/"); body != "<p>from /one</p>" {
		t.Errorf("after an empty reload: %q", body)
	}
	// A good one is swapped in.
	write("inlay.yaml", cfgText("q.html"))
	waitLog(t, logs, "config reloaded", 1)
	if _, body := get(t, base+"/"); body != "<p>from /two</p>" {
		t.Errorf("after reload: %q, want the new layout", body)
	}
	if code, _ := get(t, base+"/-/ready"); code != 200 {
		t.Errorf("ready after reload: %d", code)
	}
	// SIGHUP reloads the file as it stands, unchanged.
	if reloadSignal == nil {
		return
	}
	raiseReload(t)
	waitLog(t, logs, "config reloaded", 2)
	if _, body := get(t, base+"/"); body != "<p>from /two</p>" {
		t.Errorf("after SIGHUP: %q", body)
	}
}

// raiseReload sends the test process its own reloadSignal.
func raiseReload(t *testing.T) {
	t.Helper()
	self, err := os.FindProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if err := self.Signal(reloadSignal); err != nil {
		t.Fatalf("sending %v: %v", reloadSignal, err)
	}
}

// waitLog waits up to 5s for a log message to have been logged n times.
func waitLog(t *testing.T, logs *teamtest.Logs, msg string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(logs.String(), msg) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%q not logged %d times within 5s: %s", msg, n, logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
