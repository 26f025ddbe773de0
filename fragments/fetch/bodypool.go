package fetch

import (
	"errors"
	"io"
	"math/bits"
	"sync"

	"github.com/inlayhq/inlay/internal/poison"
)

// Body buffers are pooled by size class, powers of two from 1 KiB to
// 4 MiB: a page that is done with a body it alone held gives the buffer
// back (see Response.Release), and the next fetch reads into it. On the
// no-store path this turns most of the garbage a page makes into reuse,
// which keeps the heap, and so the process's memory, close to the bodies
// actually in flight. A body of known length takes the smallest class it
// fits, so that a 4 KiB body holds 4 KiB, not the next class up.
const (
	minBodyClass = 10 // 1 KiB
	maxBodyClass = 22 // 4 MiB
)

var bodyPools [maxBodyClass - minBodyClass + 1]sync.Pool

// bodyBoxes recycles the *[]byte a buffer travels in through a pool, so
// that giving a buffer back allocates nothing.
var bodyBoxes = sync.Pool{New: func() any { return new([]byte) }}

// bodyClass returns the pool index for a buffer of at least n bytes, and
// that class's size; ok is false above the largest class.
func bodyClass(n int) (i, size int, ok bool) {
	shift := minBodyClass
	if n > 1<<minBodyClass {
		shift = bits.Len(uint(n - 1))
	}
	if shift > maxBodyClass {
		return 0, 0, false
	}
	return shift - minBodyClass, 1 << shift, true
}

// getBody returns an empty buffer with room for at least n bytes.
func getBody(n int) []byte {
	i, size, ok := bodyClass(n)
	if !ok {
		return make([]byte, 0, n)
	}
	if box, ok := bodyPools[i].Get().(*[]byte); ok {
		b := (*box)[:0]
		*box = nil
		bodyBoxes.Put(box)
		return b
	}
	return make([]byte, 0, size)
}

// putBody gives a buffer from getBody back for reuse. Buffers of other
// sizes are left to the garbage collector. In tests, the buffer is
// poisoned first (see package poison): whatever reads it after this
// reads the poison, not the body.
func putBody(b []byte) {
	if poison.Enabled() {
		poison.Fill(b[:cap(b)])
	}
	i, size, ok := bodyClass(cap(b))
	if !ok || cap(b) != size {
		return
	}
	box := bodyBoxes.Get().(*[]byte)
	*box = b[:0]
	bodyPools[i].Put(box)
}

// ReadBody reads r whole into a pooled buffer, failing once more than
// limit bytes arrive.
func ReadBody(r io.Reader, contentLength, limit int64) ([]byte, error) {
	if contentLength > limit {
		return nil, ErrTooLarge
	}
	size := 4 << 10
	if contentLength > 0 {
		size = int(contentLength)
	}
	buf := getBody(size)
	for {
		if len(buf) == cap(buf) {
			if len(buf) == int(contentLength) {
				// All the announced bytes came: the body should end here.
				// The look for its end takes no room in buf.
				var one [1]byte
				n, err := r.Read(one[:])
				if n == 0 && err == io.EOF {
					return buf, nil
				}
				if n == 0 && err != nil {
					putBody(buf)
					return nil, err
				}
				contentLength = -1 // it goes on: read it as one of unknown length
				if n == 0 {
					continue
				}
				grown := append(getBody(2*cap(buf)), buf...)
				putBody(buf)
				buf = append(grown, one[0])
				continue
			}
			if int64(len(buf)) > limit {
				putBody(buf)
				return nil, ErrTooLarge
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
			return nil, ErrTooLarge
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

// ErrTooLarge is why a body was not read whole: it was over its limit.
var ErrTooLarge = errors.New("body too large")
