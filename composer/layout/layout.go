package layout

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/fragments/contract"
	"golang.org/x/net/html"
)

// MaxBytes caps the size of one layout file.
const MaxBytes = 4 << 20

// MaxFragmentTimeout caps a fragment's timeout attribute.
const MaxFragmentTimeout = time.Minute

// Layout is a parsed layout: static HTML chunks with the slots between them.
// A request copies the chunks and fills the slots; nothing is parsed per
// request. A Layout is immutable once parsed.
type Layout struct {
	// Name is the layout's file name inside the layouts folder.
	Name string
	// Slots are the fragment placeholders in document order.
	Slots []*Slot
	// Primary is the index of the primary slot in Slots, or -1.
	Primary int
	// Warnings are what is wrong with the layout without stopping it
	// from serving, such as an element that is never closed.
	Warnings config.Problems

	usesParams bool // some src or fallback-src has a {parameter}
	async      int  // number of async slots
	// tailAt is where the last chunk's closing </body> starts (or its
	// length when there is none): async content is streamed before it.
	tailAt int
	// static is the length of all chunks together.
	static int

	// chunks[i] is the markup before Slots[i]; the last chunk follows the
	// last slot, so len(chunks) == len(Slots)+1.
	chunks [][]byte
}

// Slot is the place of one fragment in a layout.
type Slot struct {
	// ID names the fragment in logs, headers and errors. It defaults to the
	// service name and the slot's position, like "shell-1".
	ID string
	// Src is where the fragment comes from.
	Src *Source
	// Fallback is fetched when Src fails. Nil means none.
	Fallback *Source
	// Inline is the markup written between <fragment> and </fragment>; it
	// fills the slot when both Src and Fallback fail.
	Inline []byte
	// Timeout is the fragment's deadline. Zero means the service's default.
	Timeout time.Duration
	// Primary marks the fragment whose status becomes the page's.
	Primary bool
	// Async marks a fragment that must not hold the stream.
	Async bool
	// PlaceholderHeight is the CSS min-height of an async fragment's box
	// until its content arrives, so that the page does not jump. Empty
	// means none.
	PlaceholderHeight string
	// File, Line and Col locate the <fragment> tag: in the page's own
	// layout, or in the base layout it came from.
	File      string
	Line, Col int

	idHeader []string // ID as a header value, shared by every request
}

// UsesParams reports whether some src or fallback-src has a {parameter}:
// only then does a page need the request's query parsed.
func (l *Layout) UsesParams() bool { return l.usesParams }

// AsyncSlots is the number of async slots.
func (l *Layout) AsyncSlots() int { return l.async }

// Chunks are the static markup around the slots: Chunks()[i] is the markup
// before Slots[i], and the last chunk follows the last slot, so there is
// one chunk more than there are slots. The caller must not modify them.
func (l *Layout) Chunks() [][]byte { return l.chunks }

// StaticBytes is the length of the layout's own markup: all its chunks.
func (l *Layout) StaticBytes() int { return l.static }

// TailAt is where the last chunk's closing </body> starts, or the last
// chunk's length when there is none: async content is streamed before it.
func (l *Layout) TailAt() int { return l.tailAt }

// IDHeader is the slot's ID as a header value, one slice shared by every
// request for the slot. The caller must not modify it.
func (s *Slot) IDHeader() []string { return s.idHeader }

// Parse parses a layout file's contents. file names it in problems.
// All problems found are returned, each with its line and column. Base
// layouts and fills are resolved by [Load]; here a <slot> shows its
// default content.
func Parse(file string, data []byte, services map[string]*config.Service) (*Layout, config.Problems) {
	src := sources{file: data}
	t, problems := unwrapESIComments(fileText(file, data), src)
	if len(problems) > 0 {
		return nil, problems
	}
	return parseText(t, src, services)
}

// parseText parses assembled layout markup into chunks and slots.
func parseText(t text, src sources, services map[string]*config.Service) (*Layout, config.Problems) {
	p := &layoutParser{t: t, data: t.data, src: src, services: services}
	l, problems := p.parse()
	if l != nil {
		l.Warnings = unclosedElements(t, src)
	}
	return l, problems
}

type layoutParser struct {
	t        text
	data     []byte // t.data
	src      sources
	services map[string]*config.Service
	problems config.Problems
}

func (p *layoutParser) problem(offset int, format string, args ...any) {
	file, line, col := p.position(offset)
	p.problems = append(p.problems, &config.Problem{File: file, Line: line, Col: col, Message: fmt.Sprintf(format, args...)})
}

// position locates an offset of the assembled markup in its file.
func (p *layoutParser) position(offset int) (file string, line, col int) {
	file, off := p.t.origin(offset)
	line, col = p.src.position(file, off)
	return file, line, col
}

// fileOf returns the file that an offset of the assembled markup came from.
func (p *layoutParser) fileOf(offset int) string {
	file, _ := p.t.origin(offset)
	return file
}

// chunkBuilder collects the static markup between slots, leaving out the
// parts a layout removes (<esi:remove>, a stray </esi:include>).
type chunkBuilder struct {
	pending []byte // markup kept from before a removed part
	start   int    // where the current run of kept markup starts
}

// cut ends the current run at from and starts the next one at to.
func (c *chunkBuilder) cut(data []byte, from, to int) {
	c.pending = append(c.pending, data[c.start:from]...)
	c.start = to
}

// take returns the chunk up to end and starts the next one at next.
func (c *chunkBuilder) take(data []byte, end, next int) []byte {
	chunk := data[c.start:end]
	if c.pending != nil {
		chunk = append(c.pending, chunk...)
		c.pending = nil
	}
	c.start = next
	return chunk
}

// unreadable says why data cannot be read as markup at all, and where:
// too large, empty, not UTF-8 or with a NUL byte. It returns "" for a
// file that can be parsed, whatever its mistakes.
func unreadable(data []byte) (at int, why string) {
	switch {
	case len(data) > MaxBytes:
		return 0, fmt.Sprintf("layout is %d bytes, more than the %d allowed", len(data), MaxBytes)
	case len(bytes.TrimSpace(data)) == 0:
		return 0, "layout is empty: is the file being written?"
	case !utf8.Valid(data):
		return contract.InvalidUTF8At(data), "layout is not UTF-8 text"
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return i, "layout contains a NUL byte"
	}
	return 0, ""
}

// layoutScan is the state of parse as it walks a layout's tokens.
type layoutScan struct {
	p                  *layoutParser
	l                  *Layout
	z                  *html.Tokenizer
	offset             int
	chunks             chunkBuilder
	bodyEnd            int   // offset of the last </body>, -1 before one
	open               *Slot // a <fragment> whose end tag is still to come
	openAt, innerStart int
	removeAt           int // offset of an open <esi:remove>, -1 outside one
	ids                map[string]*Slot
}

func (p *layoutParser) parse() (*Layout, config.Problems) {
	if at, why := unreadable(p.data); why != "" {
		p.problem(at, "%s", why)
		return nil, p.problems
	}
	s := &layoutScan{
		p:        p,
		l:        &Layout{Primary: -1},
		z:        html.NewTokenizer(bytes.NewReader(p.data)),
		bodyEnd:  -1,
		removeAt: -1,
		ids:      map[string]*Slot{},
	}
	for s.step() {
	}
	s.finish()
	if len(p.problems) > 0 {
		p.problems.Sort()
		return nil, p.problems
	}
	s.l.summarize()
	return s.l, nil
}

// step reads one token and acts on it; it returns false at the end of the
// layout.
func (s *layoutScan) step() bool {
	p := s.p
	tt := s.z.Next()
	start := s.offset
	s.offset += len(s.z.Raw())
	if tt == html.ErrorToken {
		if err := s.z.Err(); err != io.EOF {
			p.problem(start, "reading layout: %v", err)
		} else if len(s.z.Raw()) > 0 {
			p.problem(start, "the file ends inside a tag: is it cut off?")
		}
		return false
	}
	if tt != html.StartTagToken && tt != html.SelfClosingTagToken && tt != html.EndTagToken {
		return true
	}
	raw, _ := s.z.TagName()
	name := string(raw)
	if s.removeAt >= 0 {
		if tt == html.EndTagToken && name == "esi:remove" {
			s.chunks.cut(p.data, s.removeAt, s.offset)
			s.removeAt = -1
		}
		return true // what <esi:remove> holds is for pages served without ESI
	}
	if !s.isSlotTag(tt, name, start) {
		return true
	}
	if tt == html.EndTagToken {
		s.closeFragment(start)
		return true
	}
	if s.open != nil {
		s.reportRunInto(name, start)
	}
	s.addSlot(tt, name, start)
	return true
}

// isSlotTag handles </body> and the ESI tags other than a start
// <esi:include>, and says whether the tag is a <fragment> or <esi:include>
// for the caller to handle.
func (s *layoutScan) isSlotTag(tt html.TokenType, name string, start int) bool {
	p := s.p
	switch {
	case tt == html.EndTagToken && name == "body":
		s.bodyEnd = start
		return false
	case name == "esi:remove" && tt == html.StartTagToken:
		s.removeAt = start
		return false
	case name == "esi:remove":
		if tt == html.EndTagToken {
			p.problem(start, "</esi:remove> without an opening <esi:remove>")
		}
		s.chunks.cut(p.data, start, s.offset)
		return false
	case name == "esi:include" && tt == html.EndTagToken:
		s.chunks.cut(p.data, start, s.offset) // <esi:include> is empty: drop its end tag
		return false
	case strings.HasPrefix(name, "esi:") && name != "esi:include":
		p.problem(start, "<%s> is not supported: Inlay supports <esi:include>, <esi:remove> and <!--esi ... -->", name)
		return false
	case name != "fragment" && name != "esi:include":
		return false
	}
	return true
}

// closeFragment handles a </fragment> at start.
func (s *layoutScan) closeFragment(start int) {
	p := s.p
	if s.open == nil {
		p.problem(start, "</fragment> without an opening <fragment>")
		return
	}
	if p.fileOf(start) != p.fileOf(s.openAt) {
		// The end tag was written in another file (a base layout
		// around a fill): the mistake is the <fragment> left open.
		p.problem(s.openAt, "<fragment> is never closed in its file: add </fragment> or write <fragment ... />")
	}
	s.open.Inline = p.data[s.innerStart:start]
	s.open, s.chunks.start = nil, s.offset
}

// reportRunInto reports the open <fragment> that the tag name at start runs
// into. Fragments do not nest, so the <fragment> still open is the mistake:
// it is reported where it was written, which may be another file than the
// tag that runs into it.
func (s *layoutScan) reportRunInto(name string, start int) {
	p := s.p
	file, line, col := p.position(start)
	if file == p.fileOf(s.openAt) {
		p.problem(s.openAt, "<fragment> is never closed: <%s> at %d:%d would be inside it; add </fragment> or write <fragment ... />", name, line, col)
	} else {
		p.problem(s.openAt, "<fragment> is never closed in its file: add </fragment> or write <fragment ... /> (<%s> at %s:%d:%d would be inside it)", name, file, line, col)
	}
	s.open = nil // report it once; the tag that ran into it is read as its own
}

// addSlot reads the <fragment> or <esi:include> start tag at start into a
// slot, checks its id and primary flag against the slots before it, and
// appends it with the static markup before it.
func (s *layoutScan) addSlot(tt html.TokenType, name string, start int) {
	p, l := s.p, s.l
	var slot *Slot
	if name == "esi:include" {
		slot = p.esiSlot(s.z, start, len(l.Slots))
	} else {
		slot = p.slot(s.z, start, len(l.Slots))
	}
	if slot.ID != "" {
		if prev, dup := s.ids[slot.ID]; dup {
			p.problem(start, "fragment id %q is used twice (first at %d:%d)", slot.ID, prev.Line, prev.Col)
		}
		s.ids[slot.ID] = slot
	}
	if slot.Primary {
		if l.Primary >= 0 {
			first := l.Slots[l.Primary]
			p.problem(start, "second primary fragment %q (the first, %q, is at %d:%d): a page has at most one", slot.ID, first.ID, first.Line, first.Col)
		} else {
			l.Primary = len(l.Slots)
		}
	}
	l.chunks = append(l.chunks, s.chunks.take(p.data, start, s.offset))
	l.Slots = append(l.Slots, slot)
	if tt == html.StartTagToken && name == "fragment" {
		s.open, s.openAt, s.innerStart = slot, start, s.offset
	}
}

// finish reports elements left open at the end of the layout and takes
// the last chunk, noting where the markup after </body> starts in it.
func (s *layoutScan) finish() {
	p, l := s.p, s.l
	if s.open != nil {
		p.problem(s.openAt, "<fragment> is never closed: add </fragment> or write <fragment ... />")
	}
	if s.removeAt >= 0 {
		p.problem(s.removeAt, "<esi:remove> is never closed")
	}
	last := s.chunks.start
	l.chunks = append(l.chunks, s.chunks.take(p.data, len(p.data), len(p.data)))
	l.tailAt = len(l.chunks[len(l.chunks)-1])
	if s.bodyEnd >= last {
		l.tailAt = len(l.chunks[len(l.chunks)-1]) - (len(p.data) - s.bodyEnd)
	}
}

// summarize computes what a parsed layout tells about itself: its static
// bytes, its slots' id headers, whether it uses params, its async slots.
func (l *Layout) summarize() {
	for _, c := range l.chunks {
		l.static += len(c)
	}
	for _, s := range l.Slots {
		s.idHeader = []string{s.ID}
		l.usesParams = l.usesParams || len(s.Src.Params()) > 0 || s.Fallback != nil && len(s.Fallback.Params()) > 0
		if s.Async {
			l.async++
		}
	}
}
