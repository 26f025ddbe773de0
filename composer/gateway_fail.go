package composer

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/inlayhq/inlay/fragments/contract"
)

// isNavigation reports whether r is a browser navigation: the shopper's
// window will show the answer. Browsers say so with Sec-Fetch-Mode:
// navigate; a browser that sends no fetch metadata is taken at its
// Accept, HTML for a navigation or a form POST. A stylesheet, an image, a
// script or a fetch/XHR is no navigation.
func isNavigation(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Mode") {
	case "navigate":
		return true
	case "":
		for _, v := range r.Header.Values("Accept") {
			if strings.Contains(strings.ToLower(v), "text/html") {
				return true
			}
		}
	}
	return false
}

// gatewayError answers a gateway request that failed, or that Inlay
// refused, with status: for a navigation, the shop's error page (the
// error_pages layout, with its way back); for anything else (a
// stylesheet, an image, a fetch), a short plain-text answer, so that no
// page is composed to answer a .css.
func (gw *gateway) gatewayError(w http.ResponseWriter, r *http.Request, status int) {
	if isNavigation(r) {
		gw.srv.renderError(w, r, status)
		return
	}
	plainError(w, r, status)
}

// plainError writes a small text/plain error with status.
func plainError(w http.ResponseWriter, r *http.Request, status int) {
	h := w.Header()
	for _, k := range []string{"Set-Cookie", "Location", "Link", "Content-Length", "Content-Encoding", "Etag", "Last-Modified", "Vary"} {
		h.Del(k)
	}
	body := strconv.Itoa(status) + " " + http.StatusText(status) + "\n"
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(body))
	}
}

// teamError is a team's answer to a navigation that the shopper would see
// as a bare error: a 4xx or 5xx that is not HTML. The gateway answers it
// with the shop's error page and the team's status.
type teamError struct{ status int }

func (e *teamError) Error() string {
	return fmt.Sprintf("the team answered a navigation with a non-HTML %d", e.status)
}

// bareError reports whether the team's answer to r, of status and
// header, is one a navigation must not show as it is: a 4xx or 5xx that
// is not HTML. A team's own HTML error page passes through.
func bareError(r *http.Request, status int, h http.Header) bool {
	return status >= 400 && isNavigation(r) && !contract.IsHTML(h.Get("Content-Type"))
}

// checkAnswer is the proxy's ModifyResponse: a bare error answering a
// navigation becomes a teamError, which fail answers with the error page.
func (gw *gateway) checkAnswer(resp *http.Response) error {
	if bareError(resp.Request, resp.StatusCode, resp.Header) {
		return &teamError{status: resp.StatusCode}
	}
	return nil
}

// teamStatus returns the status of a teamError in err's chain.
func teamStatus(err error) (int, bool) {
	if te, ok := errors.AsType[*teamError](err); ok {
		return te.status, true
	}
	return 0, false
}
