package fetch

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"
)

// DefaultMaxInflightBytes is the memory budget of fragment bodies in
// flight across all pages when none is configured: sized for a 512 MiB
// container, beside the cache's 64 MiB and the Go runtime's headroom.
const DefaultMaxInflightBytes = 128 << 20

// Budget bounds the memory of fragment bodies in flight across all pages:
// bytes are reserved as a body is read and given back when the page that
// asked for it is done with it. A fetch that would go over the budget
// fails at once, and its box degrades, instead of growing the heap: under
// a flood of large fragments the shop serves smaller pages rather than
// running out of memory.
type Budget struct {
	max  atomic.Int64
	used atomic.Int64
}

// NewBudget returns a budget of max bytes. Zero means
// DefaultMaxInflightBytes; negative means no limit.
func NewBudget(max int64) *Budget {
	b := &Budget{}
	b.SetMax(max)
	return b
}

// SetMax changes the budget; see NewBudget. Bytes reserved stay reserved.
func (b *Budget) SetMax(max int64) {
	if max == 0 {
		max = DefaultMaxInflightBytes
	}
	b.max.Store(max)
}

// Used returns the bytes reserved now.
func (b *Budget) Used() int64 { return b.used.Load() }

// Max returns the budget, or a negative number for none.
func (b *Budget) Max() int64 { return b.max.Load() }

// reserve takes n bytes from the budget, or reports false and takes
// nothing when they are not there.
func (b *Budget) reserve(n int64) bool {
	if b == nil || n <= 0 {
		return true
	}
	max := b.max.Load()
	if max < 0 {
		b.used.Add(n)
		return true
	}
	for {
		used := b.used.Load()
		if used+n > max {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// Release gives n bytes back.
func (b *Budget) Release(n int64) {
	if b != nil && n > 0 {
		b.used.Add(-n)
	}
}

// ErrBudget is why a body was not read: the memory budget of bodies in
// flight was spent.
var ErrBudget = errors.New("memory budget for fragment bodies in flight is spent")

// hold is what one response has reserved from a budget: nothing when
// budget is nil.
type hold struct {
	budget *Budget
	n      atomic.Int64
}

// Release gives back what the response's body reserved from the budget of
// bodies in flight, and the body's buffer and the header map for reuse
// (Header is then nil). The page calls it once it has written the body,
// and must not touch the body or the header after. A
// response the cache stored was released when it was stored, and keeps
// its body: releasing it again, or a response that reserved nothing (a
// cache hit), does nothing.
func (r *Response) Release() {
	if r != nil && r.Live != nil {
		r.Live.Body.Close()
	}
	if r != nil && r.hold.budget != nil {
		if n := r.hold.n.Swap(0); n > 0 {
			r.hold.budget.Release(n)
			putBody(r.Body)
			putHeader(r.Header)
			r.Header = nil
		}
	}
}

// Keep gives back what the response reserved from the budget, but leaves
// its body to a new owner (the cache).
func (r *Response) Keep() {
	if r != nil && r.hold.budget != nil {
		r.hold.budget.Release(r.hold.n.Swap(0))
	}
}

// budgetReader reserves from a budget every byte it reads, failing with
// errBudget when the budget is spent.
type budgetReader struct {
	r        io.Reader
	budget   *Budget
	reserved int64
}

func (br *budgetReader) Read(p []byte) (int, error) {
	n, err := br.r.Read(p)
	if n > 0 {
		if !br.budget.reserve(int64(n)) {
			return 0, fmt.Errorf("reading a body: %w", ErrBudget)
		}
		br.reserved += int64(n)
	}
	return n, err
}

// Hold records that the response's body reserved n bytes of b, which
// [Response.Release] or [Response.Keep] gives back.
func (r *Response) Hold(b *Budget, n int64) {
	if b != nil && n > 0 {
		r.hold.budget = b
		r.hold.n.Store(n)
	}
}

// Read reads a body whole within limit, reserving every byte from the
// budget (none when b is nil). It returns what it reserved; on an error
// nothing stays reserved.
func (b *Budget) Read(r io.Reader, contentLength, limit int64) (body []byte, reserved int64, err error) {
	if b == nil {
		body, err = ReadBody(r, contentLength, limit)
		return body, 0, err
	}
	br := &budgetReader{r: r, budget: b}
	body, err = ReadBody(br, contentLength, limit)
	if err != nil {
		b.Release(br.reserved)
		return nil, 0, err
	}
	return body, br.reserved, nil
}
