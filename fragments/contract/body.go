package contract

import (
	"bytes"
	"unicode/utf8"
)

// bom is the UTF-8 byte order mark.
var bom = []byte("\uFEFF")

// CleanBody is what Inlay does to every fragment body before it checks
// and places it: it drops a leading byte order mark and replaces each
// invalid UTF-8 byte with U+FFFD, so that one broken fragment cannot make
// the whole page invalid. It returns b itself when there is nothing to do.
func CleanBody(b []byte) []byte {
	b = bytes.TrimPrefix(b, bom)
	if !utf8.Valid(b) {
		b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	return b
}

// InvalidUTF8At returns the offset of the first byte of b that is not
// part of valid UTF-8, or -1 when b is valid UTF-8.
func InvalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}
