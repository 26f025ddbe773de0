package fetch

import (
	"net/http"
	"sync"

	"github.com/inlayhq/inlay/internal/poison"
)

// Header maps are pooled as body buffers are: a page that is done with a
// response it alone held gives its header map back (see
// Response.Release), and the lean client parses the next answer's fields
// into it. A map keeps the room it grew to when cleared, so a page's
// four no-store boxes then make no map of their own (a map of up to
// eight fields is 400 bytes).
var headerPool sync.Pool

// maxPooledFields is the most fields a header map given back may hold:
// a larger one would keep its room in the pool for answers that need
// less.
const maxPooledFields = 16

// NewHeader returns an empty header map for n fields: one a released
// response gave back when there is one (it grows if it must), else one
// made with room for n.
func NewHeader(n int) http.Header {
	if h, ok := headerPool.Get().(http.Header); ok {
		return h
	}
	return make(http.Header, n)
}

// putHeader gives h back for reuse, empty. In tests (see package poison)
// it is kept out of the pool instead, holding only the field
// PoisonField: whatever still reads it after this finds that field, not
// the service's.
func putHeader(h http.Header) {
	if h == nil {
		return
	}
	if poison.Enabled() {
		clear(h)
		h[PoisonField] = []string{"released"}
		return
	}
	if len(h) > maxPooledFields {
		return
	}
	clear(h)
	headerPool.Put(h)
}

// PoisonField is the one field of a header map given back while package
// poison is on.
const PoisonField = "X-Inlay-Released"
