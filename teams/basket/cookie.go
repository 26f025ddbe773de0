package basket

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/labstack/echo/v4"
)

// basketID returns the basket of the request: the signed-in shopper's
// (keyed by their sub, signed in reports true), else the cookie's.
func (h *handlers) basketID(c echo.Context) (id string, signedIn bool) {
	if s := h.id.Shopper(c.Request()); s != nil {
		sum := sha256.Sum256([]byte("sub:" + s.Sub))
		return hex.EncodeToString(sum[:16]), true
	}
	return basketID(c), false
}

// cookieName names the cookie holding the basket id.
const cookieName = "inlay_basket"

// basketID returns the basket id of the request's cookie, or "" when there
// is none or it is not 32 lowercase hex characters.
func basketID(c echo.Context) string {
	ck, err := c.Cookie(cookieName)
	if err != nil || !validBasketID(ck.Value) {
		return ""
	}
	return ck.Value
}

func validBasketID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && (s[i] < 'a' || s[i] > 'f') {
			return false
		}
	}
	return true
}

// setBasketCookie makes the browser keep id for the whole site, hidden
// from scripts and not sent on cross-site subrequests.
func setBasketCookie(c echo.Context, id string) {
	c.SetCookie(&http.Cookie{
		Name:     cookieName,
		Value:    id,
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
}
