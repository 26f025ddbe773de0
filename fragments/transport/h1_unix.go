//go:build unix

package transport

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// rawReads reports that the lean client reads its connections through
// their raw file descriptors, which tells it when a read is about to wait
// for the service: on Unix, read(2) of a non-blocking socket.
const rawReads = true

// readFD is one read(2) of the raw connection: false when it would
// block, so that RawConn.Read waits and calls it again.
func (c *h1Conn) readFD(fd uintptr) bool {
	for {
		n, err := syscall.Read(int(fd), c.rb)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN && c.late:
			c.rn, c.rerr = 0, &net.OpError{Op: "read", Net: "tcp", Addr: c.conn.RemoteAddr(), Err: os.ErrDeadlineExceeded}
		case err == syscall.EAGAIN:
			c.blocked = true
			c.watch()
			return false
		case err != nil:
			c.rn, c.rerr = 0, &net.OpError{Op: "read", Net: "tcp", Addr: c.conn.RemoteAddr(), Err: os.NewSyscallError("read", err)}
		case n == 0 && len(c.rb) > 0:
			c.rn, c.rerr = 0, io.EOF
		default:
			c.rn, c.rerr = n, nil
		}
		return true
	}
}

// readable reports whether a read of the connection would return at
// once: the service has sent something, closed it, or failed. It waits
// for nothing: it makes the read the answer needs anyway, without
// waiting, into the fetch's read buffer, which the answer is then read
// from.
func (c *h1Conn) readable() bool {
	if c.br != nil && c.br.Buffered() > 0 {
		return true
	}
	if c.raw == nil {
		return false
	}
	if c.br == nil {
		c.takeReader()
		c.limit.n = h1MaxHeaderBytes + int64(c.br.Size())
	}
	late := c.late
	c.late = true // a read that finds nothing fails at once rather than wait
	_, err := c.br.Peek(1)
	c.late = late
	return err == nil || !errors.Is(err, os.ErrDeadlineExceeded)
}
