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
