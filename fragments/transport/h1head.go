package transport

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"strconv"
	"strings"
	"sync"

	"github.com/inlayhq/inlay/fragments/fetch"
	"golang.org/x/net/http/httpguts"
)

// h1Head is what the lean client reads of an answer before its body: the
// status line and the header section, with the body's framing worked out
// as RFC 9112 section 6 says.
//
// http.ReadResponse does the same work with an allocation per header
// field and a Response, a Body and a textproto.Reader per answer; on the
// miss path that was a tenth of the CPU of a page. readHead makes one
// string of the whole header section and slices the keys and values out
// of it, so an answer's head costs a few allocations, whatever its
// number of fields.
type h1Head struct {
	status  int
	minor   int // HTTP/1.minor
	header  http.Header
	length  int64 // the body's length, or -1 when the chunks or the connection's end say
	chunked bool
	close   bool // the service closes the connection after this answer
}

// ErrMalformedHead is the error of an answer whose status line or header
// fields do not parse, or whose framing is ambiguous: a fetch that gets one
// fails with [KindBody].
var ErrMalformedHead = errors.New("malformed HTTP response head")

// CheckHead reports why the lean HTTP/1.1 client, which reads the answers
// of plain-http services, refuses the answer whose bytes begin raw, or nil
// when it reads it. Informational answers (1xx) before it are read past,
// as the client reads past them; a head cut short in raw is not judged.
// `inlay check-fragment` uses it, so that a team sees the answer as the
// server reads it.
func CheckHead(raw []byte) error {
	br := bufio.NewReaderSize(bytes.NewReader(raw), h1ReadBufferSize)
	for {
		h, err := readHead(br)
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return nil
		case err != nil:
			return err
		case h.status >= 200 || h.status == http.StatusSwitchingProtocols:
			return nil
		}
	}
}

// headScratch holds a head's lines while they are read: lines longer than
// the read buffer come in pieces.
var headScratch = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putScratch gives a scratch buffer back, unless a large head grew it.
func putScratch(b *bytes.Buffer) {
	if b.Cap() <= 16<<10 {
		headScratch.Put(b)
	}
}

// readHead reads one answer's status line and header section from br.
// Its checks are http.ReadResponse's, and a few stricter ones:
//   - only HTTP/1.0 and HTTP/1.1 are spoken;
//   - a header line folded onto the next (obs-fold, which RFC 9112
//     deprecates) is refused rather than unfolded;
//   - a field name must be a token and a value must hold no control
//     characters but tabs.
//
// Like http.ReadResponse, it refuses several Content-Length fields that
// disagree, a Content-Length that is not a number, and a
// Transfer-Encoding other than chunked; with chunked, Content-Length is
// dropped. A Transfer-Encoding in an HTTP/1.0 answer is ignored. The
// Transfer-Encoding field and a "Connection: close" are taken out of the
// header, which is the answer's, not the connection's.
func readHead(br *bufio.Reader) (h1Head, error) {
	var h h1Head
	line, err := readLine(br, nil)
	if err != nil {
		return h, err // io.EOF when nothing of an answer came: the caller may retry
	}
	if h.minor, h.status, err = parseStatusLine(line); err != nil {
		return h, err
	}
	scratch := headScratch.Get().(*bytes.Buffer)
	defer putScratch(scratch)
	scratch.Reset()
	fields := 0
	for {
		line, err := readLine(br, scratch)
		if err != nil {
			return h, unexpected(err)
		}
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return h, fmt.Errorf("%w: a folded header line", ErrMalformedHead)
		}
		scratch.WriteByte('\n')
		fields++
	}
	if err := h.parseFields(scratch.String(), fields); err != nil {
		return h, err
	}
	return h, h.frame()
}

// unexpected turns the end of the connection inside a head into
// io.ErrUnexpectedEOF, as http.ReadResponse does.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readLine reads one line without its line ending (CRLF, or a bare LF as
// RFC 9112 allows a recipient to take). With to set, the line is appended
// to it and the returned slice is to's; otherwise the slice is br's and
// good until the next read.
func readLine(br *bufio.Reader, to *bytes.Buffer) ([]byte, error) {
	start := 0
	if to != nil {
		start = to.Len()
	}
	for {
		part, err := br.ReadSlice('\n')
		switch {
		case err == bufio.ErrBufferFull:
			if to == nil {
				return nil, fmt.Errorf("%w: status line over %d bytes", ErrMalformedHead, br.Size())
			}
			to.Write(part)
			continue
		case err == io.EOF && (len(part) > 0 || to != nil && to.Len() > start):
			return nil, io.ErrUnexpectedEOF // the line was cut
		case err != nil:
			return nil, err
		}
		var line []byte
		if to == nil {
			line = part
		} else {
			to.Write(part)
			line = to.Bytes()[start:]
		}
		line = line[:len(line)-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if to != nil {
			to.Truncate(start + len(line))
		}
		return line, nil
	}
}

// parseStatusLine parses "HTTP/1.x NNN reason".
func parseStatusLine(line []byte) (minor, status int, err error) {
	proto, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok || len(proto) != len("HTTP/1.1") || !bytes.HasPrefix(proto, []byte("HTTP/1.")) || (proto[7] != '0' && proto[7] != '1') {
		return 0, 0, fmt.Errorf("%w: status line %q", ErrMalformedHead, truncate(line))
	}
	rest = bytes.TrimLeft(rest, " ")
	code, _, _ := bytes.Cut(rest, []byte(" "))
	if len(code) != 3 || code[0] < '1' || code[0] > '9' || code[1] < '0' || code[1] > '9' || code[2] < '0' || code[2] > '9' {
		return 0, 0, fmt.Errorf("%w: status code in %q", ErrMalformedHead, truncate(line))
	}
	return int(proto[7] - '0'), int(code[0]-'0')*100 + int(code[1]-'0')*10 + int(code[2]-'0'), nil
}

// truncate shortens a line quoted in an error.
func truncate(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// parseFields fills h.header from block, n lines of "Name: value", each
// ended by a newline. Keys and values are slices of block, which is made
// a string once. The map is one a released response gave back, when
// there is one (fetch.NewHeader).
func (h *h1Head) parseFields(block string, n int) error {
	h.header = fetch.NewHeader(n)
	values := make([]string, n) // one array for the fields' values
	for block != "" {
		var line string
		line, block, _ = strings.Cut(block, "\n")
		name, value, ok := strings.Cut(line, ":")
		if !ok || !httpguts.ValidHeaderFieldName(name) {
			return fmt.Errorf("%w: header line %q", ErrMalformedHead, truncate([]byte(line)))
		}
		if !httpguts.ValidHeaderFieldValue(value) {
			return fmt.Errorf("%w: the value of %s", ErrMalformedHead, name)
		}
		value = strings.Trim(value, " \t")
		key := textproto.CanonicalMIMEHeaderKey(name)
		if vv := h.header[key]; vv != nil {
			h.header[key] = append(vv, value)
			continue
		}
		values[0] = value
		h.header[key] = values[:1:1]
		values = values[1:]
	}
	return nil
}

// frame works out how the body is delimited, and whether the connection
// outlives the answer, in http.ReadResponse's order: Content-Length
// fields that disagree or are not numbers are refused whatever the rest
// says.
func (h *h1Head) frame() error {
	// parseFields trimmed the values, as http.ReadResponse does here.
	cl := h.header["Content-Length"]
	if len(cl) > 1 {
		for _, v := range cl[1:] {
			if v != cl[0] {
				return fmt.Errorf("%w: several Content-Length fields: %q", ErrMalformedHead, cl)
			}
		}
		cl = cl[:1]
		h.header["Content-Length"] = cl
	}
	length := int64(-1)
	if len(cl) > 0 {
		n, err := strconv.ParseUint(cl[0], 10, 63)
		if err != nil {
			return fmt.Errorf("%w: Content-Length %q", ErrMalformedHead, cl[0])
		}
		length = int64(n)
	}
	// "Connection: close" is the connection's, not the answer's: it goes.
	// HTTP/1.0's keep-alive extension is not relied on: an HTTP/1.0
	// connection serves one answer.
	closes := httpguts.HeaderValuesContainsToken(h.header["Connection"], "close")
	if closes {
		delete(h.header, "Connection")
	}
	h.close = h.minor == 0 || closes
	// Transfer-Encoding goes too; an HTTP/1.0 answer's is ignored.
	if te, ok := h.header["Transfer-Encoding"]; ok {
		delete(h.header, "Transfer-Encoding")
		if h.minor > 0 {
			if len(te) != 1 || !strings.EqualFold(te[0], "chunked") {
				return fmt.Errorf("%w: transfer encoding %q", ErrMalformedHead, te)
			}
			h.chunked = true
		}
	}
	switch {
	case h.status < 200 || h.status == http.StatusNoContent || h.status == http.StatusNotModified:
		h.length, h.chunked = 0, false // no body, whatever the fields say
	case h.chunked:
		delete(h.header, "Content-Length")
		h.length = -1
	case length >= 0:
		h.length = length
	default:
		h.length, h.close = -1, true // the body ends with the connection
	}
	return nil
}

// body returns a reader of the answer's body from br, which reports
// io.ErrUnexpectedEOF when the connection ends before the body does.
func (h *h1Head) body(br *bufio.Reader) io.Reader {
	switch {
	case h.chunked:
		return &chunkedBody{br: br, r: httputil.NewChunkedReader(br)}
	case h.length >= 0:
		return &lengthBody{br: br, n: h.length}
	}
	return br
}

// lengthBody reads a body of a known length.
type lengthBody struct {
	br *bufio.Reader
	n  int64
}

func (b *lengthBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.br.Read(p)
	b.n -= int64(n)
	if err == io.EOF && b.n > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// chunkedBody reads a chunked body and, after its last chunk, the
// trailer section, which is read and dropped: the connection then stands
// at the next answer.
type chunkedBody struct {
	br   *bufio.Reader
	r    io.Reader
	done bool
}

// maxTrailerBytes caps the trailer section of a chunked body.
const maxTrailerBytes = 8 << 10

func (b *chunkedBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.r.Read(p)
	if err == io.EOF {
		if err = b.skipTrailer(); err == nil {
			b.done, err = true, io.EOF
		}
	}
	return n, err
}

// skipTrailer reads the trailer section up to the empty line that ends
// it, checking that each of its lines is a field ended by CRLF, as
// net/http does.
func (b *chunkedBody) skipTrailer() error {
	read, lineStart := 0, true
	for {
		line, err := b.br.ReadSlice('\n')
		read += len(line)
		if read > maxTrailerBytes {
			return fmt.Errorf("%w: trailer over %d bytes", ErrMalformedHead, maxTrailerBytes)
		}
		if err != nil && err != bufio.ErrBufferFull {
			return unexpected(err)
		}
		if err == nil && !bytes.HasSuffix(line, []byte("\r\n")) {
			return fmt.Errorf("%w: trailer line without CRLF", ErrMalformedHead)
		}
		if lineStart {
			if err == nil && len(line) == 2 {
				return nil
			}
			if name, _, ok := bytes.Cut(line, []byte(":")); !ok || !httpguts.ValidHeaderFieldName(string(name)) {
				return fmt.Errorf("%w: trailer line %q", ErrMalformedHead, truncate(line))
			}
		}
		lineStart = err == nil // a line longer than the buffer comes in pieces
	}
}
