//go:build unix

package fragments

import (
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
			if f := c.onBlock; f != nil {
				c.onBlock = nil
				f()
			}
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
