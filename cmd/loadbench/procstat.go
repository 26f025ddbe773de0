package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// procSample is what /proc says about a process at one moment.
type procSample struct {
	CPU  time.Duration // user + system time, all threads
	HWM  int64         // peak resident set size, bytes (VmHWM)
	RSS  int64         // resident set size now, bytes (VmRSS)
	Time time.Time
}

// procReader samples processes through /proc.
type procReader struct {
	clkTck int64 // clock ticks per second of /proc/PID/stat times
}

// newProcReader asks getconf for the clock tick rate; Linux uses 100.
func newProcReader(ctx context.Context) procReader {
	out, err := exec.CommandContext(ctx, "getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && n > 0 {
			return procReader{clkTck: n}
		}
	}
	return procReader{clkTck: 100}
}

// sample reads /proc/PID/stat and /proc/PID/status.
func (pr procReader) sample(pid int) (procSample, error) {
	now := time.Now()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procSample{}, fmt.Errorf("reading stat: %w", err)
	}
	cpu, err := parseStatCPU(stat, pr.clkTck)
	if err != nil {
		return procSample{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procSample{}, fmt.Errorf("reading status: %w", err)
	}
	hwm, err := parseStatusKB(status, "VmHWM")
	if err != nil {
		return procSample{}, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	rss, err := parseStatusKB(status, "VmRSS")
	if err != nil {
		return procSample{}, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	return procSample{CPU: cpu, HWM: hwm, RSS: rss, Time: now}, nil
}

// sampleTree samples pid and its child processes, and sums them: CPU
// time, peak RSS and RSS. nginx serves from a master and its workers, so
// its figures are the sum of them all; for a process without children,
// such as Inlay, it is sample. The peaks are summed, so the sum of the
// peaks is at or above the peak of the sum.
func (pr procReader) sampleTree(pid int) (procSample, error) {
	total, err := pr.sample(pid)
	if err != nil {
		return procSample{}, err
	}
	children, err := childProcesses(pid)
	if err != nil {
		return procSample{}, err
	}
	for _, c := range children {
		s, err := pr.sample(c)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // it exited since /proc was listed
			}
			return procSample{}, err
		}
		total.CPU += s.CPU
		total.HWM += s.HWM
		total.RSS += s.RSS
	}
	return total, nil
}

// childProcesses returns the processes whose parent is pid, from the
// parent field of every /proc/PID/stat.
func childProcesses(pid int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("listing /proc: %w", err)
	}
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil || child == pid {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone, or not a process
		}
		if ppid, err := parseStatPPID(stat); err == nil && ppid == pid {
			out = append(out, child)
		}
	}
	return out, nil
}

// parseStatPPID returns the parent process id (field 4) from the contents
// of /proc/PID/stat.
func parseStatPPID(stat []byte) (int, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("no command name")
	}
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) < 2 {
		return 0, fmt.Errorf("only %d fields", len(fields)+2)
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		return 0, fmt.Errorf("ppid: %w", err)
	}
	return ppid, nil
}

// parseStatCPU returns utime + stime from the contents of /proc/PID/stat.
// The command name (field 2) is in parentheses and may hold spaces or
// parentheses itself, so fields are counted from the last ')'.
func parseStatCPU(stat []byte, clkTck int64) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("no command name")
	}
	fields := strings.Fields(string(stat[i+1:]))
	// fields[0] is field 3 (state); utime is field 14, stime field 15.
	const utime, stime = 14 - 3, 15 - 3
	if len(fields) <= stime {
		return 0, fmt.Errorf("only %d fields", len(fields)+2)
	}
	u, err := strconv.ParseInt(fields[utime], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("utime: %w", err)
	}
	s, err := strconv.ParseInt(fields[stime], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stime: %w", err)
	}
	return time.Duration(u+s) * time.Second / time.Duration(clkTck), nil
}

// parseStatusKB returns a "Key:   123 kB" line of /proc/PID/status in bytes.
func parseStatusKB(status []byte, key string) (int64, error) {
	for line := range strings.Lines(string(status)) {
		name, value, ok := strings.Cut(line, ":")
		if !ok || name != key {
			continue
		}
		f := strings.Fields(value)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("%s: unexpected value %q", key, strings.TrimSpace(value))
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", key, err)
		}
		return n << 10, nil
	}
	return 0, fmt.Errorf("no %s line", key)
}
