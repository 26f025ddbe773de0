package composer

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// Error pages from layouts. With
//
//	error_pages:
//	  "404": not-found.html
//	  "5xx": error.html
//
// an error is answered with that layout, composed like any page: with its
// fragments, its base layout and its fallbacks. The layout reads the
// status, the request id and a way back as {status}, {request_id} and
// {back}, in a fragment's src and in its own markup. {back} is the path of
// the same-site page the shopper came from (its Referer), or / when there
// is none: see [backLink]. If the layout cannot be composed, Inlay's
// built-in error page is the answer.

// errorDetail says why a page failed, for dev mode's error pages.
type errorDetail struct {
	Fragment, Service, Reason string
}

// errorParams are the parameters an error page layout may use.
var errorParams = []string{"status", "request_id", "back"}

// renderError answers with the error page for status.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int) {
	s.renderErrorDetail(w, r, status, nil)
}

// renderErrorDetail answers with the error page for status: the layout
// error_pages names for it, or the built-in page. It never includes
// anything from an upstream response or the request but the request id;
// in dev mode it adds why the page failed.
func (s *Server) renderErrorDetail(w http.ResponseWriter, r *http.Request, status int, d *errorDetail) {
	h := w.Header()
	h.Del("Set-Cookie")
	h.Del("Location")
	h.Del("Link")
	h.Del("Content-Length")
	if !s.cfg.Dev {
		d = nil
	}
	if name, key := s.cfg.ErrorPage(status); name != "" {
		if s.composeErrorPage(w, r, status, name, d) {
			return
		}
		s.logger.LogAttrs(r.Context(), slog.LevelError, "error page layout failed; the built-in page is served",
			slog.String("request_id", r.Header.Get(HeaderRequestID)),
			slog.String("error_page", key), slog.String("layout", name))
	}
	s.builtinError(w, r, status, d)
}

// builtinError writes Inlay's own error page.
func (s *Server) builtinError(w http.ResponseWriter, r *http.Request, status int, d *errorDetail) {
	text, ok := errorTexts[status]
	if !ok {
		text = [2]string{http.StatusText(status), "Something went wrong on our side."}
		if status < 500 {
			text[1] = "The request could not be served."
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	_ = errorPage(status, text[0], text[1], r.Header.Get(HeaderRequestID), backLink(r, s.cfg.PublicURL), d).Render(r.Context(), w)
}

// composeErrorPage composes the error page layout name for status. It
// reports false, having written nothing, when the layout is not there or
// fails before its headers leave; the caller then serves the built-in page.
func (s *Server) composeErrorPage(w http.ResponseWriter, r *http.Request, status int, name string, d *errorDetail) (ok bool) {
	lay := s.layouts.Get(name)
	if lay == nil {
		return false
	}
	committed := func() bool {
		if er, isEcho := w.(*echo.Response); isEcho {
			return er.Committed
		}
		return true // cannot tell: never write a second page over it
	}
	defer func() {
		if v := recover(); v != nil {
			s.logger.LogAttrs(r.Context(), slog.LevelError, "panic composing an error page",
				slog.String("layout", name), slog.String("error", fmt.Sprint(v)))
			if committed() {
				panic(http.ErrAbortHandler) // half a page went out: cut the connection
			}
			ok = false
		}
	}()
	requestID := r.Header.Get(HeaderRequestID)
	back := backLink(r, s.cfg.PublicURL)
	values := []string{strconv.Itoa(status), requestID, back}
	pg := &page{
		eng:       s.pages,
		layout:    lay,
		r:         r,
		requestID: requestID,
		params:    params{names: errorParams, values: values},
		inOrder:   true, // an error page is small: no streaming out of order
		errStatus: status,
		errBack:   back,
		errDetail: d,
	}
	pg.context = newPageContext(&pg.contextVals, r, requestID, "error:"+strconv.Itoa(status), errorParams, values, s.cfg.PublicURL)
	pg.started = time.Now()
	pg.compose(w, s.cfg.PageDeadline(nil))
	return true
}

// errorChunk returns a chunk of an error page with {status},
// {request_id} and {back} filled in; other pages' chunks are returned as
// they are.
func (pg *page) errorChunk(chunk []byte) []byte {
	if pg.errStatus == 0 || bytes.IndexByte(chunk, '{') < 0 {
		return chunk
	}
	chunk = bytes.ReplaceAll(chunk, []byte("{status}"), []byte(strconv.Itoa(pg.errStatus)))
	chunk = bytes.ReplaceAll(chunk, []byte("{back}"), []byte(html.EscapeString(cmp.Or(pg.errBack, "/"))))
	return bytes.ReplaceAll(chunk, []byte("{request_id}"), []byte(html.EscapeString(pg.requestID)))
}

// backLink returns the way back of an error page: the path and query of
// the shopper's Referer when it is a page of this shop (the request's own
// host, or the public URL's), else "/". It is only ever a path of this
// origin, never an address elsewhere: a Referer of another host, a
// scheme-relative //host or a /\host (which browsers read as //host), or
// one with control characters, gives "/". The caller escapes it for HTML.
func backLink(r *http.Request, publicURL string) string {
	ref := r.Header.Get("Referer")
	if ref == "" || strings.ContainsFunc(ref, func(c rune) bool { return c < ' ' || c == 0x7f || c == '\\' }) {
		return "/"
	}
	u, err := url.Parse(ref)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "/"
	}
	same := strings.EqualFold(u.Host, r.Host)
	if !same && publicURL != "" {
		if pu, err := url.Parse(publicURL); err == nil && pu.Host != "" {
			same = strings.EqualFold(u.Host, pu.Host)
		}
	}
	p := u.EscapedPath()
	if !same || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return "/"
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p
}

// writeErrorDetail puts why the page failed on a dev-mode error page.
func (pg *page) writeErrorDetail(st *stream) {
	if pg.errDetail == nil || st.err != nil {
		return
	}
	st.err = errorDetailBox(*pg.errDetail).Render(context.Background(), st.page)
}

func (s *Server) logPanic(c echo.Context, err error, stack []byte) error {
	s.logger.LogAttrs(c.Request().Context(), slog.LevelError, "panic serving request",
		slog.String("request_id", c.Request().Header.Get(HeaderRequestID)),
		slog.String("path", c.Request().URL.Path),
		slog.String("error", err.Error()),
		slog.String("stack", string(stack)))
	return err
}

// handleEchoError renders echo's errors (404, 405, panics) as HTML pages.
func (s *Server) handleEchoError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status := http.StatusInternalServerError
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status = he.Code
		if errors.Is(err, echo.ErrNotFound) {
			s.unknownPath(c.Request())
		}
	} else {
		s.logger.LogAttrs(c.Request().Context(), slog.LevelError, "serving request",
			slog.String("request_id", c.Request().Header.Get(HeaderRequestID)),
			slog.String("path", c.Request().URL.Path),
			slog.String("error", err.Error()))
	}
	s.renderError(c.Response(), c.Request(), status)
}

// errorTexts are the titles and explanations of the error pages.
var errorTexts = map[int][2]string{
	http.StatusNotFound:              {"Page not found", "There is no page at this address."},
	http.StatusMethodNotAllowed:      {"Method not allowed", "This page cannot be requested this way."},
	http.StatusRequestEntityTooLarge: {"Request too large", "The request body is larger than this shop accepts."},
	http.StatusBadGateway:            {"This page is unavailable", "Part of the shop is not answering right now. Please try again in a moment."},
	http.StatusServiceUnavailable:    {"This page is unavailable", "Part of the shop is taking a short break. Please try again in a moment."},
	http.StatusGatewayTimeout:        {"This page took too long", "Part of the shop is answering too slowly right now. Please try again in a moment."},
}
