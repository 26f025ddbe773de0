//go:build !unix

package main

import "os"

// reloadSignal reloads the config of a running server: none here, where
// there is no SIGHUP. An edit of the config file still reloads it.
var reloadSignal os.Signal
