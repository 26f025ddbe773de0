//go:build !windows

package main

import (
	"errors"
	"syscall"
)

// addrInUse reports that a listen failed because another program holds
// the address.
func addrInUse(err error) bool { return errors.Is(err, syscall.EADDRINUSE) }
