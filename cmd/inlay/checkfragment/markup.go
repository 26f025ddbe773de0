package checkfragment

// The markup check of check-fragment: what in a fragment body would break
// the page around it.

import (
	"bytes"
	"fmt"
	"github.com/inlayhq/inlay/composer/config"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/inlayhq/inlay/fragments/contract/htmlspec"
	"golang.org/x/net/html"
)

// maxMarkupProblems caps the markup problems reported for one body.
const maxMarkupProblems = 10

// htmlCheck is what checkHTML found in a fragment body.
type htmlCheck struct {
	problems []config.Problem
	// classAt is where the first class attribute is; zero when none.
	classAt position
	// stylesheets is true when the body links or embeds CSS itself.
	stylesheets bool
}

// position is a 1-based line and column in a body, the column in characters.
type position struct{ line, col int }

// is reports whether the element named name has one of the facts f in
// the one HTML element table.
func is(name string, f htmlspec.Flags) bool {
	_, flags := htmlspec.Lookup([]byte(name))
	return flags&f != 0
}

// isTableSection reports whether name is a row group: thead, tbody or tfoot.
func isTableSection(name string) bool { return name == "thead" || name == "tbody" || name == "tfoot" }

// endsOptional reports whether a start tag named next ends an open element
// whose end tag is optional.
func endsOptional(open, next string) bool {
	switch open {
	case "p":
		return is(next, htmlspec.ClosesP)
	case "li":
		return next == "li"
	case "dt", "dd":
		return next == "dt" || next == "dd"
	case "rt", "rp":
		return next == "rt" || next == "rp"
	case "option":
		return next == "option" || next == "optgroup" || next == "hr"
	case "optgroup":
		return next == "optgroup" || next == "hr"
	case "colgroup":
		return next != "col" && next != "template"
	case "tr":
		return next == "tr" || isTableSection(next)
	case "td", "th":
		return next == "td" || next == "th" || next == "tr" || isTableSection(next)
	case "thead", "tbody":
		return next == "tbody" || next == "tfoot"
	}
	return false
}

// openElement is an element whose end tag is still to come.
type openElement struct {
	name string
	at   int // offset of its start tag
}

// markupChecker follows a fragment body's elements on a stack.
type markupChecker struct {
	data  []byte
	lines []int // offsets at which lines start
	stack []openElement
	out   htmlCheck

	reported   int  // markup problems reported
	suppressed int  // problems past maxMarkupProblems
	document   bool // the full-document problem was reported
	inline     bool // the inline-script warning was reported
	handler    bool // the event-handler warning was reported
	linkTag    bool // the <link rel=stylesheet> warning was reported
}

// checkHTML tokenizes a fragment body with golang.org/x/net/html and
// reports what would break the page around it: elements left open or
// closed out of order (void elements and optional end tags as HTML allows
// them are fine), a non-void element written as <x/>, a whole document,
// and <fragment> or ESI tags, which Inlay never processes. It warns about
// inline scripts and event handlers, which the page's CSP blocks on pages
// with async boxes, and about <link rel=stylesheet> in the body.
func checkHTML(body []byte) htmlCheck {
	c := &markupChecker{data: body, lines: lineOffsets(body)}
	z := html.NewTokenizer(bytes.NewReader(body))
	offset := 0
	for {
		z.AllowCDATA(c.inForeign())
		tt := z.Next()
		start := offset
		offset += len(z.Raw())
		switch tt {
		case html.ErrorToken:
			if err := z.Err(); err != io.EOF {
				c.problem(config.SeverityError, "send well-formed HTML", start, "reading the markup: %v", err)
			}
			c.finish()
			if c.suppressed > 0 {
				c.out.problems = append(c.out.problems, config.Problem{Severity: config.SeverityError,
					Message: fmt.Sprintf("and %d more markup problems", c.suppressed), Fix: "fix the ones above and check again"})
			}
			return c.out
		case html.DoctypeToken:
			c.fullDocument(start)
		case html.StartTagToken, html.SelfClosingTagToken:
			c.startTag(z, start, tt == html.SelfClosingTagToken)
		case html.EndTagToken:
			name, _ := z.TagName()
			c.endTag(string(name), start)
		}
	}
}

func (c *markupChecker) problem(severity, fix string, offset int, format string, args ...any) {
	if c.reported >= maxMarkupProblems {
		c.suppressed++
		return
	}
	c.reported++
	p := c.position(offset)
	c.out.problems = append(c.out.problems, config.Problem{Severity: severity, Message: fmt.Sprintf(format, args...), Line: p.line, Col: p.col, Fix: fix})
}

// inForeign reports whether the checker is inside <svg> or <math>, where
// any element may close itself with "/>".
func (c *markupChecker) inForeign() bool {
	for _, e := range c.stack {
		if e.name == "svg" || e.name == "math" {
			return true
		}
	}
	return false
}

func (c *markupChecker) fullDocument(offset int) {
	if c.document {
		return
	}
	c.document = true
	c.problem(config.SeverityError, "send only the box's markup, without <html>, <head> or <body>", offset, "a whole document (<!DOCTYPE>, <html>, <head> or <body>) in a fragment: Inlay places the body inside the page's <body> as it is; send only the box's markup")
}

func (c *markupChecker) startTag(z *html.Tokenizer, offset int, selfClosing bool) {
	nameBytes, hasAttr := z.TagName()
	name := string(nameBytes)
	var typ, rel string
	var hasSrc bool
	for hasAttr {
		var k, v []byte
		k, v, hasAttr = z.TagAttr()
		key := string(k)
		switch {
		case key == "class" && c.out.classAt.line == 0:
			c.out.classAt = c.position(offset)
		case key == "src":
			hasSrc = true
		case key == "type":
			typ = strings.ToLower(string(v))
		case key == "rel":
			rel = strings.ToLower(string(v))
		case len(key) > 2 && strings.HasPrefix(key, "on") && !c.handler:
			c.handler = true
			c.problem(config.SeverityWarning, "attach handlers from a script declared in a Link header", offset, "inline event handler %s= on <%s>: the page's Content-Security-Policy blocks it on pages with async boxes; attach handlers from a script declared in a Link header", key, name)
		}
	}
	switch {
	case name == "html" || name == "head" || name == "body":
		c.fullDocument(offset)
		return
	case name == "fragment":
		c.problem(config.SeverityError, "ask the designers for a <fragment> slot in the layout", offset, "<fragment> inside a fragment is never processed: Inlay does not scan fragment bodies, so it reaches the browser as an unknown element; ask for a slot in the layout instead")
		return
	case strings.HasPrefix(name, "esi:"):
		c.problem(config.SeverityError, "ask the designers for a <fragment> slot in the layout", offset, "<%s> is never processed: Inlay does not do ESI and does not scan fragment bodies, so it reaches the browser as it is", name)
		return
	case name == "script" && !hasSrc && !strings.Contains(typ, "json") && !c.inline:
		c.inline = true
		c.problem(config.SeverityWarning, "declare the script in a Link header: </x.js>; rel=script", offset, "inline <script>: the page's Content-Security-Policy blocks it on pages with async boxes; declare scripts in a Link header (rel=script or rel=modulepreload), which Inlay writes with the page's nonce")
	case name == "style":
		c.out.stylesheets = true
	case name == "link" && strings.Contains(" "+rel+" ", " stylesheet "):
		c.out.stylesheets = true
		if !c.linkTag {
			c.linkTag = true
			c.problem(config.SeverityWarning, "send Link: </x.css>; rel=stylesheet", offset, "<link rel=stylesheet> in the body: declare it in a Link response header instead, so that Inlay places it once per page, before the first fragment that needs it")
		}
	}
	foreign := c.inForeign()
	if selfClosing && !is(name, htmlspec.Void) {
		if !foreign && name != "svg" && name != "math" {
			c.problem(config.SeverityError, "write the end tag", offset, `<%s/>: "/>" does not close a <%s> in HTML, so everything after it ends up inside it; write <%s></%s>`, name, name, name, name)
		}
		return
	}
	if !foreign {
		c.closeImplied(name)
	}
	if !is(name, htmlspec.Void) {
		c.stack = append(c.stack, openElement{name: name, at: offset})
	}
}

// closeImplied pops the open elements a start tag named next closes
// implicitly: those with optional end tags that next ends, and those above
// them, which the end of their parent closes.
func (c *markupChecker) closeImplied(next string) {
	for {
		found := -1
		for j := len(c.stack) - 1; j >= 0 && is(c.stack[j].name, htmlspec.OptionalEnd); j-- {
			if endsOptional(c.stack[j].name, next) {
				found = j
				break
			}
		}
		if found < 0 {
			return
		}
		c.stack = c.stack[:found]
	}
}

func (c *markupChecker) endTag(name string, offset int) {
	switch {
	case name == "html" || name == "head" || name == "body":
		c.fullDocument(offset)
		return
	case name == "fragment" || strings.HasPrefix(name, "esi:"):
		return // reported at the start tag
	case is(name, htmlspec.Void):
		c.problem(config.SeverityError, "remove the end tag", offset, "stray </%s>: <%s> is a void element and has no end tag", name, name)
		return
	}
	j := len(c.stack) - 1
	for j >= 0 && c.stack[j].name != name {
		j--
	}
	if j < 0 {
		if name == "p" {
			c.problem(config.SeverityError, "remove the </p>, or move the block element out of the <p>", offset, "stray </p>: no <p> is open; a block element such as <div> or <ul> inside a <p> closes the <p> before it")
		} else {
			c.problem(config.SeverityError, "remove the end tag, or add its start tag", offset, "stray </%s>: no <%s> is open", name, name)
		}
		return
	}
	end := c.position(offset)
	for k := j + 1; k < len(c.stack); k++ {
		if e := c.stack[k]; !is(e.name, htmlspec.OptionalEnd) {
			c.problem(config.SeverityError, "close the element before its parent ends", e.at, "<%s> is not closed before </%s> at %d:%d", e.name, name, end.line, end.col)
		}
	}
	c.stack = c.stack[:j]
}

// finish reports the elements still open at the end of the body.
func (c *markupChecker) finish() {
	for _, e := range c.stack {
		if !is(e.name, htmlspec.OptionalEnd) {
			c.problem(config.SeverityError, "close the element", e.at, "<%s> is never closed", e.name)
		}
	}
	c.stack = nil
}

// lineOffsets returns the offset at which each line of data starts.
func lineOffsets(data []byte) []int {
	starts := []int{0}
	for i, b := range data {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

func (c *markupChecker) position(offset int) position {
	i := sort.Search(len(c.lines), func(i int) bool { return c.lines[i] > offset }) - 1
	return position{line: i + 1, col: utf8.RuneCount(c.data[c.lines[i]:offset]) + 1}
}
