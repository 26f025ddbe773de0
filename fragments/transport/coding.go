package transport

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/inlayhq/inlay/fragments/fetch"
)

// maxGzipLayers is how many gzip codings a fragment body may carry, one
// over the other ("gzip, gzip"). A deeper stack is refused: each layer
// costs a decompressor, and no service needs more than one.
const maxGzipLayers = 2

// gzipLayers reads an answer's Content-Encoding, every line of it, and
// returns how many gzip codings its body carries. gzip and x-gzip (its
// old name, RFC 9110 §8.4.1.3) are the one coding Inlay decodes, and
// the only one it asks for; identity, or an empty list element, is no
// coding at all. Any other coding (deflate, br, compress, zstd, one Inlay
// does not know), or more than maxGzipLayers gzip codings, is an error:
// a body Inlay cannot read.
func gzipLayers(h http.Header) (int, error) {
	lines := h["Content-Encoding"]
	if len(lines) == 1 && strings.EqualFold(lines[0], "gzip") {
		return 1, nil // the common case, without splitting
	}
	n := 0
	for _, line := range lines {
		for c := range strings.SplitSeq(line, ",") {
			switch c = strings.TrimSpace(c); {
			case c == "", strings.EqualFold(c, "identity"):
			case strings.EqualFold(c, "gzip"), strings.EqualFold(c, "x-gzip"):
				n++
			default:
				return 0, fmt.Errorf("content coding %q: only gzip is decoded", c)
			}
		}
	}
	if n > maxGzipLayers {
		return 0, fmt.Errorf("%d gzip codings stacked, at most %d are decoded", n, maxGzipLayers)
	}
	return n, nil
}

// inflate undoes layers (1 or more) gzip codings of raw. The outermost
// layer is read by pooled, reset, when not nil; outer is the reader of
// that layer, to keep for the next body. Under more than one layer, the
// bytes every layer produces count against one budget of limit bytes, so
// the work of a stack is bounded as one layer's is by the body cap; a
// body over it fails with ErrTooLarge.
func inflate(raw io.Reader, layers int, limit int64, pooled *gzip.Reader) (body io.Reader, outer *gzip.Reader, err error) {
	outer = pooled
	if outer == nil {
		outer, err = gzip.NewReader(raw)
	} else {
		err = outer.Reset(raw)
	}
	if err != nil {
		return nil, outer, fmt.Errorf("gzip: %w", err)
	}
	if layers == 1 {
		return outer, outer, nil // the body cap counts the one layer's bytes
	}
	left := &limit
	body = &layerBudget{r: outer, left: left}
	for range layers - 1 {
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, outer, fmt.Errorf("gzip: %w", err)
		}
		body = &layerBudget{r: zr, left: left}
	}
	return body, outer, nil
}

// layerBudget counts what one decoding layer produces against the budget
// that every layer of a body shares.
type layerBudget struct {
	r    io.Reader
	left *int64
}

func (l *layerBudget) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if *l.left -= int64(n); *l.left < 0 {
		return n, fetch.ErrTooLarge
	}
	return n, err
}

// DecodeBody undoes the content codings that header names, as a fetch
// does, and returns at most limit bytes of the body they carry, for a
// tool that keeps the bytes of an answer beside what a fetch made of
// them. A body cut short gives what could be decoded of it. ok is false
// for a coding a fetch refuses: then raw is returned as it is.
func DecodeBody(header http.Header, raw []byte, limit int64) (body []byte, ok bool) {
	layers, err := gzipLayers(header)
	if err != nil {
		return raw, false
	}
	if layers == 0 {
		return raw, true
	}
	r, _, err := inflate(bytes.NewReader(raw), layers, limit, nil)
	if err != nil {
		return nil, true
	}
	body, _ = io.ReadAll(io.LimitReader(r, limit))
	return body, true
}
