package teamkit

import (
	"bytes"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// HTMLContentType is the Content-Type of every fragment and HTML error body.
const HTMLContentType = "text/html; charset=utf-8"

// Fragments writes the responses of one team's fragment endpoints.
type Fragments struct {
	// Link is the value of the Link header sent with every fragment, such as
	// "</shell/static/shell.css?v=0123456789>; rel=stylesheet". Empty means
	// no Link header.
	Link string
}

// Render renders comp and sends it as an HTML fragment with the given
// status and Cache-Control header. The component is rendered to a buffer
// first, so a failing component yields a clean 500 and never half a body.
func (f Fragments) Render(c echo.Context, status int, cacheControl string, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	h := c.Response().Header()
	if f.Link != "" {
		h.Set("Link", f.Link)
	}
	if cacheControl != "" {
		h.Set("Cache-Control", cacheControl)
	}
	return c.Blob(status, HTMLContentType, buf.Bytes())
}
