package composer

import (
	"bufio"
	"bytes"
	"context"
	"html"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/inlayhq/inlay/composer/layout"
	"github.com/inlayhq/inlay/fragments"
)

// stream writes a page in document order. It stops writing at the first
// error, which means the shopper has gone.
//
// A page whose boxes are all known when its headers are due is held whole
// and sent with a Content-Length in one write. Otherwise it goes through a
// buffer that is flushed to the shopper only before a wait, so that the
// many small pieces of a page leave in few writes. A held page that has
// to wait after all, or grows past maxHeldPage, streams from there on.
type stream struct {
	w       io.Writer     // where page bytes go: held or buf
	held    *bytes.Buffer // the whole page, when held
	buf     *bufio.Writer // over the response, when streaming
	rw      http.ResponseWriter
	start   func()       // sends the page's headers, when it streams
	flusher http.Flusher // nil when the response cannot flush
	assets  []string     // URLs of the assets already on the page
	err     error

	rc        *http.ResponseController
	writeIdle time.Duration
	waited    bool // the page waited for a box since the deadline was set

	debug      bool        // outline and label every box
	debugBoxes []debugInfo // what the debug view says about each box so far

	nonce        string // the page's CSP nonce for inline scripts; set when async boxes stream
	swapper      bool   // the swap function is on the page
	noscriptRule bool   // the no-JavaScript rule for sized placeholders is on the page
}

// DefaultWriteIdleTimeout is how long one write to a shopper may take. A
// reader slower than that is cut off rather than holding a page open.
const DefaultWriteIdleTimeout = 10 * time.Second

// streamBufferSize is the write buffer of a streamed page: most pages'
// pieces between two waits fit.
const streamBufferSize = 16 << 10

var (
	heldPages  = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	bufWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, streamBufferSize) }}
)

// newStream starts a page for w, held whole or streamed.
// start sends the page's headers: it is called before the first byte of
// a streamed page, not for a page sent whole.
func newStream(w http.ResponseWriter, writeIdle time.Duration, whole bool, start func()) *stream {
	f, _ := w.(http.Flusher)
	s := &stream{flusher: f, rc: http.NewResponseController(w), writeIdle: writeIdle, rw: w, start: start}
	if whole {
		s.held = heldPages.Get().(*bytes.Buffer)
		s.w = s.held
	} else {
		s.streaming()
	}
	s.extendDeadline()
	return s
}

// streaming sends the page through the stream's buffer from now on.
func (s *stream) streaming() {
	s.buf = bufWriters.Get().(*bufio.Writer)
	s.buf.Reset(s.rw)
	s.w = s.buf
}

// unhold makes a held page a streamed one: its headers go, and what it
// held so far is written to the stream's buffer.
func (s *stream) unhold() {
	held := s.held
	if held == nil {
		return
	}
	s.held = nil
	s.start()
	s.streaming()
	s.write(held.Bytes())
	if held.Cap() <= 1<<20 {
		held.Reset()
		heldPages.Put(held)
	}
}

// end sends what is still buffered of a streamed page; net/http ends the
// response with it.
func (s *stream) end() {
	if s.buf != nil && s.err == nil {
		s.err = s.buf.Flush()
	}
}

// release returns the stream's buffers for other pages.
func (s *stream) release() {
	if s.held != nil && s.held.Cap() <= 1<<20 {
		s.held.Reset()
		heldPages.Put(s.held)
	}
	if s.buf != nil {
		s.buf.Reset(nil)
		bufWriters.Put(s.buf)
	}
	s.held, s.buf, s.w = nil, nil, nil
}

// extendDeadline gives the next writes writeIdle to complete. Writers that
// cannot take deadlines (test recorders) go without.
func (s *stream) extendDeadline() {
	if s.rc != nil && s.rc.SetWriteDeadline(time.Now().Add(s.writeIdle)) != nil {
		s.rc = nil // not supported here: don't ask again
	}
}

func (s *stream) write(b []byte) {
	if s.err == nil && len(b) > 0 {
		_, s.err = s.w.Write(b)
		s.overflow()
	}
}

func (s *stream) writeString(str string) {
	if s.err == nil {
		_, s.err = io.WriteString(s.w, str)
		s.overflow()
	}
}

// overflow streams a held page that grew past maxHeldPage.
func (s *stream) overflow() {
	if s.held != nil && s.held.Len() > maxHeldPage {
		s.unhold()
	}
}

// flush sends what the page has so far: called before a wait.
func (s *stream) flush() {
	if s.err != nil || s.buf == nil {
		return
	}
	s.extendDeadline()
	if s.err = s.buf.Flush(); s.err == nil && s.flusher != nil {
		s.flusher.Flush()
	}
}

// flushBeforeWait is flush, for a page about to wait for the next box's
// answer: it notes the wait, after which the writes get a new deadline.
func (s *stream) flushBeforeWait() {
	s.waited = true
	s.unhold()
	s.flush()
}

// slot writes what one slot shows: the fragment's assets not yet on the
// page, then its body; or the layout's inline fallback.
func (s *stream) slot(slot *layout.Slot, o *outcome) {
	if s.debug {
		s.debugOpen(slot, o)
		defer s.debugClose()
	}
	if o.resp == nil {
		s.write(slot.Inline)
		return
	}
	for _, a := range o.resp.Assets {
		s.asset(a)
	}
	s.write(o.resp.Body)
}

// debugOpen marks where a box of the debug view starts. The marks are
// comments, which take no space and match no CSS selector, so the page
// is laid out exactly as without the debug view; the debug script draws
// outlines and labels over the boxes afterwards.
func (s *stream) debugOpen(slot *layout.Slot, o *outcome) {
	s.tag(debugOpenTag, strconv.Itoa(len(s.debugBoxes)))
	s.debugBoxes = append(s.debugBoxes, newDebugInfo(slot, o))
}

// debugClose marks where the current box of the debug view ends.
func (s *stream) debugClose() {
	s.tag(debugCloseTag, strconv.Itoa(len(s.debugBoxes)-1))
}

// debugEnd writes what the debug view knows about every box, its
// stylesheet and its script, at the end of the page where they can move
// nothing.
func (s *stream) debugEnd() {
	if s.debug && s.err == nil {
		s.err = debugTail(s.debugBoxes).Render(context.Background(), s.w)
	}
}

// asset writes the tag for an asset unless the page already has it. Links
// go in the body just before the fragment that needs them, which browsers
// treat as render-blocking for the content that follows.
func (s *stream) asset(a fragments.Asset) {
	for _, seen := range s.assets {
		if seen == a.URL {
			return
		}
	}
	s.assets = append(s.assets, a.URL)
	switch a.Kind {
	case fragments.Stylesheet:
		s.tag(stylesheetTag, html.EscapeString(a.URL))
	case fragments.ModuleScript:
		s.tag(moduleScriptTag, html.EscapeString(a.URL))
	case fragments.Script:
		s.tag(scriptTag, html.EscapeString(a.URL))
	}
}

// tag writes t with its one value filled in, and the page's nonce where t
// takes one.
func (s *stream) tag(t tag, value string) {
	s.write(t.open)
	s.writeString(value)
	s.write(t.mid)
	if t.nonce && s.nonce != "" {
		s.write(nonceOpen)
		s.writeString(s.nonce)
		s.write(quote)
	}
	s.write(t.close)
}

// placeholder writes the box an async slot shows until its content
// arrives: a <inlay-slot> holding the placeholder markup, sized by the
// layout's placeholder-height so that the page does not jump.
func (s *stream) placeholder(i int, slot *layout.Slot, content *fragments.Response) {
	s.tag(placeholderTag, strconv.Itoa(i))
	s.writeString(html.EscapeString(slot.ID))
	if slot.PlaceholderHeight == "" {
		s.write(placeholderContents)
	} else {
		s.write(placeholderSized)
		s.writeString(slot.PlaceholderHeight) // a CSS length: the layout parser checked it
		s.write(placeholderSizedEnd)
		if !s.noscriptRule {
			s.write(noscriptPlaceholders)
			s.noscriptRule = true
		}
	}
	if content != nil {
		for _, a := range content.Assets {
			s.asset(a)
		}
		s.write(content.Body)
	} else {
		s.write(slot.Inline)
	}
	s.write(placeholderEnd)
}

// asyncContent writes an async box's content out of order: its assets
// (before the swap, so CSS applies before the content paints), a
// <template> with the content, and the inline script that swaps it in.
// When the fragment failed with nothing better than the placeholder, the
// placeholder stays.
func (s *stream) asyncContent(i int, slot *layout.Slot, o *outcome) {
	if o.resp == nil {
		return
	}
	for _, a := range o.resp.Assets {
		s.asset(a)
	}
	id := strconv.Itoa(i)
	s.tag(templateTag, id)
	s.write(o.resp.Body)
	s.tag(swapScriptTag, "")
	if !s.swapper {
		s.write(swapScript)
		s.swapper = true
	}
	s.tag(swapCallTag, id)
}
