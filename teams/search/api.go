package search

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// productJSON is the public JSON form of a product, as read by the basket
// team.
type productJSON struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	PriceCents int64  `json:"price_cents"`
	Category   string `json:"category"`
}

func (h *handlers) apiProduct(c echo.Context) error {
	p, ok := h.catalog.Get(c.Param("sku"))
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "product not found")
	}
	c.Response().Header().Set("Cache-Control", cacheAPI)
	return c.JSON(http.StatusOK, productJSON{
		SKU:        p.SKU,
		Name:       p.Name,
		PriceCents: p.PriceCents,
		Category:   p.Category,
	})
}
