package search

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// maxQueryLen caps the search text; longer queries are cut.
const maxQueryLen = 200

func (h *handlers) results(c echo.Context) error {
	q := strings.TrimSpace(c.QueryParam("q"))
	if len(q) > maxQueryLen {
		q = strings.ToValidUTF8(q[:maxQueryLen], "")
	}
	found := h.catalog.Search(q)
	return h.frag.Render(c, http.StatusOK, cacheFragment, resultsView(q, found))
}

func (h *handlers) product(c echo.Context) error {
	p, ok := h.catalog.Get(c.Param("sku"))
	if !ok {
		return h.frag.Render(c, http.StatusNotFound, cacheFragment, productNotFound())
	}
	return h.frag.Render(c, http.StatusOK, cacheFragment, productView(p))
}

func (h *handlers) featured(c echo.Context) error {
	return h.frag.Render(c, http.StatusOK, cacheFragment, featuredView(h.catalog.Featured()))
}

// more is the "more products" row of the product page.
func (h *handlers) more(c echo.Context) error {
	return h.frag.Render(c, http.StatusOK, cacheFragment, moreView(h.catalog.Featured()))
}
