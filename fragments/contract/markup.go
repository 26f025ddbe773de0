package contract

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/inlayhq/inlay/fragments/contract/htmlspec"
)

// CheckMarkup reports a body that could hide or swallow what follows its
// box on the page. A body passes when, read by the HTML parsing spec's
// tokenizer and tree builder, it leaves the parser where it found it:
//
//   - the tokenizer back in the data state: no comment, bogus comment,
//     doctype, tag, raw-text or RCDATA element (script, style, textarea,
//     title, xmp, iframe, noembed, noframes, noscript) or CDATA section left
//     open, and no <plaintext>, which nothing closes;
//   - every element it opened closed again, except a bare <p>, <li>, <dt>
//     or <dd>, whose end tag is optional and which the box's parent
//     closes harmlessly: an unclosed <template>, <select>, <table>, <svg>,
//     <math>, <details>, <object> or <div hidden> would take the rest of the
//     page inside it;
//   - no end tag that closes an element it did not open (such as </body>,
//     </html> or the layout's own </div>), and no formatting element (<b>,
//     <a>, …) closed out of order, which the browser would reopen around
//     the rest of the page;
//   - no <html>, <body> or <frameset> start tag, whose attributes the
//     browser would put on the page's own elements (<body hidden>).
//
// The check is one pass over the bytes with a small stack of open elements:
// it is cheap on the fetch path and never allocates for bodies nested less
// than 32 deep. Where following the spec exactly would cost more than it is
// worth (a misnested table, a breakout from <svg>), it refuses: a refused
// body shows the box's fallback, never a broken page.
func CheckMarkup(body []byte) error {
	m := markupChecks.Get().(*markupCheck)
	m.b, m.i = body, 0
	m.stack = m.buf[:0]
	err := m.run()
	// Nothing of the body is kept while the check waits in the pool.
	clear(m.buf[:])
	m.b, m.stack = nil, nil
	markupChecks.Put(m)
	return err
}

// markupChecks recycles the check's state, which holds its stack of open
// elements inline: about 2 KB that every fetched body would otherwise
// allocate.
var markupChecks = sync.Pool{New: func() any { return new(markupCheck) }}

// errMarkup wraps every markup problem.
var errMarkup = errors.New("the body could hide the rest of the page")

// Namespaces of open elements.
const (
	nsHTML = iota
	nsSVG
	nsMath
)

// open is one element on the check's stack.
type open struct {
	name  string // lower case: a known element's name, or "" for others
	raw   []byte // the name as written, for elements not known by name
	flags htmlspec.Flags
	ns    uint8
	attrs bool // carries attributes
}

// is reports whether the element is named n (lower case).
func (e *open) is(n []byte) bool {
	if e.name != "" {
		return e.name == string(n)
	}
	return bytes.EqualFold(e.raw, n)
}

// label names the element in messages.
func (e *open) label() string {
	if e.name != "" {
		return e.name
	}
	return string(e.raw)
}

type markupCheck struct {
	b     []byte
	i     int
	stack []open
	buf   [32]open
	name  [64]byte // the current tag name, lower case
}

func (m *markupCheck) fail(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errMarkup, fmt.Sprintf(format, args...))
}

func (m *markupCheck) top() *open {
	if len(m.stack) == 0 {
		return nil
	}
	return &m.stack[len(m.stack)-1]
}

// foreign reports whether the current node is an SVG or MathML element
// whose content is foreign (not an integration point): there CDATA
// sections exist.
func (m *markupCheck) foreign() bool {
	t := m.top()
	return t != nil && t.ns != nsHTML && t.flags&(fIntegration|fMathText) == 0
}

func (m *markupCheck) run() error {
	b := m.b
	for {
		j := bytes.IndexByte(b[m.i:], '<')
		if j < 0 {
			break
		}
		m.i += j + 1
		if m.i >= len(b) {
			// With the page's own markup after it, a '<' at the end would
			// start a tag.
			return m.fail("the body ends with '<'")
		}
		var err error
		switch c := b[m.i]; {
		case c == '!':
			err = m.markupDeclaration()
		case c == '?':
			err = m.bogusComment("<?")
		case c == '/':
			err = m.endTag()
		case isAlpha(c):
			err = m.startTag()
		}
		if err != nil {
			return err
		}
	}
	for k := len(m.stack) - 1; k >= 0; k-- {
		e := &m.stack[k]
		if !(e.ns == nsHTML && !e.attrs && (e.name == "p" || e.name == "li" || e.name == "dt" || e.name == "dd")) {
			return m.fail("<%s> is never closed, so it would take in the rest of the page", e.label())
		}
	}
	return nil
}

// tagName reads a tag name at m.i into m.name, lower case, and returns it
// (the bytes of m.name, valid until the next tag). Names longer than the
// buffer are returned as they are, which matches no known element.
func (m *markupCheck) tagName() []byte {
	b := m.b
	start := m.i
	for m.i < len(b) && !isTagEnd(b[m.i]) {
		m.i++
	}
	raw := b[start:m.i]
	if len(raw) > len(m.name) {
		return raw
	}
	n := m.name[:len(raw)]
	for k, c := range raw {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		n[k] = c
	}
	return n
}

// attributes reads the rest of a tag after its name, up to and including
// '>', as the tokenizer's attribute states do: a quote opens a value only
// after '='. It reports whether the tag had attributes and was
// self-closing.
func (m *markupCheck) attributes() (attrs, selfClosing bool, err error) {
	b := m.b
	const (
		between = iota // before an attribute name, or after one
		name
		afterEq
		unquoted
	)
	state := between
	for m.i < len(b) {
		c := b[m.i]
		m.i++
		switch state {
		case between, name:
			switch {
			case c == '>':
				return attrs, selfClosing, nil
			case c == '/':
				selfClosing = true
				state = between
				continue
			case c == '=' && state == name:
				state = afterEq
			case isSpace(c):
				// After a name, '=' may still follow: keep the state.
			default:
				// Quotes and a leading '=' are part of a name here.
				attrs, state = true, name
			}
		case afterEq:
			switch {
			case isSpace(c):
			case c == '"' || c == '\'':
				end := bytes.IndexByte(b[m.i:], c)
				if end < 0 {
					return attrs, false, m.fail("an attribute value is never closed")
				}
				m.i += end + 1
				state = between
			case c == '>':
				return attrs, selfClosing, nil
			default:
				state = unquoted
			}
		case unquoted:
			switch {
			case isSpace(c):
				state = between
			case c == '>':
				return attrs, selfClosing, nil
			}
		}
		selfClosing = false
	}
	return attrs, false, m.fail("a tag is never closed by '>'")
}

func (m *markupCheck) startTag() error {
	at := m.i
	n := m.tagName()
	raw := m.b[at:m.i]
	attrs, selfClosing, err := m.attributes()
	if err != nil {
		return err
	}
	el := lookupElement(n)
	if t := m.top(); t != nil && t.ns != nsHTML && (t.flags&fIntegration == 0 && t.flags&fMathText == 0 ||
		t.flags&fMathText != 0 && (string(n) == "mglyph" || string(n) == "malignmark")) {
		if el.flags&fBreakout != 0 {
			return m.fail("<%s> inside <%s> breaks out of foreign content", n, t.label())
		}
		if !selfClosing {
			m.push(open{name: el.name, raw: raw, flags: foreignFlags(t.ns, n), ns: t.ns, attrs: attrs})
		}
		return nil
	}
	flags := el.flags
	switch {
	case el.forbidden(), el.documentElement() && attrs:
		return m.fail("<%s> in a fragment changes the page outside its box", n)
	case el.documentElement():
		return nil // a bare <html>, <head> or <body> is dropped
	case el.name == "svg" || el.name == "math":
		if !selfClosing {
			ns := uint8(nsSVG)
			if el.name == "math" {
				ns = nsMath
			}
			m.push(open{name: el.name, ns: ns, attrs: attrs})
		}
		return nil
	case m.inSelect() && flags&fRawText != 0:
		return m.fail("<%s> inside <select>", n)
	case flags&fTablePart != 0 && !m.inTable():
		// Outside a table the browser drops it, or, in the layout's own
		// table cell, closes that cell.
		return m.fail("<%s> outside a table of its own", n)
	}
	if flags&fClosesP != 0 {
		if err := m.closeP(); err != nil {
			return err
		}
	}
	m.implied(el.name)
	switch {
	case flags&fVoid != 0:
		return nil
	case flags&fScript != 0:
		return m.scriptData()
	case flags&fRawText != 0:
		return m.rawText(el.name)
	}
	m.push(open{name: el.name, raw: raw, flags: flags, ns: nsHTML, attrs: attrs})
	return nil
}

// implied pops what a start tag closes by itself: an open <li> before
// another, an <option> before another, a table cell before the next.
func (m *markupCheck) implied(n string) {
	t := m.top()
	if t == nil || t.ns != nsHTML {
		return
	}
	switch n {
	case "li":
		if t.name == "li" {
			m.pop()
		}
	case "dt", "dd":
		if t.name == "dt" || t.name == "dd" {
			m.pop()
		}
	case "option":
		if t.name == "option" {
			m.pop()
		}
	case "optgroup":
		if t.name == "option" {
			m.pop()
		}
		if t := m.top(); t != nil && t.name == "optgroup" {
			m.pop()
		}
	case "td", "th", "tr", "tbody", "thead", "tfoot", "caption", "colgroup":
		// A table part closes the open ones it cannot live in.
		for t := m.top(); t != nil && t.ns == nsHTML && t.flags&fTablePart != 0 && closesPart(n, t.name); t = m.top() {
			m.pop()
		}
	}
}

// closesPart reports whether a table part's start tag closes an open one.
func closesPart(start, open string) bool {
	switch start {
	case "td", "th":
		return open == "td" || open == "th"
	case "tr":
		return open == "td" || open == "th" || open == "tr"
	}
	return true // a row group, caption or colgroup closes every part
}

// closeP closes an open <p> as a block's start tag does, when one is in
// button scope.
func (m *markupCheck) closeP() error {
	for k := len(m.stack) - 1; k >= 0; k-- {
		e := &m.stack[k]
		if e.ns != nsHTML || e.flags&fBoundary != 0 || e.name == "button" {
			return nil
		}
		if e.name == "p" {
			return m.popTo(k)
		}
	}
	return nil
}

// inTable reports whether the fragment opened a table that is still open.
func (m *markupCheck) inTable() bool {
	for k := len(m.stack) - 1; k >= 0; k-- {
		if m.stack[k].name == "table" {
			return true
		}
	}
	return false
}

func (m *markupCheck) inSelect() bool {
	for k := len(m.stack) - 1; k >= 0; k-- {
		if m.stack[k].name == "select" {
			return true
		}
	}
	return false
}

func (m *markupCheck) push(e open) { m.stack = append(m.stack, e) }
func (m *markupCheck) pop()        { m.stack = m.stack[:len(m.stack)-1] }

// popTo closes the element at index k and everything above it. Closing a
// formatting element or a scope boundary on the way is refused: the
// browser would reopen the first around what follows, and would not close
// the second at all.
func (m *markupCheck) popTo(k int) error {
	target := &m.stack[k]
	for j := len(m.stack) - 1; j > k; j-- {
		e := &m.stack[j]
		switch {
		case target.flags&fFormatting != 0, e.ns != target.ns,
			target.ns == nsHTML && target.flags&fScoped == 0 && e.flags&fSpecial != 0:
			return m.fail("</%s> closes <%s> out of order", target.label(), e.label())
		case e.flags&fOptional != 0:
		case e.flags&fTablePart != 0 && target.name == "table":
		case (e.name == "td" || e.name == "th" || e.name == "tr") && (target.name == "tr" || target.name == "tbody" || target.name == "thead" || target.name == "tfoot"):
		case e.flags&(fFormatting|fBoundary|fIntegration|fMathText) != 0:
			return m.fail("</%s> closes <%s> out of order", target.label(), e.label())
		}
	}
	m.stack = m.stack[:k]
	return nil
}

func (m *markupCheck) endTag() error {
	m.i++ // the '/'
	b := m.b
	if m.i >= len(b) {
		return m.fail("the body ends with '</'")
	}
	if b[m.i] == '>' {
		m.i++ // "</>" is dropped
		return nil
	}
	if !isAlpha(b[m.i]) {
		return m.bogusComment("</")
	}
	n := m.tagName()
	if _, _, err := m.attributes(); err != nil {
		return err
	}
	for k := len(m.stack) - 1; k >= 0; k-- {
		if m.stack[k].is(n) {
			return m.popTo(k)
		}
	}
	switch string(n) {
	case "p", "br", "head":
		return nil // an empty <p>, a <br>, nothing: nothing outside the box closes
	}
	return m.fail("</%s> closes an element the fragment did not open", n)
}
