package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestStackStartSetting keeps the one way users run Inlay: a binary from a
// plain go build, with the Makefile's INLAY_GODEBUG in its environment
// (make run, and the load benchmark, which runs it with inlayGODEBUG),
// and with it new goroutines start with 2 KiB stacks even after the GC
// saw deep ones. A Go release that renamed the setting would fail here,
// not quietly cost RSS. deploy's tests hold the server image and the
// Kubernetes manifest to the same INLAY_GODEBUG.
func TestStackStartSetting(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	makefile := string(data)
	m := regexp.MustCompile(`(?m)^INLAY_GODEBUG \?= (.+)$`).FindStringSubmatch(makefile)
	if m == nil || m[1] != inlayGODEBUG {
		t.Errorf("the Makefile's INLAY_GODEBUG is %q, loadbench runs Inlay with GODEBUG=%s", m, inlayGODEBUG)
	}
	for _, want := range []string{
		`GODEBUG='$(INLAY_GODEBUG)' ./bin/inlay demo`,                         // make run
		`./cmd/loadbench -out docs/benchmarks.md -godebug '$(INLAY_GODEBUG)'`, // make loadbench
	} {
		if !strings.Contains(makefile, want) {
			t.Errorf("the Makefile lacks %s", want)
		}
	}
	if strings.Contains(makefile, "-ldflags") {
		t.Error("the Makefile links with -ldflags: make build would not be a plain go build")
	}

	if testing.Short() {
		t.Skip("builds a program")
	}
	bin := filepath.Join(t.TempDir(), "stackstart")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/stackstart").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	startingSize := func(godebug string) string {
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "GODEBUG="+godebug)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	if got := startingSize(inlayGODEBUG); got != "2048" {
		t.Errorf("with GODEBUG=%s, new goroutines start with %s-byte stacks, want 2048", inlayGODEBUG, got)
	}
	t.Logf("without it: %s bytes", startingSize(""))
}

// TestInlayEnv: the Inlay process gets -godebug's GODEBUG, by default
// inlayGODEBUG, and -inlay-env on top, which may set GODEBUG itself (a
// process's environment takes the last of a key).
func TestInlayEnv(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"GODEBUG=" + inlayGODEBUG}},
		{[]string{"-godebug", ""}, nil},
		{[]string{"-godebug", "adaptivestackstart=1"}, []string{"GODEBUG=adaptivestackstart=1"}},
		{[]string{"-inlay-env", "GOGC=200,GODEBUG=gctrace=1"}, []string{"GODEBUG=" + inlayGODEBUG, "GOGC=200", "GODEBUG=gctrace=1"}},
	} {
		o, err := parseFlags(tc.args, io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if got := inlayEnv(o); !slices.Equal(got, tc.want) {
			t.Errorf("%q: Inlay's environment adds %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestFloorBuilds keeps the floor program of docs/benchmarks.md (fifth
// round) building: nothing else compiles a testdata folder.
func TestFloorBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	if out, err := exec.Command("go", "build", "-o", filepath.Join(t.TempDir(), "floor"), "./testdata/floor").CombinedOutput(); err != nil {
		t.Fatalf("go build ./testdata/floor: %v\n%s", err, out)
	}
}

// TestRunqwaitBuilds keeps the run-queue reader of docs/benchmarks.md
// (fourteenth round) building. It is a module of its own, on
// golang.org/x/exp/trace: where that cannot be downloaded, the test is
// skipped, except under CI=true, where .ci/run has downloaded it.
func TestRunqwaitBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	dir := filepath.Join("testdata", "runqwait")
	download := exec.Command("go", "mod", "download")
	download.Dir = dir
	if out, err := download.CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("go mod download in %s: %v\n%s", dir, err, out)
		}
		t.Skipf("cannot download %s's modules (%v): skipping its build\n%s", dir, err, out)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(t.TempDir(), "runqwait"), ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build in %s: %v\n%s", dir, err, out)
	}
}
