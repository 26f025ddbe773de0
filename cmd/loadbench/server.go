package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// serverProc is a server process the benchmark runs and measures: Inlay,
// the floor program or nginx's master.
type serverProc struct {
	name string
	cmd  *exec.Cmd
	addr string // host:port it listens on
	// grace is how long stop waits for a graceful exit after SIGTERM
	// before it kills the process; zero kills it at once.
	grace time.Duration
	// group starts the process as the leader of a process group of its
	// own, which stop kills whole: nginx's workers with their master.
	group bool
	done  chan error // cmd.Wait's result, for whoever takes it to put back
}

// start runs the process with its output in logPath, and waits until it
// answers ready (a path) with a 200 within limit.
func (p *serverProc) start(ctx context.Context, logPath, ready string, limit time.Duration) error {
	logFile, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("creating the %s log: %w", p.name, err)
	}
	defer logFile.Close() // the child holds its own descriptors
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if p.group {
		ownGroup(p.cmd)
	}
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", p.name, err)
	}
	p.done = make(chan error, 1)
	go func() { p.done <- p.cmd.Wait() }()
	if err := waitAnswering(ctx, p.name, p.url(ready), p.done, limit); err != nil {
		p.stop()
		return err
	}
	return nil
}

func (p *serverProc) pid() int { return p.cmd.Process.Pid }

func (p *serverProc) url(path string) string { return "http://" + p.addr + path }

// stop sends SIGTERM and waits grace for a graceful exit, then kills the
// process (its group, with group) if it has not exited; without grace, it
// kills it at once.
func (p *serverProc) stop() {
	if p.grace > 0 {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-p.done:
			if err != nil {
				slog.Warn(p.name+" exited", slog.String("error", err.Error()))
			}
			return
		case <-time.After(p.grace):
		}
	}
	if p.group {
		_ = killGroup(p.pid())
	} else {
		_ = p.cmd.Process.Kill()
	}
	<-p.done
}

// waitAnswering polls url until it answers 200, the server's process
// ends (done, which it puts back for the process's owner), ctx ends or
// limit passes. The body is read whole: a page left unread would stop its
// fragments' fetches.
func waitAnswering(ctx context.Context, name, url string, done chan error, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case err := <-done:
			done <- err
			return fmt.Errorf("%s exited before serving: %v", name, err)
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not serving after %s: %v", name, limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
