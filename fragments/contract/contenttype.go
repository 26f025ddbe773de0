package contract

import "mime"

// IsHTML reports whether a Content-Type is text/html, with any parameters.
// A fragment that answers 200 must be text/html; any other 200 is a
// failure, so that a JSON error or an image never lands on the page.
func IsHTML(contentType string) bool {
	if contentType == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "text/html"
}
