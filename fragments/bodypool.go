package fragments

import (
	"io"
	"math/bits"
	"sync"
)

// Body buffers are pooled by size class, powers of four from 4 KiB to
// 4 MiB: a page that is done with a body it alone held gives the buffer
// back (see Response.Release), and the next fetch reads into it. On the
// no-store path this turns most of the garbage a page makes into reuse,
// which keeps the heap, and so the process's memory, close to the bodies
// actually in flight.
const (
	minBodyClass = 12 // 4 KiB
	maxBodyClass = 22 // 4 MiB
)

var bodyPools [(maxBodyClass-minBodyClass)/2 + 1]sync.Pool

// bodyClass returns the pool index for a buffer of at least n bytes, and
// that class's size; ok is false above the largest class.
func bodyClass(n int) (i, size int, ok bool) {
	shift := minBodyClass
	if n > 1<<minBodyClass {
		shift = bits.Len(uint(n - 1))
		shift += (shift - minBodyClass) % 2 // round up to a power of four
	}
	if shift > maxBodyClass {
		return 0, 0, false
	}
	return (shift - minBodyClass) / 2, 1 << shift, true
}

// getBody returns an empty buffer with room for at least n bytes.
func getBody(n int) []byte {
	i, size, ok := bodyClass(n)
	if !ok {
		return make([]byte, 0, n)
	}
	if b, ok := bodyPools[i].Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, size)
}

// putBody gives a buffer from getBody back for reuse. Buffers of other
// sizes are left to the garbage collector.
func putBody(b []byte) {
	i, size, ok := bodyClass(cap(b))
	if !ok || cap(b) != size {
		return
	}
	b = b[:0]
	bodyPools[i].Put(&b)
}

// readBody reads r whole into a pooled buffer, failing once more than
// limit bytes arrive.
func readBody(r io.Reader, contentLength, limit int64) ([]byte, error) {
	if contentLength > limit {
		return nil, errTooLarge
	}
	size := 4 << 10
	if contentLength > 0 {
		size = int(contentLength) + 1 // room to see EOF without growing
	}
	buf := getBody(size)
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > limit {
				putBody(buf)
				return nil, errTooLarge
			}
			grown := getBody(2 * cap(buf))
			grown = append(grown, buf...)
			putBody(buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			putBody(buf)
			return nil, errTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			putBody(buf)
			return nil, err
		}
	}
}
