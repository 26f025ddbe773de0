package main

import (
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestCPUSplit(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("-pin is Linux only")
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("taskset (util-linux) not installed")
	}
	for _, tc := range []struct {
		cpus         int
		server, load string
		loadN        int
		err          bool
	}{
		{cpus: 1, err: true},
		{cpus: 2, server: "1", load: "0", loadN: 1},
		{cpus: 8, server: "7", load: "0-6", loadN: 7},
	} {
		s, err := newCPUSplit(tc.cpus)
		if tc.err {
			if err == nil {
				t.Errorf("%d cores: got %+v, want an error", tc.cpus, s)
			}
			continue
		}
		if err != nil || s.server != tc.server || s.load != tc.load || s.serverCores() != 1 || s.loadCores() != tc.loadN {
			t.Errorf("%d cores: got %+v, %v; want server %s, load %s (%d)", tc.cpus, s, err, tc.server, tc.load, tc.loadN)
		}
		cmd := s.command(s.server, "/bin/inlay", "serve")
		if want := []string{s.taskset, "--cpu-list", tc.server, "/bin/inlay", "serve"}; !slices.Equal(cmd.Args, want) {
			t.Errorf("%d cores: command %q, want %q", tc.cpus, cmd.Args, want)
		}
	}
	if cmd := (cpuSplit{}).command("1", "/bin/inlay", "serve"); !slices.Equal(cmd.Args, []string{"/bin/inlay", "serve"}) {
		t.Errorf("without -pin: command %q, want the program alone", cmd.Args)
	}
	if n := (cpuSplit{}).serverCores(); n != 0 {
		t.Errorf("without -pin: the server's cores = %d, want 0 (every core)", n)
	}
	if n := (cpuSplit{}).loadCores(); n != runtime.NumCPU() {
		t.Errorf("without -pin: the load's cores = %d, want all %d", n, runtime.NumCPU())
	}
}

func TestNginxWorkers(t *testing.T) {
	for _, tc := range []struct {
		workers int
		want    string
	}{
		{0, "worker_processes auto;"},
		{1, "worker_processes 1;"},
	} {
		conf := nginxConfig(nginxSettings{Prefix: "/tmp/x", Listen: "127.0.0.1:1", Upstreams: []string{"127.0.0.1:2"}, Workers: tc.workers})
		if !strings.Contains(conf, "\n"+tc.want+"\n") {
			t.Errorf("Workers %d: config lacks %q:\n%s", tc.workers, tc.want, conf)
		}
	}
}
