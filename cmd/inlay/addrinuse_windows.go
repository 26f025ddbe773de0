package main

import (
	"errors"

	"golang.org/x/sys/windows"
)

// addrInUse reports that a listen failed because another program holds
// the address.
func addrInUse(err error) bool { return errors.Is(err, windows.WSAEADDRINUSE) }
