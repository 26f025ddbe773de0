package contract

import (
	"github.com/inlayhq/inlay/fragments/contract/htmlspec"
	"golang.org/x/net/html/atom"
)

func isAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

func isTagEnd(c byte) bool {
	return c == '>' || c == '/' || isSpace(c)
}

// The element facts the check reads, from the one HTML element table.
const (
	fVoid        = htmlspec.Void           // never has content: no end tag
	fRawText     = htmlspec.RawText        // RAWTEXT or RCDATA content up to its own end tag
	fScript      = htmlspec.ScriptData     // script data, with its escape states
	fPlaintext   = htmlspec.Plaintext      // nothing closes it
	fFormatting  = htmlspec.Formatting     // reopened by the browser when closed out of order
	fBoundary    = htmlspec.ScopeBoundary  // a scope boundary: end tags outside it do not reach in
	fOptional    = htmlspec.ImpliedEnd     // closed by its parent's end
	fClosesP     = htmlspec.ClosesP        // a start tag that closes an open <p>
	fTablePart   = htmlspec.TablePart      // closed by the end of its table or row
	fIntegration = htmlspec.SVGIntegration // an SVG element whose content is HTML again
	fMathText    = htmlspec.MathMLText     // a MathML element whose content is HTML again
	fBreakout    = htmlspec.Breakout       // an HTML start tag that ends foreign content
	fSpecial     = htmlspec.Special        // the spec's "special" category: other end tags stop at it
	fScoped      = htmlspec.ScopedEnd      // an end tag that closes what is open inside it
)

// element is what the check knows of an HTML element by name.
type element struct {
	name  string // lower case, for elements with a fact; "" for others
	a     atom.Atom
	flags htmlspec.Flags
}

// lookupElement returns what the check knows of the HTML element named n
// (lower case), or the zero element for an ordinary one.
func lookupElement(n []byte) element {
	a, flags := htmlspec.Lookup(n)
	// The integration points are facts of SVG and MathML elements.
	flags &^= fIntegration | fMathText
	if flags == 0 {
		return element{}
	}
	return element{name: a.String(), a: a, flags: flags}
}

// forbidden reports whether a start tag changes the page outside the box:
// <plaintext>, which nothing closes, and <frameset>.
func (e element) forbidden() bool { return e.flags&fPlaintext != 0 || e.a == atom.Frameset }

// documentElement reports whether the element is <html>, <head> or
// <body>: bare, the browser drops it; with attributes, it puts them on the
// page's own element.
func (e element) documentElement() bool {
	return e.a == atom.Html || e.a == atom.Head || e.a == atom.Body
}

// foreignFlags classifies an element inside SVG or MathML.
func foreignFlags(ns uint8, n []byte) htmlspec.Flags {
	_, flags := htmlspec.Lookup(n)
	switch ns {
	case nsSVG:
		return flags & fIntegration
	case nsMath:
		return flags & fMathText
	}
	return 0
}
