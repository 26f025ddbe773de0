package layout

import (
	"bytes"
	"fmt"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/fragments/contract/htmlspec"
	"golang.org/x/net/html"
)

// openElement is an element whose end tag is still to come.
type openElement struct {
	name string
	at   int
}

// unclosedElements finds ordinary elements of assembled layout markup
// that are never closed, and end tags that close nothing. Browsers repair
// both, but rarely as the designer meant: a <div> left open swallows the
// footer that follows it. They are warnings, reported in the file that
// holds the tag. Fragment, ESI and inheritance elements are the parser's.
func unclosedElements(t text, src sources) config.Problems {
	var (
		problems config.Problems
		stack    []openElement
		offset   int
	)
	warn := func(at int, format string, args ...any) {
		file, off := t.origin(at)
		line, col := src.position(file, off)
		problems = append(problems, &config.Problem{File: file, Line: line, Col: col, Message: fmt.Sprintf(format, args...)})
	}
	unclosed := func(e openElement, closer string) {
		warn(e.at, "<%s> is never closed%s: add </%s> where it should end", e.name, closer, e.name)
	}
	z := html.NewTokenizer(bytes.NewReader(t.data))
	for {
		tt := z.Next()
		start := offset
		offset += len(z.Raw())
		if tt == html.ErrorToken {
			break
		}
		if tt != html.StartTagToken && tt != html.EndTagToken {
			continue
		}
		raw, _ := z.TagName()
		name := string(raw)
		// Void elements have no end tag, and those whose end tag is
		// optional are not expected to be closed.
		if _, f := htmlspec.Lookup(raw); f&(htmlspec.Void|htmlspec.OptionalEnd) != 0 || name == "fragment" || name == "slot" || bytes.HasPrefix(raw, []byte("esi:")) {
			continue
		}
		if tt == html.StartTagToken {
			stack = append(stack, openElement{name: name, at: start})
			continue
		}
		i := len(stack) - 1
		for i >= 0 && stack[i].name != name {
			i--
		}
		if i < 0 {
			warn(start, "</%s> closes no open <%s>: remove it or add the missing <%s>", name, name, name)
			continue
		}
		for _, e := range stack[i+1:] {
			unclosed(e, fmt.Sprintf(" before </%s>", name))
		}
		stack = stack[:i]
	}
	for _, e := range stack {
		unclosed(e, "")
	}
	return problems
}
