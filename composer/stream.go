package composer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/inlayhq/inlay/composer/layout"
	"github.com/inlayhq/inlay/fragments"
	"github.com/inlayhq/inlay/static"
)

// stream writes a page in document order. It stops writing at the first
// error, which means the shopper has gone.
//
// A page whose boxes are all known when its headers are due is held whole
// and sent with a Content-Length in one write. Otherwise it goes through a
// buffer that is flushed to the shopper only before a wait, so that the
// many small pieces of a page leave in few writes.
type stream struct {
	w       io.Writer     // where page bytes go: held or buf
	held    *bytes.Buffer // the whole page, when held
	buf     *bufio.Writer // over the response, when streaming
	flusher http.Flusher  // nil when the response cannot flush
	assets  []string      // URLs of the assets already on the page
	err     error

	rc        *http.ResponseController
	writeIdle time.Duration

	debug      bool        // outline and label every box
	debugBoxes []debugInfo // what the debug view says about each box so far

	nonce   string // the page's CSP nonce for inline scripts; set when async boxes stream
	swapper bool   // the swap function is on the page
}

// noscriptPlaceholder lets an async box's placeholder shrink to its
// inline fallback when JavaScript is off: the content that follows can
// never be swapped in, and a reserved empty block would stay for good. It
// stands inside the placeholder, so the swap takes it away with it.
const noscriptPlaceholder = `<noscript><style>#inlay-p-%d{min-height:0!important;animation:none!important;background:none!important}</style></noscript>`

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
func newStream(w http.ResponseWriter, writeIdle time.Duration, whole bool) *stream {
	f, _ := w.(http.Flusher)
	s := &stream{flusher: f, rc: http.NewResponseController(w), writeIdle: writeIdle}
	if whole {
		s.held = heldPages.Get().(*bytes.Buffer)
		s.w = s.held
	} else {
		s.buf = bufWriters.Get().(*bufio.Writer)
		s.buf.Reset(w)
		s.w = s.buf
	}
	s.extendDeadline()
	return s
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
	}
}

func (s *stream) writeString(str string) {
	if s.err == nil {
		_, s.err = io.WriteString(s.w, str)
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
	s.writeString("<!--inlay-debug:" + strconv.Itoa(len(s.debugBoxes)) + "-->")
	s.debugBoxes = append(s.debugBoxes, newDebugInfo(slot, o))
}

// debugClose marks where the current box of the debug view ends.
func (s *stream) debugClose() {
	s.writeString("<!--/inlay-debug:" + strconv.Itoa(len(s.debugBoxes)-1) + "-->")
}

// debugEnd writes what the debug view knows about every box, its
// stylesheet and its script, at the end of the page where they can move
// nothing.
func (s *stream) debugEnd() {
	if !s.debug || s.err != nil {
		return
	}
	data, err := json.Marshal(s.debugBoxes) // escapes <, > and &: safe in a script element
	if err != nil {
		s.err = err
		return
	}
	s.writeString(`<link rel="stylesheet" href="` + static.Path("inlay.css") + `">`)
	s.writeString(`<script type="application/json" id="inlay-debug-data">`)
	s.write(data)
	s.writeString(`</script><script src="` + static.Path("inlay-debug.js") + `" defer></script>`)
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
	u := html.EscapeString(a.URL)
	switch a.Kind {
	case fragments.Stylesheet:
		s.writeString(`<link rel="stylesheet" href="` + u + `">`)
	case fragments.ModuleScript:
		s.writeString(`<script type="module" src="` + u + `"` + s.nonceAttr() + `></script>`)
	case fragments.Script:
		s.writeString(`<script src="` + u + `" defer` + s.nonceAttr() + `></script>`)
	}
}

func (s *stream) nonceAttr() string {
	if s.nonce == "" {
		return ""
	}
	return ` nonce="` + s.nonce + `"`
}

// placeholder writes the box an async slot shows until its content
// arrives: a <inlay-slot> holding the placeholder markup, sized by the
// layout's placeholder-height so that the page does not jump.
func (s *stream) placeholder(i int, slot *layout.Slot, content *fragments.Response) {
	style := "display:contents"
	if slot.PlaceholderHeight != "" {
		style = "display:block;min-height:" + slot.PlaceholderHeight
	}
	s.writeString(`<inlay-slot id="inlay-p-` + strconv.Itoa(i) + `" data-fragment="` + html.EscapeString(slot.ID) + `" style="` + style + `">`)
	if slot.PlaceholderHeight != "" {
		s.writeString(fmt.Sprintf(noscriptPlaceholder, i))
	}
	if content != nil {
		for _, a := range content.Assets {
			s.asset(a)
		}
		s.write(content.Body)
	} else {
		s.write(slot.Inline)
	}
	s.writeString(`</inlay-slot>`)
}

// swapScript moves an async box's content from its <template> into the
// place of its placeholder, then removes the template and itself, so the
// final document is the one in-order streaming would have made.
const swapScript = `function inlaySwap(i){var d=document,t=d.getElementById("inlay-t-"+i),p=d.getElementById("inlay-p-"+i);if(t&&p)p.replaceWith(t.content);if(t)t.remove();d.currentScript.remove()}`

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
	s.writeString(`<template id="inlay-t-` + id + `">`)
	s.write(o.resp.Body)
	s.writeString(`</template><script` + s.nonceAttr() + `>`)
	if !s.swapper {
		s.writeString(swapScript)
		s.swapper = true
	}
	s.writeString(`inlaySwap(` + id + `)</script>`)
}
