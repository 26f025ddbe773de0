package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inlayhq/inlay/composer"
	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/composer/watch"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// waitTimeout bounds every wait for a reload to show. It guards against a
// hang, no more: a reload that shows at all shows long before it, even on a
// busy machine under -race (I6).
const waitTimeout = 30 * time.Second

// teamFragment is what the stub team service answers for every fragment.
const teamFragment = `<p class="team">from the team</p>`

// layoutV is a valid layout whose served page says which version it is.
// The line numbers matter: invalid edits point at line 6.
func layoutV(n int) string {
	return fmt.Sprintf(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Inlay watch test</title></head>
<body>
  <h1 id="version">v%d</h1>
  <fragment id="main" src="team:/fragments/main" primary></fragment>
  <p>Grüße aus dem Test.</p>
</body>
</html>
`, n)
}

// pageV is the complete page served for layoutV(n): the layout with the
// team's fragment in its slot.
func pageV(n int) string {
	return strings.Replace(layoutV(n), `<fragment id="main" src="team:/fragments/main" primary></fragment>`, teamFragment, 1)
}

var versionRe = regexp.MustCompile(`<h1 id="version">v(\d+)</h1>`)

// servedVersion returns the version of a complete page, or an error that
// says what is wrong with it: a half layout, a page not in the set.
func servedVersion(status int, body string) (int, error) {
	if status != http.StatusOK {
		return 0, fmt.Errorf("status %d: %.200q", status, body)
	}
	m := versionRe.FindStringSubmatch(body)
	if m == nil {
		return 0, fmt.Errorf("no version in the page: %.200q", body)
	}
	n, _ := strconv.Atoi(m[1])
	if body != pageV(n) {
		return n, fmt.Errorf("page v%d is not complete: %q", n, body)
	}
	return n, nil
}

// logBuffer collects a JSON logger's records.
type logBuffer struct{ teamtest.Logs }

// logRecord is the part of a log record the tests look at.
type logRecord struct {
	Level   string `json:"level"`
	Msg     string `json:"msg"`
	Problem string `json:"problem"`
	Dir     string `json:"dir"`
}

// records returns every record logged so far.
func (b *logBuffer) records() []logRecord {
	var recs []logRecord
	for line := range bytes.Lines(b.Bytes()) {
		var r logRecord
		if json.Unmarshal(line, &r) == nil {
			recs = append(recs, r)
		}
	}
	return recs
}

// count returns how many records logged so far match.
func (b *logBuffer) count(match func(logRecord) bool) int {
	n := 0
	for _, r := range b.records() {
		if match(r) {
			n++
		}
	}
	return n
}

// isRejection matches the watcher's record of a rejected layout file.
func isRejection(file string) func(logRecord) bool {
	return func(r logRecord) bool {
		return r.Level == "ERROR" && strings.HasPrefix(r.Problem, file+":")
	}
}

// shop is a real Inlay (composer.Server behind an httptest server) in front
// of a stub team service, with the layouts watcher running.
type shop struct {
	url     string
	srv     *composer.Server
	dir     string // the layouts folder
	logs    *logBuffer
	client  *http.Client
	stopped bool
	stop    func()
}

// shopConfig is the config of a test shop: one page, /, with home.html.
func shopConfig(layoutsDir, teamURL string) string {
	return teamtest.Shop{
		Extra:          "listen: 127.0.0.1:0\nlayouts: " + layoutsDir + "\npage_timeout: 5s\n",
		Services:       map[string]string{"team": teamURL},
		ServiceTimeout: "5s",
		Pages:          "  - path: /\n    layout: home.html",
	}.YAML()
}

// startStubTeam starts the stub team service.
func startStubTeam(t *testing.T) *teamtest.Team {
	t.Helper()
	return teamtest.New(t, teamtest.Route{Body: teamFragment, Header: map[string]string{"Cache-Control": "max-age=60"}}.ServeHTTP)
}

// startShop starts Inlay with the config at configPath and watches its
// layouts folder until the test ends.
func startShop(t *testing.T, configPath string) *shop {
	t.Helper()
	cfg, err := config.Load(configPath)
	if err != nil {
		t.Fatalf("loading the config: %v", err)
	}
	logs := &logBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := composer.New(cfg, composer.Options{Logger: logger})
	if err != nil {
		t.Fatalf("starting Inlay: %v", err)
	}
	front := httptest.NewServer(srv)
	stopWatch, err := watchLayouts(t.Context(), cfg.LayoutsDir(), srv.Layouts(), logger)
	if err != nil {
		t.Fatalf("watching layouts: %v", err)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	s := &shop{url: front.URL, srv: srv, dir: cfg.LayoutsDir(), logs: logs, client: client}
	s.stop = stopWatch
	t.Cleanup(func() {
		s.stopWatching()
		client.CloseIdleConnections()
		front.Close()
		srv.Close()
		if t.Failed() {
			t.Logf("Inlay's log:\n%s", logs)
		}
	})
	return s
}

// stopWatching stops the watcher, once.
func (s *shop) stopWatching() {
	if !s.stopped {
		s.stopped = true
		s.stop()
	}
}

// newShop writes home.html version 1 into a fresh layouts folder and
// starts a shop on it.
func newShop(t *testing.T) *shop {
	t.Helper()
	team := startStubTeam(t)
	root := t.TempDir()
	teamtest.WriteFiles(t, root, map[string]string{
		"layouts/home.html": layoutV(1),
		"inlay.yaml":        shopConfig("layouts", team.URL),
	})
	return startShop(t, filepath.Join(root, "inlay.yaml"))
}

// get fetches a page of the shop.
func (s *shop) get(path string) (int, string, error) {
	resp, err := s.client.Get(s.url + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, string(body), fmt.Errorf("reading the page: %w", err)
	}
	return resp.StatusCode, string(body), nil
}

// home returns the version of the served home page, or why it is none.
func (s *shop) home() (int, error) {
	status, body, err := s.get("/")
	if err != nil {
		return 0, err
	}
	return servedVersion(status, body)
}

// waitForHome polls the home page until it is version n.
func (s *shop) waitForHome(t *testing.T, n int) time.Duration {
	t.Helper()
	start := time.Now()
	pollUntil(t, fmt.Sprintf("the home page to be v%d", n), func() (bool, string) {
		v, err := s.home()
		if err != nil {
			return false, err.Error()
		}
		return v == n, fmt.Sprintf("v%d", v)
	})
	return time.Since(start)
}

// pollUntil polls cond until it holds, failing the test after waitTimeout.
// cond also describes what it saw, for the failure message.
func pollUntil(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ok, seen := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s; last saw: %s", waitTimeout, what, seen)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// load sends a steady stream of home page requests and checks each answer.
type load struct {
	stop chan struct{}
	wg   sync.WaitGroup

	mu       sync.Mutex
	total    int
	failures []string
}

// loadWorkers share the request rate of startLoad.
const loadWorkers = 4

// startLoad requests / at about rate requests per second, for at most
// maxFor, until finish. check judges each answer; each worker's pages
// must also never go back to an older version.
func startLoad(t *testing.T, s *shop, rate int, maxFor time.Duration, check func(status int, body string) (int, error)) *load {
	t.Helper()
	l := &load{stop: make(chan struct{})}
	end := time.Now().Add(maxFor)
	period := time.Duration(loadWorkers) * time.Second / time.Duration(rate)
	for range loadWorkers {
		l.wg.Go(func() {
			tick := time.NewTicker(period)
			defer tick.Stop()
			last := 0
			for time.Now().Before(end) {
				select {
				case <-l.stop:
					return
				case <-tick.C:
				}
				status, body, err := s.get("/")
				var v int
				if err == nil {
					v, err = check(status, body)
				}
				if err == nil && v < last {
					err = fmt.Errorf("went back from v%d to v%d", last, v)
				}
				last = max(last, v)
				l.mu.Lock()
				l.total++
				if err != nil {
					l.failures = append(l.failures, err.Error())
				}
				l.mu.Unlock()
			}
		})
	}
	t.Cleanup(func() { l.finish() })
	return l
}

// finish stops the load and returns how many requests were sent and what
// went wrong with them.
func (l *load) finish() (int, []string) {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total, l.failures
}

// waitForMore waits until n more requests have been answered, so that a
// phase of a test surely ran under load.
func (l *load) waitForMore(t *testing.T, n int) {
	t.Helper()
	l.mu.Lock()
	want := l.total + n
	l.mu.Unlock()
	pollUntil(t, fmt.Sprintf("%d more requests under load", n), func() (bool, string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.total >= want, fmt.Sprintf("%d of %d", l.total, want)
	})
}

// checkLoad fails the test if any request under load failed, or if too
// few were sent for the test to mean anything.
//
// It first waits until atLeast requests have been answered, so that the
// count is the test's and not the machine's speed (I6).
func checkLoad(t *testing.T, l *load, atLeast int) {
	t.Helper()
	pollUntil(t, fmt.Sprintf("%d requests under load", atLeast), func() (bool, string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.total >= atLeast, fmt.Sprintf("%d", l.total)
	})
	total, failures := l.finish()
	if len(failures) > 0 {
		t.Errorf("%d of %d requests under load failed; first: %s", len(failures), total, strings.Join(failures[:min(3, len(failures))], "\n"))
	}
	if total < atLeast {
		t.Errorf("only %d requests were sent under load, want at least %d", total, atLeast)
	}
	t.Logf("%d requests under load, %d failed", total, len(failures))
}

// oneOf accepts complete pages of the given versions.
func oneOf(versions ...int) func(int, string) (int, error) {
	return func(status int, body string) (int, error) {
		v, err := servedVersion(status, body)
		if err != nil {
			return v, err
		}
		for _, ok := range versions {
			if v == ok {
				return v, nil
			}
		}
		return v, fmt.Errorf("served v%d, want one of %v", v, versions)
	}
}

func mustMkdir(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(path, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustRename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// saveStyles are the ways editors and tools save a file, each a function
// that replaces path's content.
var saveStyles = []struct {
	name string
	save func(t *testing.T, path, content string)
}{
	{"in place: truncate and write (VS Code, echo >)", func(t *testing.T, path, content string) {
		teamtest.WriteFile(t, path, content)
	}},
	{"temp file renamed over it (atomic save)", func(t *testing.T, path, content string) {
		teamtest.WriteFile(t, path+".tmp", content)
		mustRename(t, path+".tmp", path)
	}},
	{"hidden temp file renamed over it (gedit, kate)", func(t *testing.T, path, content string) {
		tmp := filepath.Join(filepath.Dir(path), ".goutputstream-ABC123")
		teamtest.WriteFile(t, tmp, content)
		mustRename(t, tmp, path)
	}},
	{"backup renamed away, new file written (vim)", func(t *testing.T, path, content string) {
		mustRename(t, path, path+"~")
		teamtest.WriteFile(t, path, content)
		if err := os.Remove(path + "~"); err != nil {
			t.Fatal(err)
		}
	}},
	{"safe write: temp, old renamed away, temp renamed in (JetBrains)", func(t *testing.T, path, content string) {
		teamtest.WriteFile(t, path+"___jb_tmp___", content)
		mustRename(t, path, path+"___jb_old___")
		mustRename(t, path+"___jb_tmp___", path)
		if err := os.Remove(path + "___jb_old___"); err != nil {
			t.Fatal(err)
		}
	}},
}

// TestWatchReloadsEditorSaves saves home.html twice in each editor's way:
// both versions are served, each within the wait.
func TestWatchReloadsEditorSaves(t *testing.T) {
	for _, style := range saveStyles {
		t.Run(style.name, func(t *testing.T) {
			s := newShop(t)
			home := filepath.Join(s.dir, "home.html")
			for v := 2; v <= 3; v++ {
				style.save(t, home, layoutV(v))
				took := s.waitForHome(t, v)
				t.Logf("v%d served %s after the save", v, took.Round(time.Millisecond))
			}
		})
	}
}

// TestWatchReloadsDuringSteadyChurn changes a layout while another file in
// the folder is rewritten every 20 ms, more often than the quiet period:
// the reload must not wait for the churn to stop. The churn goes on until
// v2 is served (or waitTimeout, a hang guard), so what is asserted is the
// order, v2 while the folder is never quiet, not how soon: within about
// watch.MaxDelay on an idle machine, logged here (I6).
func TestWatchReloadsDuringSteadyChurn(t *testing.T) {
	s := newShop(t)
	teamtest.WriteFile(t, filepath.Join(s.dir, "home.html"), layoutV(2))
	start := time.Now()
	for i := 0; time.Since(start) < waitTimeout; i++ {
		teamtest.WriteFile(t, filepath.Join(s.dir, "notes.txt"), strconv.Itoa(i))
		if v, err := s.home(); err == nil && v == 2 {
			t.Logf("v2 served %s after the change, after %d writes of another file every 20ms (watch.MaxDelay %s)",
				time.Since(start).Round(time.Millisecond), i+1, watch.MaxDelay)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("v2 not served while another file changed every 20ms for %s: the reload waits for a quiet folder", waitTimeout)
}

// slotIDOf returns the id of the first slot of a loaded layout, or "".
func slotIDOf(s *shop, name string) string {
	l := s.srv.Layouts().Get(name)
	if l == nil || len(l.Slots) == 0 {
		return ""
	}
	return l.Slots[0].ID
}

// smallLayout is a valid layout whose one slot has the given id.
func smallLayout(id string) string {
	return fmt.Sprintf(`<main><fragment id=%q src="team:/fragments/main"></fragment></main>`, id)
}

// TestWatchAddsAndRemovesLayouts adds and removes layout files, at the top
// and in subfolders made after the watch started.
func TestWatchAddsAndRemovesLayouts(t *testing.T) {
	s := newShop(t)
	steps := []struct {
		name   string
		change func(t *testing.T)
		layout string // the layout to look at
		wantID string // its first slot's id; "" for not loaded
	}{
		{"file added", func(t *testing.T) {
			teamtest.WriteFile(t, filepath.Join(s.dir, "extra.html"), smallLayout("extra-1"))
		}, "extra.html", "extra-1"},
		{"file edited", func(t *testing.T) {
			teamtest.WriteFile(t, filepath.Join(s.dir, "extra.html"), smallLayout("extra-2"))
		}, "extra.html", "extra-2"},
		{"file removed", func(t *testing.T) {
			if err := os.Remove(filepath.Join(s.dir, "extra.html")); err != nil {
				t.Fatal(err)
			}
		}, "extra.html", ""},
		{"subfolder with a file added", func(t *testing.T) {
			mustMkdir(t, filepath.Join(s.dir, "shop"))
			teamtest.WriteFile(t, filepath.Join(s.dir, "shop", "deep.html"), smallLayout("deep-1"))
		}, "shop/deep.html", "deep-1"},
		{"file in the new subfolder edited", func(t *testing.T) {
			teamtest.WriteFile(t, filepath.Join(s.dir, "shop", "deep.html"), smallLayout("deep-2"))
		}, "shop/deep.html", "deep-2"},
		{"nested subfolders added at once", func(t *testing.T) {
			mustMkdir(t, filepath.Join(s.dir, "shop", "a", "b"))
			teamtest.WriteFile(t, filepath.Join(s.dir, "shop", "a", "b", "x.html"), smallLayout("x-1"))
		}, "shop/a/b/x.html", "x-1"},
		{"file in a nested subfolder edited", func(t *testing.T) {
			teamtest.WriteFile(t, filepath.Join(s.dir, "shop", "a", "b", "x.html"), smallLayout("x-2"))
		}, "shop/a/b/x.html", "x-2"},
		{"hidden folder ignored", func(t *testing.T) {
			mustMkdir(t, filepath.Join(s.dir, ".git"))
			teamtest.WriteFile(t, filepath.Join(s.dir, ".git", "hidden.html"), smallLayout("hidden-1"))
			teamtest.WriteFile(t, filepath.Join(s.dir, "shop", "deep.html"), smallLayout("deep-3"))
		}, "shop/deep.html", "deep-3"},
		{"subfolder removed", func(t *testing.T) {
			if err := os.RemoveAll(filepath.Join(s.dir, "shop")); err != nil {
				t.Fatal(err)
			}
		}, "shop/a/b/x.html", ""},
	}
	for _, step := range steps {
		step.change(t)
		pollUntil(t, fmt.Sprintf("%s: %s to have slot %q", step.name, step.layout, step.wantID), func() (bool, string) {
			got := slotIDOf(s, step.layout)
			return got == step.wantID, fmt.Sprintf("slot %q", got)
		})
	}
	if s.srv.Layouts().Get(".git/hidden.html") != nil {
		t.Error("a layout in a hidden folder was loaded")
	}
	if v, err := s.home(); err != nil || v != 1 {
		t.Errorf("home page after the changes: v%d, %v", v, err)
	}
}

// TestWatchFolderReplaced takes the layouts folder away for a moment and
// brings a new one: the old layouts serve until then, no request fails,
// and the new ones serve soon after.
func TestWatchFolderReplaced(t *testing.T) {
	cases := []struct {
		name    string
		linked  bool // the layouts folder is a link to a release folder
		missing bool // the watcher sees the folder missing for a moment
		replace func(t *testing.T, dir, next string)
	}{
		{"renamed away, a new one renamed in", false, true, func(t *testing.T, dir, next string) {
			mustRename(t, dir, dir+".old")
		}},
		{"removed, a new one renamed in", false, true, func(t *testing.T, dir, next string) {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
		}},
		{"link to it removed, then a new link made", true, true, func(t *testing.T, dir, next string) {
			if err := os.Remove(dir); err != nil {
				t.Fatal(err)
			}
		}},
		{"link to it swapped atomically (ln -s; mv -T)", true, false, func(t *testing.T, dir, next string) {
			mustSymlink(t, next, dir+".tmp")
			mustRename(t, dir+".tmp", dir)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			team := startStubTeam(t)
			root := t.TempDir()
			dir := filepath.Join(root, "layouts")
			first, next := filepath.Join(root, "release-1"), filepath.Join(root, "release-2")
			mustMkdir(t, first)
			mustMkdir(t, next)
			teamtest.WriteFile(t, filepath.Join(first, "home.html"), layoutV(1))
			teamtest.WriteFile(t, filepath.Join(next, "home.html"), layoutV(2))
			if tc.linked {
				mustSymlink(t, first, dir)
			} else {
				mustRename(t, first, dir)
			}
			teamtest.WriteFile(t, filepath.Join(root, "inlay.yaml"), shopConfig("layouts", team.URL))
			s := startShop(t, filepath.Join(root, "inlay.yaml"))
			ld := startLoad(t, s, 200, 15*time.Second, oneOf(1, 2))
			ld.waitForMore(t, 10) // before

			tc.replace(t, dir, next)
			if tc.missing {
				pollUntil(t, "the watcher to log the missing folder", func() (bool, string) {
					n := s.logs.count(func(r logRecord) bool { return strings.Contains(r.Msg, "layouts folder is missing") })
					return n > 0, fmt.Sprintf("%d records", n)
				})
				ld.waitForMore(t, 10) // while it is missing
				if v, err := s.home(); err != nil || v != 1 {
					t.Errorf("home page while the folder is missing: v%d, %v", v, err)
				}
				if tc.linked {
					mustSymlink(t, next, dir)
				} else {
					mustRename(t, next, dir)
				}
			}
			took := s.waitForHome(t, 2)
			t.Logf("v2 served %s after the new folder came", took.Round(time.Millisecond))
			ld.waitForMore(t, 10) // after
			checkLoad(t, ld, 20)

			// The new folder is watched: an edit in it shows.
			teamtest.WriteFile(t, filepath.Join(dir, "home.html"), layoutV(3))
			s.waitForHome(t, 3)
		})
	}
}

// configMapVolume builds a folder the way the kubelet builds a ConfigMap
// volume: the files in a hidden timestamped folder, a ..data link to it,
// and a visible link per key through ..data.
type configMapVolume struct {
	dir     string
	current string // the timestamped folder ..data points at
	keys    map[string]bool
	n       int
}

// newConfigMapVolume makes the volume in dir with the given files.
func newConfigMapVolume(t *testing.T, dir string, files map[string]string) *configMapVolume {
	t.Helper()
	mustMkdir(t, dir)
	v := &configMapVolume{dir: dir, keys: map[string]bool{}}
	v.update(t, files)
	return v
}

// update publishes a new version of the files as the kubelet's atomic
// writer does: write a new timestamped folder, point ..data_tmp at it,
// rename ..data_tmp over ..data, add the links of new keys, remove those
// of removed keys, remove the old folder.
func (v *configMapVolume) update(t *testing.T, files map[string]string) {
	t.Helper()
	v.n++
	ts := fmt.Sprintf("..2026_11_25_03_%02d_00.%09d", v.n, 123456789+v.n)
	mustMkdir(t, filepath.Join(v.dir, ts))
	for name, content := range files {
		teamtest.WriteFile(t, filepath.Join(v.dir, ts, name), content)
	}
	mustSymlink(t, ts, filepath.Join(v.dir, "..data_tmp"))
	mustRename(t, filepath.Join(v.dir, "..data_tmp"), filepath.Join(v.dir, "..data"))
	for name := range files {
		if !v.keys[name] {
			mustSymlink(t, filepath.Join("..data", name), filepath.Join(v.dir, name))
			v.keys[name] = true
		}
	}
	for name := range v.keys {
		if _, ok := files[name]; !ok {
			if err := os.Remove(filepath.Join(v.dir, name)); err != nil {
				t.Fatal(err)
			}
			delete(v.keys, name)
		}
	}
	if v.current != "" {
		if err := os.RemoveAll(filepath.Join(v.dir, v.current)); err != nil {
			t.Fatal(err)
		}
	}
	v.current = ts
}

// TestWatchKubernetesConfigMapSwap serves layouts from a ConfigMap volume
// (config included, as in deploy/kubernetes) and updates it the way the
// kubelet does: the new layouts serve within the wait and no request
// fails during the swap.
func TestWatchKubernetesConfigMapSwap(t *testing.T) {
	cases := []struct {
		name   string
		before map[string]string
		after  map[string]string
		check  func(t *testing.T, s *shop)
	}{
		{"layout changed",
			map[string]string{"home.html": layoutV(1)},
			map[string]string{"home.html": layoutV(2)},
			nil},
		{"layout added",
			map[string]string{"home.html": layoutV(1)},
			map[string]string{"home.html": layoutV(2), "extra.html": smallLayout("extra-1")},
			func(t *testing.T, s *shop) {
				pollUntil(t, "extra.html to be loaded", func() (bool, string) {
					got := slotIDOf(s, "extra.html")
					return got == "extra-1", fmt.Sprintf("slot %q", got)
				})
			}},
		{"layout removed",
			map[string]string{"home.html": layoutV(1), "old.html": smallLayout("old-1")},
			map[string]string{"home.html": layoutV(2)},
			func(t *testing.T, s *shop) {
				pollUntil(t, "old.html to be dropped", func() (bool, string) {
					got := slotIDOf(s, "old.html")
					return got == "", fmt.Sprintf("slot %q", got)
				})
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			team := startStubTeam(t)
			dir := filepath.Join(t.TempDir(), "etc-inlay")
			withConfig := func(files map[string]string) map[string]string {
				m := map[string]string{"inlay.yaml": shopConfig(".", team.URL)}
				for k, v := range files {
					m[k] = v
				}
				return m
			}
			vol := newConfigMapVolume(t, dir, withConfig(tc.before))
			s := startShop(t, filepath.Join(dir, "inlay.yaml"))
			if v, err := s.home(); err != nil || v != 1 {
				t.Fatalf("home page through the ConfigMap links: v%d, %v", v, err)
			}
			ld := startLoad(t, s, 200, 15*time.Second, oneOf(1, 2))
			ld.waitForMore(t, 10) // before the swap

			vol.update(t, withConfig(tc.after))
			took := s.waitForHome(t, 2)
			t.Logf("v2 served %s after the swap", took.Round(time.Millisecond))
			if tc.check != nil {
				tc.check(t, s)
			}
			ld.waitForMore(t, 10) // after the swap
			checkLoad(t, ld, 20)

			// A second swap works as well as the first.
			vol.update(t, withConfig(map[string]string{"home.html": layoutV(3)}))
			s.waitForHome(t, 3)
		})
	}
}

// A link out of the layouts folder added while Inlay runs is
// logged on hot reload as a rejected layout naming the link's file; the
// linked file is never read and the page keeps serving.
func TestWatchRefusesALinkOutOfTheFolder(t *testing.T) {
	s := newShop(t)
	secret := filepath.Join(filepath.Dir(s.dir), "secret.html")
	teamtest.WriteFile(t, secret, "<p>debug_token: secret-token</p>")
	link := filepath.Join(s.dir, "cfg.html")
	mustSymlink(t, "../secret.html", link)
	want := link + ": the file is a link that leads out of the layouts folder"
	pollUntil(t, "the link to be refused in the log", func() (bool, string) {
		n := s.logs.count(func(r logRecord) bool { return strings.HasPrefix(r.Problem, want) })
		return n > 0, fmt.Sprintf("%d log records with %q", n, want)
	})
	if strings.Contains(s.logs.String(), "secret-token") {
		t.Error("the linked file's content reached the log")
	}
	if v, err := s.home(); err != nil || v != 1 {
		t.Errorf("home page after the refused link: v%d, %v", v, err)
	}
}
