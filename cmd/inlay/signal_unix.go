//go:build unix

package main

import (
	"os"
	"syscall"
)

// reloadSignal reloads the config of a running server: SIGHUP.
var reloadSignal os.Signal = syscall.SIGHUP
