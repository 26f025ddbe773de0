package layout

import (
	"bytes"
	"fmt"
	"iter"
	"regexp"
	"time"

	"golang.org/x/net/html"
)

// fragmentAttrs are the attributes a <fragment> may carry.
var fragmentAttrs = map[string]bool{
	"id": true, "src": true, "primary": true, "timeout": true, "fallback-src": true, "async": true,
	"placeholder-height": true,
}

// cssLength matches the lengths placeholder-height accepts.
var cssLength = regexp.MustCompile(`^[0-9]{1,4}(\.[0-9]{1,2})?(px|em|rem|vh|%)$`)

var slotID = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,63}$`)

// attrs yields the attributes of the tag z has just read, in order.
func attrs(z *html.Tokenizer) iter.Seq2[string, string] {
	return func(yield func(key, val string) bool) {
		for more := true; more; {
			var k, v []byte
			k, v, more = z.TagAttr()
			if k == nil || !yield(string(k), string(v)) {
				return
			}
		}
	}
}

// esiSlot reads an <esi:include src alt onerror> into a Slot: src is the
// fragment, alt its fallback-src. Failures always leave the box empty, as
// onerror="continue" asks; Inlay never fails a page for a non-primary.
func (p *layoutParser) esiSlot(z *html.Tokenizer, offset, index int) *Slot {
	s := &Slot{}
	s.File, s.Line, s.Col = p.position(offset)
	var src, alt string
	for key, val := range attrs(z) {
		switch key {
		case "src":
			src = val
		case "alt":
			alt = val
		case "onerror":
			if val != "continue" {
				p.problem(offset, `onerror=%q: only onerror="continue" is supported`, val)
			}
		default:
			p.problem(offset, "unknown attribute %q on <esi:include> (allowed: alt, onerror, src)", key)
		}
	}
	if src == "" {
		p.problem(offset, "<esi:include> without src")
	} else if source, err := parseSource(src, p.services); err != nil {
		p.problem(offset, "%v", err)
	} else {
		s.Src = source
		s.ID = fmt.Sprintf("esi-%d", index+1)
	}
	if alt != "" {
		if source, err := parseSource(alt, p.services); err != nil {
			p.problem(offset, "alt: %v", err)
		} else {
			s.Fallback = source
		}
	}
	return s
}

// slotRefs holds the sources a <fragment> names, read before they are
// parsed.
type slotRefs struct {
	src, fallback string
	hasSrc        bool
}

// slot reads the attributes of the <fragment> tag at offset into a Slot.
func (p *layoutParser) slot(z *html.Tokenizer, offset, index int) *Slot {
	s := &Slot{}
	s.File, s.Line, s.Col = p.position(offset)
	raw := z.Raw()
	seen := map[string]bool{}
	var refs slotRefs
	for key, val := range attrs(z) {
		at := offset + max(0, bytes.Index(bytes.ToLower(raw), []byte(key)))
		if !fragmentAttrs[key] {
			p.problem(at, "unknown attribute %q on <fragment> (allowed: async, fallback-src, id, placeholder-height, primary, src, timeout)", key)
			continue
		}
		if seen[key] {
			p.problem(at, "attribute %q is given twice", key)
			continue
		}
		seen[key] = true
		p.fragmentAttr(s, &refs, key, val, at)
	}
	if !refs.hasSrc {
		p.problem(offset, "<fragment> without src")
	} else if source, err := parseSource(refs.src, p.services); err != nil {
		p.problem(offset, "%v", err)
	} else {
		s.Src = source
	}
	if refs.fallback != "" {
		if source, err := parseSource(refs.fallback, p.services); err != nil {
			p.problem(offset, "fallback-src: %v", err)
		} else {
			s.Fallback = source
		}
	}
	if s.Primary && s.Async {
		p.problem(offset, "a primary fragment cannot be async: the page's status waits for it")
	}
	if s.PlaceholderHeight != "" && !s.Async {
		p.problem(offset, "placeholder-height is only for async fragments")
	}
	if s.ID == "" && s.Src != nil {
		s.ID = fmt.Sprintf("%s-%d", s.Src.Service.Name, index+1)
	}
	return s
}

// fragmentAttr reads one known attribute of a <fragment>, written at at,
// into s, or into refs for the sources.
func (p *layoutParser) fragmentAttr(s *Slot, refs *slotRefs, key, val string, at int) {
	switch key {
	case "id":
		if !slotID.MatchString(val) {
			p.problem(at, "fragment id %q: use a letter, then letters, digits, '.', '-' or '_' (at most 64)", val)
		}
		s.ID = val
	case "src":
		refs.src, refs.hasSrc = val, true
	case "fallback-src":
		refs.fallback = val
		if val == "" {
			p.problem(at, "fallback-src is empty")
		}
	case "timeout":
		d, err := time.ParseDuration(val)
		switch {
		case err != nil:
			p.problem(at, "bad timeout %q: write it like 300ms or 2s", val)
		case d <= 0 || d > MaxFragmentTimeout:
			p.problem(at, "timeout %q must be above 0 and at most %s", val, MaxFragmentTimeout)
		default:
			s.Timeout = d
		}
	case "placeholder-height":
		if !cssLength.MatchString(val) {
			p.problem(at, "placeholder-height %q: write a CSS length like 240px, 12rem or 30vh", val)
		}
		s.PlaceholderHeight = val
	case "primary", "async":
		if val != "" && val != key && val != "true" {
			p.problem(at, "%s is a flag: write it without a value", key)
		}
		if key == "primary" {
			s.Primary = true
		} else {
			s.Async = true
		}
	}
}
