//go:build !unix

package main

import (
	"os"
	"os/exec"
)

// ownGroup does nothing here: there are no process groups to start.
func ownGroup(*exec.Cmd) {}

// killGroup kills the process pid; its children are left.
func killGroup(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
