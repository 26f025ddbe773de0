package main

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// floorPackage is the floor program: the least a Go program on net/http
// does to compose the one-service page (its doc comment says what it
// leaves out). In the one-service scenario it is a peer of Inlay and
// nginx SSI, so that Inlay's CPU per page is a ratio to Go's own floor
// measured in the same run.
const floorPackage = "./cmd/loadbench/testdata/floor"

// buildFloor builds the floor program into dir with a plain go build and
// returns the binary's path.
func buildFloor(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "floor")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, floorPackage)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", floorPackage, err, out)
	}
	return bin, nil
}

// plainBuild returns an error when the binary at path was not made by a
// plain go build: when it was linked with -ldflags (such as
// -X=runtime.godebugDefault=…, which overwrites the GODEBUG defaults go
// build sets from go.mod) or built with -gcflags. The benchmark measures
// the binary users get from go build or go install, with its settings in
// its environment.
func plainBuild(path string) error {
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading the build info of %s: %w", path, err)
	}
	for _, s := range info.Settings {
		if (s.Key == "-ldflags" || s.Key == "-gcflags") && s.Value != "" {
			return fmt.Errorf("%s was built with %s=%q: not a plain go build", path, s.Key, s.Value)
		}
	}
	return nil
}

// startFloor runs the floor composer on addr, fetching the fragments from
// upstream (host:port, the benchmark's stub service, which runs in the
// benchmark's process: the composer's CPU is its own), with env added to
// its environment and args to its command line (-defaults), logging to
// logPath, and waits until it serves the page. Its stop kills it: it has
// nothing to finish.
func startFloor(ctx context.Context, bin, addr, upstream, logPath string, env []string, args ...string) (*serverProc, error) {
	cmd := pin.command(pin.server, bin, append([]string{"-listen", addr, "-upstream", upstream}, args...)...)
	cmd.Env = append(childEnv(), env...)
	p := &serverProc{name: "floor", cmd: cmd, addr: addr}
	if err := p.start(ctx, logPath, pagePath, 10*time.Second); err != nil {
		return nil, fmt.Errorf("%w (log: %s)", err, logPath)
	}
	return p, nil
}

// godebugOnly keeps the GODEBUG entries of env: the floor runs with the
// runtime settings Inlay runs with, and without Inlay's other settings.
func godebugOnly(env []string) []string {
	var out []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "GODEBUG=") {
			out = append(out, kv)
		}
	}
	return out
}
