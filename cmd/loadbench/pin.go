package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
)

// cpuSplit is how -pin shares the machine's cores: the server under test
// (Inlay, the floor program or nginx) runs on the last core, and
// everything else (this process with its stub services and Go load
// generators, and wrk) on the others. Without -pin, the zero split, they
// all share every core, and the load generator and the stubs take CPU
// from the server as the kernel sees fit (docs/benchmarks.md, "The
// cached tail on shared cores").
type cpuSplit struct {
	server, load string // taskset CPU lists: one core, and the rest
	loadN        int    // cores in load
	taskset      string // taskset's path
}

// newCPUSplit splits cpus cores: the last for the server, the rest for
// the load. It needs Linux, two cores at least and taskset (util-linux).
func newCPUSplit(cpus int) (cpuSplit, error) {
	if runtime.GOOS != "linux" {
		return cpuSplit{}, errors.New("-pin needs Linux")
	}
	if cpus < 2 {
		return cpuSplit{}, fmt.Errorf("-pin needs two cores at least, this machine has %d", cpus)
	}
	path, err := exec.LookPath("taskset")
	if err != nil {
		return cpuSplit{}, fmt.Errorf("-pin needs taskset (util-linux): %w", err)
	}
	load := "0"
	if cpus > 2 {
		load = "0-" + strconv.Itoa(cpus-2)
	}
	return cpuSplit{server: strconv.Itoa(cpus - 1), load: load, loadN: cpus - 1, taskset: path}, nil
}

// on reports whether the split is in force.
func (s cpuSplit) on() bool { return s.taskset != "" }

// serverCores is how many cores a server may use: one with the split,
// zero (every core) without.
func (s cpuSplit) serverCores() int {
	if s.on() {
		return 1
	}
	return 0
}

// loadCores is how many cores the load may use: the load's share of the
// split, or every core without one.
func (s cpuSplit) loadCores() int {
	if s.on() {
		return s.loadN
	}
	return runtime.NumCPU()
}

// pinSelf moves every thread of this process to the load cores: its stub
// services and Go load generators. Threads the Go runtime starts later
// are cloned from these, and inherit their cores.
func (s cpuSplit) pinSelf(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, s.taskset, "--all-tasks", "--pid", "--cpu-list", s.load, strconv.Itoa(os.Getpid())).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pinning the benchmark to cores %s: %w\n%s", s.load, err, out)
	}
	runtime.GOMAXPROCS(s.loadN)
	return nil
}

// command is exec.Command(name, args...), run on cpus by taskset when
// the split is in force. taskset execs the program in its own process,
// so the command's PID is the program's, for /proc.
func (s cpuSplit) command(cpus, name string, args ...string) *exec.Cmd {
	name, args = s.wrap(cpus, name, args)
	return exec.Command(name, args...)
}

// commandContext is command, killed when ctx ends.
func (s cpuSplit) commandContext(ctx context.Context, cpus, name string, args ...string) *exec.Cmd {
	name, args = s.wrap(cpus, name, args)
	return exec.CommandContext(ctx, name, args...)
}

// wrap puts taskset in front of name when the split is in force.
func (s cpuSplit) wrap(cpus, name string, args []string) (string, []string) {
	if !s.on() {
		return name, args
	}
	return s.taskset, append([]string{"--cpu-list", cpus, name}, args...)
}

// describe says how the run shared the machine, for the report.
func (s cpuSplit) describe() string {
	if !s.on() {
		return "The servers, the stub services and the load generator share every core."
	}
	cores := "core " + s.load
	if s.loadN > 1 {
		cores = "cores " + s.load
	}
	return fmt.Sprintf("With -pin: each server runs alone on core %s (taskset; Go's GOMAXPROCS and nginx's workers are then %d), and the stub services and the load generator on %s.", s.server, s.serverCores(), cores)
}

// pin is the run's split, set once by run from -pin before anything
// starts: every server process and wrk are started through it.
var pin cpuSplit
