package contract

import (
	"mime"
	"strings"
)

// IsHTML reports whether a Content-Type is text/html, with any parameters.
// A fragment that answers 200 must be text/html; any other 200 is a
// failure, so that a JSON error or an image never lands on the page.
func IsHTML(contentType string) bool {
	if contentType == "" {
		return false
	}
	// The forms nearly every service sends, without the parser's
	// allocations: on the miss path this runs for every fetch.
	if strings.EqualFold(contentType, "text/html; charset=utf-8") || strings.EqualFold(contentType, "text/html") {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "text/html"
}
