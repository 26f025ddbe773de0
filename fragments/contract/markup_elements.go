package contract

import ()

func isAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

func isTagEnd(c byte) bool {
	return c == '>' || c == '/' || isSpace(c)
}

// element is what the check knows of an HTML element by name.
type element struct {
	name  string
	flags uint16
}

// elements classifies the HTML elements whose parsing matters to the
// check. Any other element is an ordinary one, which must be closed.
var elements = func() map[string]element {
	m := map[string]element{}
	add := func(flags uint16, names ...string) {
		for _, n := range names {
			e := m[n]
			e.name, e.flags = n, e.flags|flags
			m[n] = e
		}
	}
	add(fVoid, "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image", "img", "input", "keygen", "link", "meta", "param", "source", "track", "wbr")
	add(fScript, "script")
	add(fRawText, "style", "textarea", "title", "iframe", "noembed", "noframes", "noscript", "xmp")
	add(fForbidden, "plaintext", "frameset")
	add(fAttrForbidden, "html", "head", "body")
	add(fFormatting, "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u")
	add(fBoundary, "applet", "marquee", "object", "template", "table", "td", "th", "caption")
	add(fTablePart, "td", "th", "caption", "tr", "tbody", "thead", "tfoot", "colgroup", "col")
	add(fOptional, "li", "dt", "dd", "option", "optgroup", "rb", "rp", "rt", "rtc")
	add(fClosesP, "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div", "dl",
		"fieldset", "figcaption", "figure", "footer", "header", "hgroup", "main", "menu", "nav", "ol", "p", "search",
		"section", "summary", "ul", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "listing", "form", "table", "hr", "xmp", "plaintext")
	// The HTML start tags that end foreign content (<font> only with some
	// attributes; the check refuses it in foreign content either way).
	add(fBreakout, "b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl", "dt", "em", "embed",
		"h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "i", "img", "li", "listing", "menu", "meta", "nobr", "ol", "p",
		"pre", "ruby", "s", "small", "span", "strong", "strike", "sub", "sup", "table", "tt", "u", "ul", "var", "font")
	add(fSpecial, "address", "applet", "area", "article", "aside", "base", "basefont", "bgsound", "blockquote", "body",
		"br", "button", "caption", "center", "col", "colgroup", "dd", "details", "dir", "div", "dl", "dt", "embed",
		"fieldset", "figcaption", "figure", "footer", "form", "frame", "frameset", "h1", "h2", "h3", "h4", "h5", "h6",
		"head", "header", "hgroup", "hr", "html", "iframe", "img", "input", "keygen", "li", "link", "listing", "main",
		"marquee", "menu", "meta", "nav", "noembed", "noframes", "noscript", "object", "ol", "p", "param", "plaintext",
		"pre", "script", "search", "section", "select", "source", "style", "summary", "table", "tbody", "td",
		"template", "textarea", "tfoot", "th", "thead", "title", "tr", "track", "ul", "wbr", "xmp")
	// End tags that close what is open inside them (when it is in scope);
	// any other end tag stops at a special element.
	add(fScoped, "address", "article", "aside", "blockquote", "button", "center", "details", "dialog", "dir", "div",
		"dl", "fieldset", "figcaption", "figure", "footer", "header", "hgroup", "listing", "main", "menu", "nav", "ol",
		"pre", "search", "section", "summary", "ul", "form", "p", "li", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6",
		"applet", "marquee", "object", "template", "table", "tbody", "thead", "tfoot", "tr", "td", "th", "caption",
		"colgroup", "select", "option", "optgroup", "rb", "rp", "rt", "rtc")
	add(0, "svg", "math", "span")
	return m
}()

// elementTable holds elements by elementHash, open-addressed: the check
// looks up every start tag of every fragment, and this costs a third of
// what a Go map does on the miss path's hottest loop.
var elementTable = func() (t [512]element) {
	for name, el := range elements {
		i := elementHash([]byte(name)) & (len(t) - 1)
		for t[i].name != "" {
			i = (i + 1) & (len(t) - 1)
		}
		t[i] = el
	}
	return t
}()

// elementHash is FNV-1a over a tag name.
func elementHash(n []byte) int {
	h := uint32(2166136261)
	for _, c := range n {
		h = (h ^ uint32(c)) * 16777619
	}
	return int(h)
}

// lookupElement returns what the check knows of the element named n
// (lower case), or the zero element for an ordinary one.
func lookupElement(n []byte) element {
	t := &elementTable
	for i := elementHash(n) & (len(t) - 1); t[i].name != ""; i = (i + 1) & (len(t) - 1) {
		if t[i].name == string(n) {
			return t[i]
		}
	}
	return element{}
}

// foreignFlags classifies an element inside SVG or MathML.
func foreignFlags(ns uint8, n []byte) uint16 {
	switch {
	case ns == nsSVG && (string(n) == "foreignobject" || string(n) == "desc" || string(n) == "title"):
		return fIntegration
	case ns == nsMath && (string(n) == "mi" || string(n) == "mo" || string(n) == "mn" || string(n) == "ms" || string(n) == "mtext"):
		return fMathText
	}
	return 0
}
