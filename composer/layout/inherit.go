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

// scanChild finds a leading <layout base="..."> and its fills. Anything but
// fills, white space and comments inside it is a problem, as it would be
// lost.
func (in *inheritance) scanChild(name string, t text) (child, bool, bool) {
	c := child{fills: map[string]text{}, fillAt: map[string]int{}}
	z := html.NewTokenizer(bytes.NewReader(t.data))
	offset, inLayout, ok := 0, false, true
	lost := func(start int, what string) {
		if ok { // one such problem is enough to point at the spot
			in.problem(name, t, start, "%s outside <fill> in a layout with a base would be lost: put it in a <fill slot=...>", what)
		}
		ok = false
	}
	fillName, fillStart, fillAt := "", -1, 0
	for {
		tt := z.Next()
		start := offset
		offset += len(z.Raw())
		switch tt {
		case html.ErrorToken:
			if fillStart >= 0 {
				in.problem(name, t, fillAt, "<fill> is never closed")
				ok = false
			}
			return c, inLayout, ok
		case html.CommentToken, html.DoctypeToken:
			continue
		case html.TextToken:
			if fillStart < 0 && len(bytes.TrimSpace(z.Raw())) > 0 && inLayout {
				lost(start, "text")
			}
			if !inLayout && len(bytes.TrimSpace(z.Raw())) > 0 {
				return c, false, ok
			}
			continue
		}
		raw, _ := z.TagName()
		tag := string(raw)
		if !inLayout {
			if tag != "layout" || tt == html.EndTagToken {
				return c, false, ok // an ordinary layout
			}
			inLayout = true
			c.baseAt = start
			for k, v := range attrs(z) {
				if k != "base" {
					in.problem(name, t, start, "unknown attribute %q on <layout> (allowed: base)", k)
					ok = false
					continue
				}
				c.base = v
			}
			if c.base == "" {
				in.problem(name, t, start, `<layout> without base: write <layout base="base.html">`)
				ok = false
			}
			continue
		}
		if fillStart >= 0 {
			if tag == "fill" {
				if tt == html.EndTagToken {
					c.fills[fillName] = t.slice(fillStart, start)
					fillStart = -1
				} else {
					in.problem(name, t, start, "<fill> inside <fill>")
					ok = false
				}
			}
			continue
		}
		switch {
		case tag == "fill" && tt == html.StartTagToken:
			fillName, fillAt = "", start
			for k, v := range attrs(z) {
				if k == "slot" {
					fillName = v
				} else {
					in.problem(name, t, start, "unknown attribute %q on <fill> (allowed: slot)", k)
					ok = false
				}
			}
			if fillName == "" {
				in.problem(name, t, start, `<fill> without slot: write <fill slot="main">`)
				ok = false
			}
			if _, dup := c.fills[fillName]; dup {
				in.problem(name, t, start, "slot %q is filled twice", fillName)
				ok = false
			}
			c.fillAt[fillName] = start
			fillStart = offset
		case tag == "layout" && tt == html.EndTagToken:
			inLayout = false
			// Only white space and comments may follow.
			for {
				tt := z.Next()
				start := offset
				offset += len(z.Raw())
				if tt == html.ErrorToken {
					return c, true, ok
				}
				if tt != html.CommentToken && !(tt == html.TextToken && len(bytes.TrimSpace(z.Raw())) == 0) {
					in.problem(name, t, start, "content after </layout> would be lost")
					return c, true, false
				}
			}
		default:
			lost(start, "<"+tag+">")
		}
	}
}

// titleSlot matches a slot written inside <title>.
var titleSlot = regexp.MustCompile(`<slot\s+name="([^"<>]+)"\s*(?:/>|>([^<]*)</slot>)`)

// places finds the <slot name=...> elements of a layout's markup, outside
// <template>.
func (in *inheritance) places(name string, t text) ([]place, bool) {
	z := html.NewTokenizer(bytes.NewReader(t.data))
	var (
		out      []place
		offset   int
		template int // depth of <template> elements
		inTitle  bool
		open     *place
		ok       = true
	)
	for {
		tt := z.Next()
		start := offset
		offset += len(z.Raw())
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				return nil, false
			}
			break
		}
		if tt == html.TextToken && inTitle && template == 0 {
			// <title> holds text only, so its slots are found by pattern.
			for _, m := range titleSlot.FindAllSubmatchIndex(z.Raw(), -1) {
				p := place{name: string(z.Raw()[m[2]:m[3]]), start: start + m[0], end: start + m[1], innerStart: start + m[1], innerEnd: start + m[1]}
				if m[4] >= 0 {
					p.innerStart, p.innerEnd = start+m[4], start+m[5]
				}
				out = append(out, p)
			}
		}
		if tt != html.StartTagToken && tt != html.EndTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		raw, _ := z.TagName()
		inTitle = string(raw) == "title" && tt == html.StartTagToken
		switch string(raw) {
		case "template":
			if tt == html.StartTagToken {
				template++
			} else if tt == html.EndTagToken && template > 0 {
				template--
			}
			continue
		case "slot":
		default:
			continue
		}
		if template > 0 {
			continue
		}
		if tt == html.EndTagToken {
			if open != nil {
				open.innerEnd, open.end = start, offset
				out = append(out, *open)
				open = nil
			}
			continue
		}
		if open != nil {
			in.problem(name, t, start, "<slot> inside <slot %q>", open.name)
			ok = false
			continue
		}
		p := place{start: start, innerStart: offset, innerEnd: offset, end: offset}
		for k, v := range attrs(z) {
			if k == "name" {
				p.name = v
			}
		}
		if p.name == "" {
			in.problem(name, t, start, `<slot> without name: write <slot name="main">`)
			ok = false
			continue
		}
		for _, q := range out {
			if q.name == p.name {
				in.problem(name, t, start, "slot %q is declared twice", p.name)
				ok = false
			}
		}
		if tt == html.SelfClosingTagToken {
			out = append(out, p)
		} else {
			open = &p
		}
	}
	if open != nil {
		in.problem(name, t, open.start, "<slot %q> is never closed", open.name)
		ok = false
	}
	return out, ok
}
