package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/composer/lint"
	"github.com/inlayhq/inlay/teams/teamtest"
	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// Golden files of a lint archive: what `inlay lint` prints in each format
// and its exit status, which is the same for both.
const (
	goldenText = "stdout"
	goldenJSON = "stdout.json"
	goldenExit = "exit"
	argsFile   = "args" // extra flags, one per line
)

// TestLintGolden runs `inlay lint` on every archive in testdata/lint. An
// archive holds inlay.yaml and its layouts, an optional args file, and the
// golden files; go test -run TestLintGolden -update rewrites the latter.
// The test runs in a temporary folder holding the archive's files, with
// --config inlay.yaml, so that the paths printed are the same everywhere.
func TestLintGolden(t *testing.T) {
	t.Setenv(config.AdminTokenEnv, "") // admin-open.txtar: a token from the environment would silence its warning
	archives, err := filepath.Glob(filepath.Join("testdata", "lint", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(archives) == 0 {
		t.Fatal("no archives in testdata/lint")
	}
	for _, path := range archives {
		path, err := filepath.Abs(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			args := []string{"lint", "--config", "inlay.yaml"}
			for _, f := range ar.Files {
				switch f.Name {
				case goldenText, goldenJSON, goldenExit:
				case argsFile:
					args = append(args, strings.Fields(string(f.Data))...)
				default:
					name := filepath.Join(dir, filepath.FromSlash(f.Name))
					if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(name, f.Data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			t.Chdir(dir)

			text, code := runCommand(t, args...)
			jsonOut, jsonCode := runCommand(t, append(args, "--format", "json")...)
			if code != jsonCode {
				t.Errorf("exit status %d with --format text, %d with --format json", code, jsonCode)
			}
			checkLintJSON(t, jsonOut, text)
			got := map[string]string{
				goldenText: text,
				goldenJSON: jsonOut,
				goldenExit: strconv.Itoa(code) + "\n",
			}
			if *update {
				writeGolden(t, path, ar, got)
				return
			}
			for _, name := range []string{goldenText, goldenJSON, goldenExit} {
				want, ok := archiveFile(ar, name)
				if !ok {
					t.Errorf("%s: no %q golden file: run go test -run TestLintGolden -update", path, name)
					continue
				}
				if got[name] != want {
					t.Errorf("%s differs (go test -run TestLintGolden -update rewrites it)\n--- got\n%s--- want\n%s", name, got[name], want)
				}
			}
		})
	}
}

// checkLintJSON checks that the JSON output is one object whose counts
// match its problems, and that it lists what the text output does.
func checkLintJSON(t *testing.T, out, text string) {
	t.Helper()
	var rep lint.Report
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("--format json: %v\n%s", err, out)
	}
	if rep.Problems == nil {
		t.Error(`--format json: "problems" is null, want a list`)
	}
	errs, warns := lint.Count(rep.Problems)
	if errs != rep.Errors || warns != rep.Warnings {
		t.Errorf("--format json counts %d errors and %d warnings, its problems have %d and %d", rep.Errors, rep.Warnings, errs, warns)
	}
	var lines []string
	for _, p := range rep.Problems {
		lines = append(lines, p.Error()+"\n")
	}
	if strings.Join(lines, "") != text {
		t.Errorf("--format json and --format text disagree:\n%s\nvs\n%s", out, text)
	}
}

func archiveFile(ar *txtar.Archive, name string) (string, bool) {
	for _, f := range ar.Files {
		if f.Name == name {
			return string(f.Data), true
		}
	}
	return "", false
}

// writeGolden replaces or appends the golden files of an archive.
func writeGolden(t *testing.T, path string, ar *txtar.Archive, got map[string]string) {
	t.Helper()
	for _, name := range []string{goldenText, goldenJSON, goldenExit} {
		found := false
		for i := range ar.Files {
			if ar.Files[i].Name == name {
				ar.Files[i].Data, found = []byte(got[name]), true
			}
		}
		if !found {
			ar.Files = append(ar.Files, txtar.File{Name: name, Data: []byte(got[name])})
		}
	}
	if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runCommand runs inlay with args and returns its stdout and exit status.
func runCommand(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	if testing.Verbose() && stderr.Len() > 0 {
		t.Logf("stderr of inlay %s:\n%s", strings.Join(args, " "), stderr.String())
	}
	return stdout.String(), code
}

// TestLintCommandLine covers what the golden archives do not: bad flags and
// a config that cannot be read at all.
func TestLintCommandLine(t *testing.T) {
	cases := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string // a substring; empty means stdout must be empty
		wantStderr string
	}{
		{
			name:       "unknown format",
			args:       []string{"lint", "--format", "xml"},
			wantCode:   2,
			wantStderr: `unknown format "xml"`,
		},
		{
			name:       "positional argument",
			args:       []string{"lint", "inlay.yaml"},
			wantCode:   2,
			wantStderr: "the config is given with --config",
		},
		{
			name:       "clean run prints one summary line",
			args:       []string{"lint", "--config", "../../layouts/inlay.yaml"},
			wantCode:   0,
			wantStderr: "fragments checked: no problems\n",
		},
		{
			name:       "missing config",
			args:       []string{"lint", "--config", "testdata/no-such.yaml"},
			wantCode:   1,
			wantStderr: "inlay lint: reading config",
		},
		{
			name:       "missing config as JSON",
			args:       []string{"lint", "--config", "testdata/no-such.yaml", "--format", "json"},
			wantCode:   1,
			wantStdout: `"file": "testdata/no-such.yaml",`,
			wantStderr: "inlay lint: reading config",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr)
			if code != tc.wantCode {
				t.Errorf("exit status %d, want %d\nstderr: %s", code, tc.wantCode, stderr.String())
			}
			if tc.wantStdout == "" && stdout.Len() > 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
			if !strings.Contains(stdout.String(), tc.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", stdout.String(), tc.wantStdout)
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tc.wantStderr)
			}
		})
	}
}

// `inlay lint` reports a layout linked from outside the folder
// as an error with the link's file name, and never reads it.
func TestLintRefusesLinksOut(t *testing.T) {
	dir := t.TempDir()
	layouts := filepath.Join(dir, "layouts")
	if err := os.Mkdir(layouts, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"inlay.yaml":        "layouts: layouts\ndebug_token: secret-token-5b8e1f0a9c\nservices:\n  shell:\n    url: http://127.0.0.1:9101\npages:\n  - path: /\n    layout: page.html\n",
		"layouts/page.html": `<layout base="cfg.html"><fill slot="main">x</fill></layout>`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../inlay.yaml", filepath.Join(layouts, "cfg.html")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	out, code := runCommand(t, "lint", "--config", "inlay.yaml")
	if code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if want := filepath.Join("layouts", "cfg.html") + ": the file is a link that leads out of the layouts folder"; !strings.Contains(out, want) {
		t.Errorf("lint printed\n%s\nwant a line with %q", out, want)
	}
	if strings.Contains(out, "secret-token-5b8e1f0a9c") {
		t.Errorf("lint printed the linked file's content:\n%s", out)
	}
}

// H6: lint and serve look a page's layout up the same way, inside the
// layouts folder only: a config that one refuses, the other refuses too,
// with the same FILE:LINE:COL problem, whatever lies outside the folder.
func TestLintAndServeAgreeOnLayoutPaths(t *testing.T) {
	cases := []struct {
		name, layout string
		link         bool // cfg.html, beside the config, leads to ../inlay.yaml
		refused      string
	}{
		{name: "a layout of the folder", layout: "home.html"},
		{name: "a path out of the folder to a file that is there", layout: "../../etc/passwd", refused: `layout "../../etc/passwd" is not a file name inside the layouts folder`},
		{name: "an absolute path", layout: "/etc/passwd", refused: `layout "/etc/passwd" is not a file name inside the layouts folder`},
		{name: "a dot path to a layout of the folder", layout: "./home.html", refused: `layout "./home.html" is not a file name inside the layouts folder`},
		{name: "a file beside the layouts that is no layout", layout: "inlay.yaml", refused: `layout "inlay.yaml" not found in`},
		{name: "a link out of the folder", layout: "cfg.html", link: true, refused: "the file is a link that leads out of the layouts folder"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "shop", "conf")
			teamtest.WriteFile(t, filepath.Join(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\n")
			teamtest.WriteFile(t, filepath.Join(dir, "home.html"), `<fragment src="shell:/a" primary timeout="100ms"></fragment>`)
			cfgPath := filepath.Join(dir, "inlay.yaml")
			teamtest.WriteFile(t, cfgPath, "listen: 127.0.0.1:0\ndrain_delay: 1ms\nlayouts: .\nservices:\n  shell:\n    url: http://127.0.0.1:9101\n    timeout: 300ms\npages:\n  - path: /\n    layout: "+tc.layout+"\n")
			if tc.link {
				teamtest.WriteFile(t, filepath.Join(root, "shop", "inlay.yaml"), "<p>outside</p>")
				if err := os.Symlink("../inlay.yaml", filepath.Join(dir, "cfg.html")); err != nil {
					t.Fatal(err)
				}
			}

			var lintOut, lintErr bytes.Buffer
			lintCode := run(context.Background(), []string{"lint", "--config", cfgPath}, &lintOut, &lintErr)

			cfg, err := config.Load(cfgPath)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			serveErr := serve(ctx, cfg, nil, slog.New(slog.DiscardHandler), func(string) { cancel() })

			if tc.refused == "" {
				if lintCode != 0 || serveErr != nil {
					t.Fatalf("lint exit %d:\n%s\nserve: %v\nwant both to accept the layout", lintCode, lintOut.String(), serveErr)
				}
				return
			}
			if lintCode != 1 || serveErr == nil {
				t.Fatalf("lint exit %d:\n%s%s\nserve: %v\nwant both to refuse the layout", lintCode, lintOut.String(), lintErr.String(), serveErr)
			}
			var line string
			for l := range strings.Lines(lintOut.String()) {
				if strings.Contains(l, tc.refused) {
					line = strings.TrimSuffix(l, "\n")
				}
			}
			if line == "" {
				t.Fatalf("lint printed\n%s\nwant a line with %q", lintOut.String(), tc.refused)
			}
			if !strings.Contains(serveErr.Error(), line) {
				t.Errorf("serve refused with\n%v\nlint with\n%s\nwant the same problem", serveErr, line)
			}
			if !tc.link && !strings.HasPrefix(line, cfgPath+":10:13: ") {
				t.Errorf("lint problem %q, want it at %s:10:13, the page's layout ($.pages[0].layout)", line, cfgPath)
			}
		})
	}
}
