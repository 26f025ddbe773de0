// Package htmlspec is what the HTML Standard says of HTML elements by
// name, as Inlay's checks of markup need it: which elements are void,
// which hold raw text, whose end tag may be left out, which close an open
// <p>, and how the tree builder treats them. It is the one table of these
// facts, keyed by golang.org/x/net/html/atom, for the fragment contract's
// markup check (fragments/contract), the layouts' check for unclosed
// elements (composer/layout) and check-fragment's markup advice.
//
// References are to the HTML Standard's parsing section (§13.2) and its
// syntax section (§13.1).
package htmlspec

import "golang.org/x/net/html/atom"

// Flags are the facts the table holds about one element.
type Flags uint32

const (
	// Void: the tree builder never opens it, so it has no content and no
	// end tag: the void elements (§13.1.2) and the obsolete ones parsed
	// the same way (basefont, bgsound, frame, keygen, param, and image,
	// which is parsed as img).
	Void Flags = 1 << iota
	// RawText: its content is RAWTEXT or RCDATA, up to its own end tag
	// (§13.1.2.6).
	RawText
	// ScriptData: its content is script data, with its escape states.
	ScriptData
	// Plaintext: nothing ends its content, not even the end of the page.
	Plaintext
	// Formatting: the formatting elements (§13.2.4.3), which the adoption
	// agency reopens when they are closed out of order.
	Formatting
	// Special: the special category of the HTML namespace (§13.2.4.3);
	// "any other end tag" stops at one.
	Special
	// ScopeBoundary: the HTML elements that bound "has an element in
	// scope" (§13.2.4.2).
	ScopeBoundary
	// ImpliedEnd: the elements "generate implied end tags" closes
	// (§13.2.6.3).
	ImpliedEnd
	// OptionalEnd: the elements whose end tag may be omitted (§13.1.2.4).
	OptionalEnd
	// ClosesP: a start tag whose rule in the "in body" insertion mode
	// closes a <p> in button scope before anything else (§13.2.6.4.7).
	// <li>, <dd> and <dt> close one too, after the list items they
	// close, and are not marked.
	ClosesP
	// Breakout: an HTML start tag that ends foreign content (§13.2.6.5);
	// <font> only with a color, face or size attribute.
	Breakout
	// TablePart: an element that lives only inside a table (§4.9):
	// caption, colgroup, col, the row groups, rows and cells.
	TablePart
	// ScopedEnd: an end tag that closes the elements open inside its
	// element when that is in scope (the tree builder's own rules for it,
	// and ruby's annotation elements); any other end tag stops at a
	// special element.
	ScopedEnd
	// Foreign: its start tag opens foreign content (SVG or MathML).
	Foreign
	// SVGIntegration: in SVG, an HTML integration point, whose content is
	// HTML again (§13.2.6.5). Only meaningful for an element inside <svg>.
	SVGIntegration
	// MathMLText: in MathML, a text integration point, whose content is
	// HTML again. Only meaningful for an element inside <math>.
	MathMLText
)

// facts lists the elements of each fact. An element missing from every
// list is an ordinary one, with no flags.
var facts = []struct {
	flag  Flags
	names []atom.Atom
}{
	{Void, []atom.Atom{atom.Area, atom.Base, atom.Basefont, atom.Bgsound, atom.Br, atom.Col, atom.Embed, atom.Frame,
		atom.Hr, atom.Image, atom.Img, atom.Input, atom.Keygen, atom.Link, atom.Meta, atom.Param, atom.Source,
		atom.Track, atom.Wbr}},
	{RawText, []atom.Atom{atom.Style, atom.Textarea, atom.Title, atom.Iframe, atom.Noembed, atom.Noframes,
		atom.Noscript, atom.Xmp}},
	{ScriptData, []atom.Atom{atom.Script}},
	{Plaintext, []atom.Atom{atom.Plaintext}},
	{Formatting, []atom.Atom{atom.A, atom.B, atom.Big, atom.Code, atom.Em, atom.Font, atom.I, atom.Nobr, atom.S,
		atom.Small, atom.Strike, atom.Strong, atom.Tt, atom.U}},
	{Special, []atom.Atom{atom.Address, atom.Applet, atom.Area, atom.Article, atom.Aside, atom.Base, atom.Basefont,
		atom.Bgsound, atom.Blockquote, atom.Body, atom.Br, atom.Button, atom.Caption, atom.Center, atom.Col,
		atom.Colgroup, atom.Dd, atom.Details, atom.Dir, atom.Div, atom.Dl, atom.Dt, atom.Embed, atom.Fieldset,
		atom.Figcaption, atom.Figure, atom.Footer, atom.Form, atom.Frame, atom.Frameset, atom.H1, atom.H2, atom.H3,
		atom.H4, atom.H5, atom.H6, atom.Head, atom.Header, atom.Hgroup, atom.Hr, atom.Html, atom.Iframe, atom.Img,
		atom.Input, atom.Keygen, atom.Li, atom.Link, atom.Listing, atom.Main, atom.Marquee, atom.Menu, atom.Meta,
		atom.Nav, atom.Noembed, atom.Noframes, atom.Noscript, atom.Object, atom.Ol, atom.P, atom.Param,
		atom.Plaintext, atom.Pre, atom.Script, atom.Search, atom.Section, atom.Select, atom.Source, atom.Style,
		atom.Summary, atom.Table, atom.Tbody, atom.Td, atom.Template, atom.Textarea, atom.Tfoot, atom.Th,
		atom.Thead, atom.Title, atom.Tr, atom.Track, atom.Ul, atom.Wbr, atom.Xmp}},
	{ScopeBoundary, []atom.Atom{atom.Applet, atom.Caption, atom.Html, atom.Table, atom.Td, atom.Th, atom.Marquee,
		atom.Object, atom.Template}},
	{ImpliedEnd, []atom.Atom{atom.Dd, atom.Dt, atom.Li, atom.Optgroup, atom.Option, atom.P, atom.Rb, atom.Rp,
		atom.Rt, atom.Rtc}},
	{OptionalEnd, []atom.Atom{atom.Html, atom.Head, atom.Body, atom.Li, atom.Dt, atom.Dd, atom.P, atom.Rt, atom.Rp,
		atom.Optgroup, atom.Option, atom.Colgroup, atom.Caption, atom.Thead, atom.Tbody, atom.Tfoot, atom.Tr,
		atom.Td, atom.Th}},
	{ClosesP, []atom.Atom{atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Center, atom.Details,
		atom.Dialog, atom.Dir, atom.Div, atom.Dl, atom.Fieldset, atom.Figcaption, atom.Figure, atom.Footer,
		atom.Header, atom.Hgroup, atom.Main, atom.Menu, atom.Nav, atom.Ol, atom.P, atom.Search, atom.Section,
		atom.Summary, atom.Ul, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Pre, atom.Listing,
		atom.Form, atom.Table, atom.Hr, atom.Xmp, atom.Plaintext}},
	{Breakout, []atom.Atom{atom.B, atom.Big, atom.Blockquote, atom.Body, atom.Br, atom.Center, atom.Code, atom.Dd,
		atom.Div, atom.Dl, atom.Dt, atom.Em, atom.Embed, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
		atom.Head, atom.Hr, atom.I, atom.Img, atom.Li, atom.Listing, atom.Menu, atom.Meta, atom.Nobr, atom.Ol,
		atom.P, atom.Pre, atom.Ruby, atom.S, atom.Small, atom.Span, atom.Strong, atom.Strike, atom.Sub, atom.Sup,
		atom.Table, atom.Tt, atom.U, atom.Ul, atom.Var, atom.Font}},
	{TablePart, []atom.Atom{atom.Td, atom.Th, atom.Caption, atom.Tr, atom.Tbody, atom.Thead, atom.Tfoot,
		atom.Colgroup, atom.Col}},
	{ScopedEnd, []atom.Atom{atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Button, atom.Center,
		atom.Details, atom.Dialog, atom.Dir, atom.Div, atom.Dl, atom.Fieldset, atom.Figcaption, atom.Figure,
		atom.Footer, atom.Header, atom.Hgroup, atom.Listing, atom.Main, atom.Menu, atom.Nav, atom.Ol, atom.Pre,
		atom.Search, atom.Section, atom.Summary, atom.Ul, atom.Form, atom.P, atom.Li, atom.Dd, atom.Dt, atom.H1,
		atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Applet, atom.Marquee, atom.Object, atom.Template,
		atom.Table, atom.Tbody, atom.Thead, atom.Tfoot, atom.Tr, atom.Td, atom.Th, atom.Caption, atom.Colgroup,
		atom.Select, atom.Option, atom.Optgroup, atom.Rb, atom.Rp, atom.Rt, atom.Rtc}},
	{Foreign, []atom.Atom{atom.Svg, atom.Math}},
	{SVGIntegration, []atom.Atom{atom.Foreignobject, atom.Desc, atom.Title}},
	{MathMLText, []atom.Atom{atom.Mi, atom.Mo, atom.Mn, atom.Ms, atom.Mtext}},
}

// entry is one element of the table.
type entry struct {
	name  string
	a     atom.Atom
	flags Flags
}

// The table: every element with a fact, and two open-addressed indexes
// of it: by atom (position+1; 0 is an empty slot) and by name. The
// fragment contract looks up every start tag of every fetched body by
// name, and this costs less than a Go map or atom.Lookup and a second
// probe.
var (
	entries []entry
	byAtom  [512]uint8
	byName  [512]entry // copies, inline: one cache line per probe
)

func init() {
	at := map[atom.Atom]int{}
	for _, f := range facts {
		for _, a := range f.names {
			i, ok := at[a]
			if !ok {
				i = len(entries)
				at[a] = i
				entries = append(entries, entry{name: a.String(), a: a})
			}
			entries[i].flags |= f.flag
		}
	}
	for i, e := range entries {
		j := atomSlot(e.a)
		for byAtom[j] != 0 {
			j = (j + 1) & (len(byAtom) - 1)
		}
		byAtom[j] = uint8(i + 1)
		j = nameSlot([]byte(e.name))
		for byName[j].a != 0 {
			j = (j + 1) & (len(byName) - 1)
		}
		byName[j] = e
	}
}

// atomSlot is where an atom's probe sequence starts in byAtom.
func atomSlot(a atom.Atom) int { return int(uint32(a) * 2654435769 >> 23) }

// nameSlot is where a name's probe sequence starts in byName: FNV-1a.
func nameSlot(name []byte) int {
	h := uint32(2166136261)
	for _, c := range name {
		h = (h ^ uint32(c)) * 16777619
	}
	return int(h) & (len(byName) - 1)
}

// Of returns the facts of the element a; zero for an ordinary element.
func Of(a atom.Atom) Flags {
	for i := atomSlot(a); byAtom[i] != 0; i = (i + 1) & (len(byAtom) - 1) {
		if e := entries[byAtom[i]-1]; e.a == a {
			return e.flags
		}
	}
	return 0
}

// Lookup returns the atom and the facts of the element with the lower-case
// tag name, or zero for both when it is an ordinary element.
func Lookup(name []byte) (atom.Atom, Flags) {
	t := &byName
	for i := nameSlot(name); t[i].a != 0; i = (i + 1) & (len(t) - 1) {
		if t[i].name == string(name) {
			return t[i].a, t[i].flags
		}
	}
	return 0, 0
}
