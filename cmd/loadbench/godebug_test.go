package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLDFlags keeps the one build of Inlay that users run: make build
// (the Makefile's INLAY_LDFLAGS), the server image and the load benchmark
// link it with the same flags, and with them new goroutines start with
// 2 KiB stacks even after the GC saw deep ones. A Go release that
// renamed what the flag sets would fail here, not quietly cost RSS.
func TestLDFlags(t *testing.T) {
	makefile, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^INLAY_LDFLAGS \?= (.+)$`).FindSubmatch(makefile)
	if m == nil || string(m[1]) != defaultLDFlags {
		t.Errorf("the Makefile's INLAY_LDFLAGS is %q, loadbench builds with %q", m, defaultLDFlags)
	}
	dockerfile, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dockerfile), defaultLDFlags) {
		t.Errorf("the Dockerfile's go build lacks %s", defaultLDFlags)
	}

	if testing.Short() {
		t.Skip("builds a program")
	}
	startingSize := func(ldflags string) string {
		bin := filepath.Join(t.TempDir(), "stackstart")
		if out, err := exec.Command("go", "build", "-ldflags", ldflags, "-o", bin, "./testdata/stackstart").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		out, err := exec.Command(bin).Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	if got := startingSize(defaultLDFlags); got != "2048" {
		t.Errorf("built with %s, new goroutines start with %s-byte stacks, want 2048", defaultLDFlags, got)
	}
	t.Logf("without the flags: %s bytes", startingSize(""))
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
