package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/prometheus/procfs"
)

// procSample is what /proc says about a process at one moment.
type procSample struct {
	CPU  time.Duration // user + system time, all threads
	User time.Duration // of which user time
	HWM  int64         // peak resident set size, bytes (VmHWM)
	RSS  int64         // resident set size now, bytes (VmRSS)
	Time time.Time
}

// procReader samples processes through /proc, with
// github.com/prometheus/procfs reading its files.
type procReader struct {
	fs procfs.FS
}

// newProcReader opens /proc. A machine without it fails at the first
// sample, with the reason.
func newProcReader(context.Context) procReader {
	pfs, _ := procfs.NewDefaultFS()
	return procReader{fs: pfs}
}

// sample reads /proc/PID/stat and /proc/PID/status.
func (pr procReader) sample(pid int) (procSample, error) {
	now := time.Now()
	p, err := pr.fs.Proc(pid)
	if err != nil {
		return procSample{}, fmt.Errorf("process %d: %w", pid, err)
	}
	stat, err := p.Stat()
	if err != nil {
		return procSample{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	status, err := p.NewStatus()
	if err != nil {
		return procSample{}, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	cpu := time.Duration(stat.CPUTime() * float64(time.Second))
	var user time.Duration
	if ticks := stat.UTime + stat.STime; ticks > 0 {
		user = time.Duration(float64(cpu) * float64(stat.UTime) / float64(ticks))
	}
	return procSample{
		CPU:  cpu,
		User: user,
		HWM:  int64(status.VmHWM),
		RSS:  int64(status.VmRSS),
		Time: now,
	}, nil
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
	children, err := pr.children(pid)
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
		total.User += s.User
		total.HWM += s.HWM
		total.RSS += s.RSS
	}
	return total, nil
}

// children returns the processes whose parent is pid.
func (pr procReader) children(pid int) ([]int, error) {
	procs, err := pr.fs.AllProcs()
	if err != nil {
		return nil, fmt.Errorf("listing /proc: %w", err)
	}
	var out []int
	for _, p := range procs {
		if p.PID == pid {
			continue
		}
		if stat, err := p.Stat(); err == nil && stat.PPID == pid {
			out = append(out, p.PID)
		}
	}
	return out, nil
}
