package search

import (
	"fmt"
	"html"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// imageURL is the URL of a product's image, through the gateway.
func imageURL(sku string) string {
	return "/search/static/img/" + sku + ".svg"
}

func (h *handlers) image(c echo.Context) error {
	sku, ok := strings.CutSuffix(c.Param("file"), ".svg")
	if !ok {
		return echo.ErrNotFound
	}
	p, ok := h.catalog.Get(sku)
	if !ok {
		return echo.ErrNotFound
	}
	hdr := c.Response().Header()
	hdr.Set("Cache-Control", cacheImage)
	hdr.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	return c.Blob(http.StatusOK, "image/svg+xml", productSVG(p))
}

// productSVG draws a square image: the product colour with a soft light
// gradient, a faint ring, and the product's initials in a contrasting
// colour.
func productSVG(p product) []byte {
	bg := p.Color
	if _, _, _, ok := parseHex(bg); !ok {
		bg = "#8d99ae"
	}
	// White initials where they reach the 3:1 contrast that large text
	// needs (luminance up to 0.30), dark ones on lighter colours.
	fg := "#ffffff"
	if luminance(bg) > 0.30 {
		fg = "#1d2129"
	}
	return fmt.Appendf(nil, `<svg xmlns="http://www.w3.org/2000/svg" width="600" height="600" viewBox="0 0 600 600" role="img" aria-label="%s">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#fff" stop-opacity="0.28"/><stop offset="1" stop-color="#000" stop-opacity="0.12"/></linearGradient></defs>
<rect width="600" height="600" fill="%s"/>
<rect width="600" height="600" fill="url(#g)"/>
<circle cx="300" cy="300" r="190" fill="none" stroke="%s" stroke-opacity="0.22" stroke-width="6"/>
<text x="300" y="300" dy="0.35em" text-anchor="middle" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif" font-size="170" font-weight="700" letter-spacing="-4" fill="%s">%s</text>
</svg>
`, html.EscapeString(p.Name), bg, fg, fg, html.EscapeString(initials(p.Name)))
}

// initials returns the upper-cased first letters of the first two words of
// name, e.g. "CS" for "Canvas Sneaker".
func initials(name string) string {
	var out []rune
	for _, w := range strings.Fields(name) {
		r, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			continue
		}
		out = append(out, unicode.ToUpper(r))
		if len(out) == 2 {
			break
		}
	}
	return string(out)
}

// parseHex parses "#rrggbb".
func parseHex(s string) (r, g, b uint8, ok bool) {
	if len(s) != 7 || s[0] != '#' {
		return 0, 0, 0, false
	}
	v, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		return 0, 0, 0, false
	}
	return uint8(v >> 16), uint8(v >> 8), uint8(v), true
}

// luminance is the relative luminance (0 black … 1 white) of a "#rrggbb"
// colour, as defined by WCAG.
func luminance(hex string) float64 {
	r, g, b, ok := parseHex(hex)
	if !ok {
		return 0
	}
	lin := func(c uint8) float64 {
		v := float64(c) / 255
		if v <= 0.03928 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}
