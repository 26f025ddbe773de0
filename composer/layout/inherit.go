package layout

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/inlayhq/inlay/composer/config"
	"golang.org/x/net/html"
)

// Layout inheritance. A base layout declares named places with
//
//	<slot name="main">default content</slot>
//
// and a page layout names its base and fills places:
//
//	<layout base="base.html">
//	  <fill slot="main"> ... </fill>
//	</layout>
//
// A fill may declare slots of its own for a layout further down to fill.
// Slots that end up unfilled show their default content. <slot> elements
// inside <template> belong to web components and are left alone.

// unwrapESIComments removes the <!--esi and --> around ESI markup, so that
// what they hold is processed: pages served without ESI see a comment.
func unwrapESIComments(t text, src sources) (text, config.Problems) {
	const open, end = "<!--esi", "-->"
	var parts []text
	rest, at := t, 0
	for {
		i := bytes.Index(rest.data[at:], []byte(open))
		if i < 0 {
			break
		}
		i += at
		j := bytes.Index(rest.data[i+len(open):], []byte(end))
		if j < 0 {
			file, off := rest.origin(i)
			line, col := src.position(file, off)
			return t, config.Problems{{File: file, Line: line, Col: col, Message: "<!--esi is never closed with -->"}}
		}
		j += i + len(open)
		parts = append(parts, rest.slice(0, i), rest.slice(i+len(open), j))
		rest, at = rest.slice(j+len(end), len(rest.data)), 0
	}
	if parts == nil {
		return t, nil
	}
	return concat(append(parts, rest)...), nil
}

// place is a <slot> in a layout: where it stands and its default content.
type place struct {
	name                 string
	start, end           int // the whole element
	innerStart, innerEnd int // its default content
}

// child is a layout that names a base.
type child struct {
	base   string
	baseAt int // offset of the base attribute's tag
	fills  map[string]text
	fillAt map[string]int // offset of each <fill>
}

// inheritance resolves the layouts of one folder.
type inheritance struct {
	files    map[string]text // every layout file, ESI comments unwrapped
	src      sources
	problems map[string]config.Problems // by layout name
	resolved map[string]text
}

func (in *inheritance) problem(layout string, t text, offset int, format string, args ...any) {
	file, off := t.origin(offset)
	line, col := in.src.position(file, off)
	in.problems[layout] = append(in.problems[layout], &config.Problem{File: file, Line: line, Col: col, Message: fmt.Sprintf(format, args...)})
}

// page returns the markup of a layout with its bases applied and every
// remaining slot replaced by its default content.
func (in *inheritance) page(name string) (text, bool) {
	t, ok := in.resolve(name, nil)
	if !ok {
		return text{}, false
	}
	places, ok := in.places(name, t)
	if !ok {
		return text{}, false
	}
	return fillPlaces(t, places, nil), true
}

// resolve returns a layout's markup with its bases applied, its own and
// inherited slots still in place. chain holds the layouts being resolved,
// to catch cycles.
func (in *inheritance) resolve(name string, chain []string) (text, bool) {
	if t, ok := in.resolved[name]; ok {
		return t, true
	}
	t := in.files[name]
	c, isChild, ok := in.scanChild(name, t)
	if !ok {
		return text{}, false
	}
	if !isChild {
		in.resolved[name] = t
		return t, true
	}
	if slices.Contains(chain, name) {
		in.problem(name, t, c.baseAt, "layout cycle: %s", strings.Join(append(chain, name), " → "))
		return text{}, false
	}
	if _, exists := in.files[c.base]; !exists {
		in.problem(name, t, c.baseAt, "base layout %q not found", c.base)
		return text{}, false
	}
	base, ok := in.resolve(c.base, append(chain, name))
	if !ok {
		in.problem(name, t, c.baseAt, "base layout %q has problems", c.base)
		return text{}, false
	}
	places, ok := in.places(c.base, base)
	if !ok {
		in.problem(name, t, c.baseAt, "base layout %q has problems", c.base)
		return text{}, false
	}
	var names []string
	for _, p := range places {
		names = append(names, p.name)
	}
	for fill := range c.fills {
		if !slices.Contains(names, fill) {
			in.problem(name, t, c.fillAt[fill], "fill %q: %s has no slot %q (it has: %s)", fill, c.base, fill, strings.Join(names, ", "))
			ok = false
		}
	}
	if !ok {
		return text{}, false
	}
	out := fillPlaces(base, places, c.fills)
	in.resolved[name] = out
	return out, true
}

// fillPlaces replaces each slot with its fill. An unfilled slot stays as it
// is, for a layout further down to fill; with fills nil, every slot shows
// its default content instead.
func fillPlaces(t text, places []place, fills map[string]text) text {
	var parts []text
	at := 0
	for _, p := range places {
		parts = append(parts, t.slice(at, p.start))
		switch f, ok := fills[p.name]; {
		case ok:
			parts = append(parts, f)
		case fills == nil:
			parts = append(parts, t.slice(p.innerStart, p.innerEnd))
		default:
			parts = append(parts, t.slice(p.start, p.end)) // left for a layout further down
		}
		at = p.end
	}
	parts = append(parts, t.slice(at, len(t.data)))
	return concat(parts...)
}

// childScanner is the state of scanChild as it walks a layout's tokens.
type childScanner struct {
	in        *inheritance
	name      string
	t         text
	z         *html.Tokenizer
	c         child
	offset    int
	inLayout  bool
	ok        bool
	fillName  string
	fillStart int // offset of the open fill's content, -1 outside a fill
	fillAt    int // offset of the open <fill> tag
}

// scanChild finds a leading <layout base="..."> and its fills. Anything but
// fills, white space and comments inside it is a problem, as it would be
// lost.
func (in *inheritance) scanChild(name string, t text) (child, bool, bool) {
	s := &childScanner{
		in: in, name: name, t: t,
		z:  html.NewTokenizer(bytes.NewReader(t.data)),
		c:  child{fills: map[string]text{}, fillAt: map[string]int{}},
		ok: true, fillStart: -1,
	}
	for {
		tt, start := s.next()
		switch tt {
		case html.ErrorToken:
			if s.fillStart >= 0 {
				in.problem(name, t, s.fillAt, "<fill> is never closed")
				s.ok = false
			}
			return s.c, s.inLayout, s.ok
		case html.CommentToken, html.DoctypeToken:
			continue
		case html.TextToken:
			blank := len(bytes.TrimSpace(s.z.Raw())) == 0
			if s.fillStart < 0 && !blank && s.inLayout {
				s.lost(start, "text")
			}
			if !s.inLayout && !blank {
				return s.c, false, s.ok
			}
			continue
		}
		raw, _ := s.z.TagName()
		tag := string(raw)
		if !s.inLayout {
			if tag != "layout" || tt == html.EndTagToken {
				return s.c, false, s.ok // an ordinary layout
			}
			s.openLayout(start)
			continue
		}
		if s.fillStart >= 0 {
			s.tagInFill(tag, tt, start)
			continue
		}
		switch {
		case tag == "fill" && tt == html.StartTagToken:
			s.openFill(start)
		case tag == "layout" && tt == html.EndTagToken:
			s.inLayout = false
			return s.c, true, s.onlyBlankAfterLayout()
		default:
			s.lost(start, "<"+tag+">")
		}
	}
}

// next reads the next token and returns it with its start offset.
func (s *childScanner) next() (html.TokenType, int) {
	tt := s.z.Next()
	start := s.offset
	s.offset += len(s.z.Raw())
	return tt, start
}

// lost reports content that would be lost; one such problem is enough to
// point at the spot.
func (s *childScanner) lost(start int, what string) {
	if s.ok {
		s.in.problem(s.name, s.t, start, "%s outside <fill> in a layout with a base would be lost: put it in a <fill slot=...>", what)
	}
	s.ok = false
}

// openLayout reads the attributes of the <layout> tag at start.
func (s *childScanner) openLayout(start int) {
	s.inLayout = true
	s.c.baseAt = start
	for k, v := range attrs(s.z) {
		if k != "base" {
			s.in.problem(s.name, s.t, start, "unknown attribute %q on <layout> (allowed: base)", k)
			s.ok = false
			continue
		}
		s.c.base = v
	}
	if s.c.base == "" {
		s.in.problem(s.name, s.t, start, `<layout> without base: write <layout base="base.html">`)
		s.ok = false
	}
}

// tagInFill handles a tag inside an open fill: </fill> closes it, <fill>
// is a problem, anything else is the fill's content.
func (s *childScanner) tagInFill(tag string, tt html.TokenType, start int) {
	if tag != "fill" {
		return
	}
	if tt == html.EndTagToken {
		s.c.fills[s.fillName] = s.t.slice(s.fillStart, start)
		s.fillStart = -1
		return
	}
	s.in.problem(s.name, s.t, start, "<fill> inside <fill>")
	s.ok = false
}

// openFill reads the attributes of the <fill> tag at start and opens it.
func (s *childScanner) openFill(start int) {
	s.fillName, s.fillAt = "", start
	for k, v := range attrs(s.z) {
		if k == "slot" {
			s.fillName = v
		} else {
			s.in.problem(s.name, s.t, start, "unknown attribute %q on <fill> (allowed: slot)", k)
			s.ok = false
		}
	}
	if s.fillName == "" {
		s.in.problem(s.name, s.t, start, `<fill> without slot: write <fill slot="main">`)
		s.ok = false
	}
	if _, dup := s.c.fills[s.fillName]; dup {
		s.in.problem(s.name, s.t, start, "slot %q is filled twice", s.fillName)
		s.ok = false
	}
	s.c.fillAt[s.fillName] = start
	s.fillStart = s.offset
}

// onlyBlankAfterLayout checks that only white space and comments follow
// </layout>, and returns whether the layout is still fine.
func (s *childScanner) onlyBlankAfterLayout() bool {
	for {
		tt, start := s.next()
		if tt == html.ErrorToken {
			return s.ok
		}
		if tt != html.CommentToken && !(tt == html.TextToken && len(bytes.TrimSpace(s.z.Raw())) == 0) {
			s.in.problem(s.name, s.t, start, "content after </layout> would be lost")
			return false
		}
	}
}

// titleSlot matches a slot written inside <title>.
var titleSlot = regexp.MustCompile(`<slot\s+name="([^"<>]+)"\s*(?:/>|>([^<]*)</slot>)`)

// placeScanner is the state of places as it walks a layout's tokens.
type placeScanner struct {
	in       *inheritance
	name     string
	t        text
	z        *html.Tokenizer
	out      []place
	offset   int
	template int // depth of <template> elements
	inTitle  bool
	open     *place
	ok       bool
}

// places finds the <slot name=...> elements of a layout's markup, outside
// <template>.
func (in *inheritance) places(name string, t text) ([]place, bool) {
	s := &placeScanner{in: in, name: name, t: t, z: html.NewTokenizer(bytes.NewReader(t.data)), ok: true}
	for {
		tt := s.z.Next()
		start := s.offset
		s.offset += len(s.z.Raw())
		if tt == html.ErrorToken {
			if s.z.Err() != io.EOF {
				return nil, false
			}
			break
		}
		if tt == html.TextToken && s.inTitle && s.template == 0 {
			s.titleSlots(start)
		}
		if tt != html.StartTagToken && tt != html.EndTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		raw, _ := s.z.TagName()
		s.inTitle = string(raw) == "title" && tt == html.StartTagToken
		switch string(raw) {
		case "template":
			if tt == html.StartTagToken {
				s.template++
			} else if tt == html.EndTagToken && s.template > 0 {
				s.template--
			}
		case "slot":
			if s.template == 0 {
				s.slotTag(tt, start)
			}
		}
	}
	if s.open != nil {
		in.problem(name, t, s.open.start, "<slot %q> is never closed", s.open.name)
		s.ok = false
	}
	return s.out, s.ok
}

// titleSlots finds the slots in the text of a <title> starting at start:
// <title> holds text only, so its slots are found by pattern.
func (s *placeScanner) titleSlots(start int) {
	for _, m := range titleSlot.FindAllSubmatchIndex(s.z.Raw(), -1) {
		p := place{name: string(s.z.Raw()[m[2]:m[3]]), start: start + m[0], end: start + m[1], innerStart: start + m[1], innerEnd: start + m[1]}
		if m[4] >= 0 {
			p.innerStart, p.innerEnd = start+m[4], start+m[5]
		}
		s.out = append(s.out, p)
	}
}

// slotTag handles a <slot> tag outside <template> starting at start: an end
// tag closes the open slot, a start tag declares one.
func (s *placeScanner) slotTag(tt html.TokenType, start int) {
	if tt == html.EndTagToken {
		if s.open != nil {
			s.open.innerEnd, s.open.end = start, s.offset
			s.out = append(s.out, *s.open)
			s.open = nil
		}
		return
	}
	if s.open != nil {
		s.in.problem(s.name, s.t, start, "<slot> inside <slot %q>", s.open.name)
		s.ok = false
		return
	}
	p := place{start: start, innerStart: s.offset, innerEnd: s.offset, end: s.offset}
	for k, v := range attrs(s.z) {
		if k == "name" {
			p.name = v
		}
	}
	if p.name == "" {
		s.in.problem(s.name, s.t, start, `<slot> without name: write <slot name="main">`)
		s.ok = false
		return
	}
	for _, q := range s.out {
		if q.name == p.name {
			s.in.problem(s.name, s.t, start, "slot %q is declared twice", p.name)
			s.ok = false
		}
	}
	if tt == html.SelfClosingTagToken {
		s.out = append(s.out, p)
	} else {
		s.open = &p
	}
}
