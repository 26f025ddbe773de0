package basket

import (
	"net/http"
	"strconv"

	"github.com/inlayhq/inlay/teams/internal/teamkit"
	"github.com/labstack/echo/v4"
)

func (h *handlers) mini(c echo.Context) error {
	return h.frag.Render(c, http.StatusOK, cachePrivate, miniView(h.store.Count(h.basket(c))))
}

func (h *handlers) addForm(c echo.Context) error {
	sku := c.QueryParam("sku")
	if !teamkit.ValidSKU(sku) {
		return h.frag.Render(c, http.StatusBadRequest, cacheAddForm, fragmentError("Cannot add this product: invalid article number."))
	}
	// The message of a failed add (basket_error, passed on by the
	// layout): one of a few known codes, so the box has a few variants.
	msg := failures[failure(c.QueryParam("error"))]
	return h.frag.Render(c, http.StatusOK, cacheAddForm, addFormView(sku, msg))
}

func (h *handlers) page(c echo.Context) error {
	return h.frag.Render(c, http.StatusOK, cachePrivate, pageView(newBasketPage(h.store.Lines(h.basket(c)))))
}

// basket is the request's basket id.
func (h *handlers) basket(c echo.Context) string {
	id, _ := h.basketID(c)
	return id
}

// basketPage is what the basket page shows.
type basketPage struct {
	Lines []pageLine
	Count int    // total quantity
	Total string // formatted sum of the priced lines, "—" if none is priced
}

// pageLine is one line of the basket page, with prices formatted.
type pageLine struct {
	SKU    string
	Name   string
	Qty    int
	Unit   string // "—" when unpriced
	Total  string // "—" when unpriced
	Priced bool
}

// noPrice stands for an unknown price.
const noPrice = "—"

func newBasketPage(lines []line) basketPage {
	p := basketPage{Lines: make([]pageLine, 0, len(lines)), Total: noPrice}
	var sum int64
	priced := false
	for _, l := range lines {
		pl := pageLine{SKU: l.SKU, Name: l.Name, Qty: l.Qty, Unit: noPrice, Total: noPrice, Priced: l.Priced}
		if l.Priced {
			pl.Unit = teamkit.EUR(l.PriceCents)
			pl.Total = teamkit.EUR(l.PriceCents * int64(l.Qty))
			sum += l.PriceCents * int64(l.Qty)
			priced = true
		}
		p.Count += l.Qty
		p.Lines = append(p.Lines, pl)
	}
	if priced {
		p.Total = teamkit.EUR(sum)
	}
	return p
}

// productURL is the URL of a product's page in the composed shop.
func productURL(sku string) string {
	return "/product/" + sku
}

// imageURL is the URL of a product's image, served by the search team.
func imageURL(sku string) string {
	return "/search/static/img/" + sku + ".svg"
}

// itemsLabel is "1 item" or "N items".
func itemsLabel(n int) string {
	if n == 1 {
		return "1 item"
	}
	return strconv.Itoa(n) + " items"
}
