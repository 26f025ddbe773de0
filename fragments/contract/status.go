package contract

import "net/http"

// DefaultMaxBodyBytes is the default cap on a fragment body, after
// decompression: 1 MiB. A larger body is a failure (max_fragment_bytes in
// the config changes it).
const DefaultMaxBodyBytes = 1 << 20

// Failed reports whether a status is a failure of the fragment: any 5xx.
// Its body is discarded, and it counts against the service's circuit
// breaker.
func Failed(status int) bool {
	return status >= 500
}

// FillsBox reports whether a non-primary fragment's status puts its body
// in its box: 200, or 204 for an empty box. Any other status (a redirect,
// a 404) shows the box's fallback instead. Redirects are never followed.
func FillsBox(status int) bool {
	return status == http.StatusOK || status == http.StatusNoContent
}

// IsRedirect reports whether a status is a redirect: only a primary may
// send one, and it needs a Location that [SafeLocation] accepts.
func IsRedirect(status int) bool {
	return status >= 300 && status < 400
}

// PageStatus maps a primary's status to the page's: 204 is an empty
// primary box in a 200 page; 205 (reset the form) and any 1xx (a 101 that
// switches protocols to a request that never asked to) are no answer to a
// page request, so the page fails with 502, and ok is false. Any other
// status below 500 is the page's own.
func PageStatus(primary int) (status int, ok bool) {
	switch {
	case primary < 200, primary == http.StatusResetContent:
		return http.StatusBadGateway, false
	case primary == http.StatusNoContent:
		return http.StatusOK, true
	}
	return primary, true
}
