package basket

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/inlayhq/inlay/teams/internal/teamkit"
	"github.com/labstack/echo/v4"
)

// countJSON is the JSON answer of the POST endpoints.
type countJSON struct {
	Count int `json:"count"`
}

func (h *handlers) add(c echo.Context) error {
	r := c.Request()
	sku := r.PostFormValue("sku")
	if !teamkit.ValidSKU(sku) {
		return fail(c, http.StatusBadRequest, "invalid sku")
	}
	qty := 1
	if s := r.PostFormValue("qty"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxQty {
			return fail(c, http.StatusBadRequest, "invalid qty: want 1 to 99")
		}
		qty = n
	}
	item, err := h.catalog.Lookup(r.Context(), sku)
	switch {
	case errors.Is(err, errUnknownProduct):
		return fail(c, http.StatusBadRequest, "unknown product")
	case err != nil:
		h.logger.WarnContext(r.Context(), "catalogue lookup failed", slog.String("sku", sku), slog.Any("err", err))
		return fail(c, http.StatusServiceUnavailable, "catalogue unavailable, try again later")
	}
	bid, signedIn := h.basketID(c)
	if signedIn {
		h.store.Claim(bid)
	}
	id, created, total, err := h.store.Add(bid, item, qty)
	if created && !signedIn {
		setBasketCookie(c, id)
	}
	if errors.Is(err, errBasketFull) {
		return fail(c, http.StatusConflict, "basket is full: at most 50 different products")
	}
	return done(c, total, r.PostFormValue("return"))
}

func (h *handlers) remove(c echo.Context) error {
	r := c.Request()
	sku := r.PostFormValue("sku")
	if !teamkit.ValidSKU(sku) {
		return fail(c, http.StatusBadRequest, "invalid sku")
	}
	bid, _ := h.basketID(c)
	total := h.store.Remove(bid, sku)
	return done(c, total, r.PostFormValue("return"))
}

// done answers a successful POST: {"count": N} for JSON clients, else a
// 303 See Other to ret if it is a local path, or to /basket.
func done(c echo.Context, total int, ret string) error {
	c.Response().Header().Set("Cache-Control", cachePrivate)
	if wantsJSON(c) {
		return c.JSON(http.StatusOK, countJSON{Count: total})
	}
	return c.Redirect(http.StatusSeeOther, safeReturn(ret))
}

// fail answers a failed POST with a short message, in JSON for JSON
// clients, else as plain text.
func fail(c echo.Context, code int, msg string) error {
	c.Response().Header().Set("Cache-Control", cachePrivate)
	if wantsJSON(c) {
		return c.JSON(code, map[string]string{"error": msg})
	}
	return c.Blob(code, "text/plain; charset=utf-8", []byte(msg+"\n"))
}

// wantsJSON reports whether the client asked for JSON in its Accept header.
func wantsJSON(c echo.Context) bool {
	return strings.Contains(c.Request().Header.Get("Accept"), "application/json")
}
