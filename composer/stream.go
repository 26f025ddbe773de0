package composer

import (
	"bytes"
	"context"
	"html"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/inlayhq/inlay/composer/layout"
	"github.com/inlayhq/inlay/fragments/contract"
	"github.com/inlayhq/inlay/fragments/fetch"
)

// stream writes a page in document order. It stops writing at the first
// error, which means the shopper has gone.
//
// The page gathers in one buffer. A page whose boxes are all known, or
// sent together and likely here, when its headers are due is held whole
// and sent with a Content-Length in one write. Otherwise it streams: the
// buffer goes to the shopper, in one write, only before a wait (or once
// streamSendAt bytes wait), so that the many small pieces of a page leave
// in few writes. A held page that has to wait after all, or grows past
// maxHeldPage, streams from there on.
type stream struct {
	page      *bytes.Buffer // what the page has that the shopper does not have yet
	streaming bool          // the headers went: the page leaves at each flush
	rw        http.ResponseWriter
	pg        *page        // whose headers go when the page starts streaming
	status    int          // with this status
	flusher   http.Flusher // nil when the response cannot flush
	assets    []string     // URLs of the assets already on the page
	err       error

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

// streamSendAt is how much of a streamed page may wait in its buffer for
// the next flush: a page with more between two waits sends it as it goes.
const streamSendAt = 32 << 10

// pageBuffers are the pages' buffers. A page's buffer holds what it has
// between two waits, or the whole page when it is held: a buffer grown
// past 1 MiB is left to the garbage collector.
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// newStream starts pg's page for w, held whole or streamed, in the page's
// own stream. The caller sends the headers of a streamed page; the stream
// sends them (with status) when a held one starts streaming.
func newStream(pg *page, w http.ResponseWriter, status int, whole bool) *stream {
	f, _ := w.(http.Flusher)
	s := &pg.stream // in the page, which a recycled page brings along
	*s = stream{
		page: pageBuffers.Get().(*bytes.Buffer), streaming: !whole, rw: w, pg: pg, status: status,
		flusher: f, rc: http.NewResponseController(w), writeIdle: pg.eng.writeIdle,
	}
	s.extendDeadline()
	return s
}

// unhold makes a held page a streamed one: its headers go now, and what
// it has so far with its next flush.
func (s *stream) unhold() {
	if !s.streaming {
		s.streaming = true
		s.pg.sendHeaders(s.rw, s.status)
	}
}

// send writes what the buffer has to the shopper, in one write.
func (s *stream) send() {
	if s.err == nil && s.page.Len() > 0 {
		_, s.err = s.rw.Write(s.page.Bytes())
	}
	s.page.Reset()
}

// end sends what is still buffered of a streamed page; net/http ends the
// response with it.
func (s *stream) end() {
	if s.streaming {
		s.send()
	}
}

// release returns the stream's buffer for other pages.
func (s *stream) release() {
	if s.page != nil && s.page.Cap() <= 1<<20 {
		s.page.Reset()
		pageBuffers.Put(s.page)
	}
	// Nothing of the response stays with the page, which a flight still
	// running may keep (its context is the page's deadline).
	*s = stream{}
}

// extendDeadline gives the next writes writeIdle to complete. Writers that
// cannot take deadlines (test recorders) go without.
func (s *stream) extendDeadline() {
	if s.rc != nil && s.rc.SetWriteDeadline(time.Now().Add(s.writeIdle)) != nil {
		s.rc = nil // not supported here: don't ask again
	}
}

func (s *stream) write(b []byte) {
	switch {
	case s.err != nil || len(b) == 0:
	case s.through(len(b)):
		_, s.err = s.rw.Write(b)
	default:
		s.page.Write(b)
	}
}

func (s *stream) writeString(str string) {
	switch {
	case s.err != nil || len(str) == 0:
	case s.through(len(str)):
		_, s.err = io.WriteString(s.rw, str)
	default:
		s.page.WriteString(str)
	}
}

// through makes room for n more bytes of the page. A held page that
// would grow past maxHeldPage streams from here. A streamed page sends
// what waits once it would hold streamSendAt bytes; through reports
// that the n bytes must then go straight to the shopper, not be copied:
// a large piece, such as a fragment body of a megabyte, leaves as it is.
func (s *stream) through(n int) bool {
	if !s.streaming && s.page.Len()+n > maxHeldPage {
		s.unhold()
	}
	if !s.streaming || s.page.Len()+n < streamSendAt {
		return false
	}
	s.send()
	return n >= streamSendAt
}

// flush sends what the page has so far: called before a wait.
func (s *stream) flush() {
	if s.err != nil || !s.streaming {
		return
	}
	s.extendDeadline()
	if s.send(); s.err == nil && s.flusher != nil {
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
		data := debugData{Composed: time.Since(s.pg.started).Round(10 * time.Microsecond).String(), Boxes: s.debugBoxes}
		if !s.pg.headerAt.IsZero() {
			data.TTFB = s.pg.headerAt.Sub(s.pg.started).Round(10 * time.Microsecond).String()
		}
		s.err = debugTail(data).Render(context.Background(), s.page)
	}
}

// asset writes the tag for an asset unless the page already has it. Links
// go in the body just before the fragment that needs them, which browsers
// treat as render-blocking for the content that follows.
func (s *stream) asset(a contract.Asset) {
	for _, seen := range s.assets {
		if seen == a.URL {
			return
		}
	}
	s.assets = append(s.assets, a.URL)
	switch a.Kind {
	case contract.Stylesheet:
		s.tag(stylesheetTag, html.EscapeString(a.URL))
	case contract.ModuleScript:
		s.tag(moduleScriptTag, html.EscapeString(a.URL))
	case contract.Script:
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
func (s *stream) placeholder(i int, slot *layout.Slot, content *fetch.Response) {
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
