package basket

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
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
		return fail(c, http.StatusBadRequest, errInvalidSKU)
	}
	qty := 1
	if s := r.PostFormValue("qty"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxQty {
			return fail(c, http.StatusBadRequest, errInvalidQty)
		}
		qty = n
	}
	item, err := h.catalog.Lookup(r.Context(), sku)
	switch {
	case errors.Is(err, errUnknownProduct):
		return fail(c, http.StatusBadRequest, errUnknown)
	case err != nil:
		h.logger.WarnContext(r.Context(), "catalogue lookup failed", slog.String("sku", sku), slog.Any("err", err))
		return fail(c, http.StatusServiceUnavailable, errCatalogue)
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
		return fail(c, http.StatusConflict, errFull)
	}
	return done(c, total, r.PostFormValue("return"))
}

func (h *handlers) remove(c echo.Context) error {
	r := c.Request()
	sku := r.PostFormValue("sku")
	if !teamkit.ValidSKU(sku) {
		return fail(c, http.StatusBadRequest, errInvalidSKU)
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

// fail answers a failed POST: in JSON for JSON clients, with the code and
// its message; a browser's form post is sent back (303) to where it came
// from (the return field, else the Referer's path when it is this site's,
// else /basket) with the code in its basket_error query parameter, which
// the add-to-basket box shows as a message.
func fail(c echo.Context, code int, e failure) error {
	c.Response().Header().Set("Cache-Control", cachePrivate)
	if wantsJSON(c) {
		return c.JSON(code, map[string]string{"error": failures[e]})
	}
	return c.Redirect(http.StatusSeeOther, withFailure(backTo(c), e))
}

// failure is why a POST failed: a short code, safe in a URL.
type failure string

// The failures of the POST endpoints.
const (
	errInvalidSKU failure = "invalid-sku"
	errInvalidQty failure = "invalid-qty"
	errUnknown    failure = "unknown-product"
	errCatalogue  failure = "catalogue-unavailable"
	errFull       failure = "basket-full"
)

// failures are the messages of the failures, as the JSON answer and the
// add-to-basket box give them.
var failures = map[failure]string{
	errInvalidSKU: "invalid sku",
	errInvalidQty: "invalid qty: want 1 to 99",
	errUnknown:    "unknown product",
	errCatalogue:  "catalogue unavailable, try again later",
	errFull:       "basket is full: at most 50 different products",
}

// backTo is where a failed form post goes back to: its return field, or
// the path of its Referer when that is a page of this site, or /basket.
func backTo(c echo.Context) string {
	r := c.Request()
	if ret := r.PostFormValue("return"); isLocalPath(ret) {
		return ret
	}
	if u, err := url.Parse(r.Referer()); err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host) && isLocalPath(u.RequestURI()) {
		return u.RequestURI()
	}
	return "/basket"
}

// withFailure sets the basket_error query parameter of a local path.
func withFailure(path string, e failure) string {
	u, err := url.Parse(path)
	if err != nil {
		return "/basket?basket_error=" + string(e)
	}
	q := u.Query()
	q.Set("basket_error", string(e))
	u.RawQuery = q.Encode()
	return u.RequestURI()
}

// wantsJSON reports whether the client asked for JSON in its Accept header.
func wantsJSON(c echo.Context) bool {
	return strings.Contains(c.Request().Header.Get("Accept"), "application/json")
}
