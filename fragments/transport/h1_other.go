//go:build !unix

package transport

import "errors"

// rawReads reports that the lean client reads its connections through
// their raw file descriptors. Not here (Windows, Plan 9, wasm): an
// [H1Conns] reads through net.Conn, and the engine gives every service
// net/http's transport instead (see [New]), so that a page still
// streams what it has before it waits for a slow service.
const rawReads = false

// readFD is never called here: without raw reads, no h1Conn has a raw
// connection.
func (c *h1Conn) readFD(uintptr) bool {
	c.rn, c.rerr = 0, errors.ErrUnsupported
	return true
}

// readable is never asked here: no [Exchange] runs without raw reads.
func (c *h1Conn) readable() bool { return false }
