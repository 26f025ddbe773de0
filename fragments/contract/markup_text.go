package contract

import (
	"bytes"
)

// markupDeclaration reads what follows "<!": a comment, a doctype, a CDATA
// section in foreign content, or a bogus comment.
func (m *markupCheck) markupDeclaration() error {
	rest := m.b[m.i+1:]
	switch {
	case bytes.HasPrefix(rest, []byte("--")):
		// The comment start states: <!--> and <!---> are whole comments.
		body := rest[2:]
		if bytes.HasPrefix(body, []byte(">")) || bytes.HasPrefix(body, []byte("->")) {
			m.i += 1 + 2 + bytes.IndexByte(body, '>') + 1
			return nil
		}
		// Otherwise the comment ends at the first --> or --!> after <!--:
		// <!--!> is no comment end, it opens one.
		for k := 0; ; {
			d := bytes.Index(body[k:], []byte("--"))
			if d < 0 {
				return m.fail("a comment is never closed")
			}
			k += d + 2
			for k < len(body) && body[k] == '-' {
				k++
			}
			if k < len(body) && body[k] == '>' {
				m.i += 1 + 2 + k + 1
				return nil
			}
			if k+1 < len(body) && body[k] == '!' && body[k+1] == '>' {
				m.i += 1 + 2 + k + 2
				return nil
			}
		}
	case len(rest) >= 7 && bytes.EqualFold(rest[:7], []byte("doctype")):
		return m.bogusComment("<!DOCTYPE")
	case bytes.HasPrefix(rest, []byte("[CDATA[")) && m.foreign():
		end := bytes.Index(rest[7:], []byte("]]>"))
		if end < 0 {
			return m.fail("a CDATA section is never closed")
		}
		m.i += 1 + 7 + end + 3
		return nil
	}
	return m.bogusComment("<!")
}

// bogusComment skips to the next '>', which ends a bogus comment and a
// doctype alike.
func (m *markupCheck) bogusComment(what string) error {
	end := bytes.IndexByte(m.b[m.i:], '>')
	if end < 0 {
		return m.fail("%s is never closed by '>'", what)
	}
	m.i += end + 1
	return nil
}

// rawText skips RAWTEXT or RCDATA content up to the element's end tag,
// then reads that end tag's attributes.
func (m *markupCheck) rawText(name string) error {
	b := m.b
	for {
		j := bytes.Index(b[m.i:], []byte("</"))
		if j < 0 {
			return m.fail("<%s> is never closed, so it would swallow the rest of the page", name)
		}
		m.i += j + 2
		if m.appropriateEnd(name) {
			_, _, err := m.attributes()
			return err
		}
	}
}

// appropriateEnd reports whether the bytes at m.i are name followed by
// whitespace, '/' or '>': the end tag of a raw-text element. It advances
// past the name when they are.
func (m *markupCheck) appropriateEnd(name string) bool {
	b := m.b
	if len(b)-m.i <= len(name) || !bytes.EqualFold(b[m.i:m.i+len(name)], []byte(name)) {
		return false
	}
	if c := b[m.i+len(name)]; !isSpace(c) && c != '/' && c != '>' {
		return false
	}
	m.i += len(name)
	return true
}

// scriptData skips a script's content up to its end tag, through the
// spec's escaped and double-escaped states: in "<!--<script>", a
// "</script>" does not end the script.
func (m *markupCheck) scriptData() error {
	b := m.b
	const (
		data = iota
		escaped
		doubleEscaped
	)
	state := data
	for m.i < len(b) {
		c := b[m.i]
		switch c {
		case '<':
			m.i++
			switch {
			case state == data && bytes.HasPrefix(b[m.i:], []byte("!--")):
				m.i += 3
				state = escaped
				if m.i < len(b) && b[m.i] == '>' { // <!--> ends the escape at once
					m.i++
					state = data
				}
			case state != doubleEscaped && m.i < len(b) && b[m.i] == '/':
				m.i++
				if m.appropriateEnd("script") {
					_, _, err := m.attributes()
					return err
				}
			case state == escaped && m.appropriateEnd("script"):
				state = doubleEscaped
			case state == doubleEscaped && m.i < len(b) && b[m.i] == '/':
				m.i++
				if m.appropriateEnd("script") {
					state = escaped
				}
			}
		case '-':
			if state != data && bytes.HasPrefix(b[m.i:], []byte("-->")) {
				m.i += 3
				state = data
				continue
			}
			m.i++
		default:
			// Nothing but '<' and '-' changes the state.
			k := bytes.IndexAny(b[m.i:], "<-")
			if k < 0 {
				m.i = len(b)
			} else {
				m.i += k
			}
		}
	}
	return m.fail("<script> is never closed, so it would swallow the rest of the page")
}
