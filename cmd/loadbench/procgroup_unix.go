//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// ownGroup makes cmd start a process group of its own, so that
// killGroup stops it with its children.
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// killGroup kills the process group that the process pid leads.
func killGroup(pid int) error { return syscall.Kill(-pid, syscall.SIGKILL) }
