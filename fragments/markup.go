package fragments

import (
	"bytes"
	"fmt"
	"io"

	"golang.org/x/net/html"
)

// rawTextElements hold text up to their own end tag: left open in a
// fragment, they would swallow the rest of the page as text.
var rawTextElements = map[string]bool{
	"script": true, "style": true, "textarea": true, "title": true, "xmp": true,
	"iframe": true, "noembed": true, "noframes": true, "noscript": true, "plaintext": true,
}

// checkMarkup reports a body that would break the page around it: one
// that ends inside a comment or a raw-text element, or that opens
// <plaintext>, which nothing closes. Unclosed ordinary elements are left to
// the browser's parser, which closes them at the box's parent.
func checkMarkup(body []byte) error {
	if !mayOpenRawText(body) {
		return nil
	}
	z := html.NewTokenizer(bytes.NewReader(body))
	open := ""
	for {
		switch z.Next() {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				return fmt.Errorf("reading markup: %w", z.Err())
			}
			if open != "" {
				return fmt.Errorf("<%s> is never closed: it would swallow the rest of the page", open)
			}
			return nil
		case html.StartTagToken:
			name, _ := z.TagName()
			if rawTextElements[string(name)] {
				if string(name) == "plaintext" {
					return fmt.Errorf("<plaintext> would swallow the rest of the page")
				}
				open = string(name)
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if string(name) == open {
				open = ""
			}
		case html.CommentToken:
			if raw := z.Raw(); !bytes.HasSuffix(raw, []byte("-->")) && !bytes.HasSuffix(raw, []byte("--!>")) && !bytes.Equal(raw, []byte("<!-->")) && !bytes.Equal(raw, []byte("<!--->")) && bytes.HasPrefix(raw, []byte("<!--")) {
				return fmt.Errorf("a comment is never closed: it would swallow the rest of the page")
			}
		}
	}
}

// mayOpenRawText is a quick scan for a comment or a raw-text element's
// start tag: without one, a body cannot leave either open, and the
// tokenizer is spared.
func mayOpenRawText(body []byte) bool {
	for i := bytes.IndexByte(body, '<'); i >= 0; {
		rest := body[i+1:]
		if len(rest) > 0 && rest[0] == '!' {
			return true
		}
		for name := range rawTextElements {
			if len(rest) >= len(name) && bytes.EqualFold(rest[:len(name)], []byte(name)) {
				return true
			}
		}
		j := bytes.IndexByte(rest, '<')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}
