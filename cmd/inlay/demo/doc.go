// Package demo runs the three demo team services (search, shell, basket)
// in-process on loopback, for `inlay demo` and for tests that need real
// teams, and finds the demo config: layouts/inlay.yaml in a checkout, or
// the copy embedded in the binary.
package demo
