package shell

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/inlayhq/inlay/teams/identity"
	"github.com/inlayhq/inlay/teams/internal/teamkit"
	"github.com/labstack/echo/v4"
)

// maxQueryLen caps the search text echoed back in the header's search box.
const maxQueryLen = 200

// category is one category search linked from the navigation.
type category struct {
	Label string
	Query string
}

// navCategories are the category searches in the navigation; each Query is
// a category of the search team's catalogue.
var navCategories = []category{
	{Label: "Shoes", Query: "shoes"},
	{Label: "Bags", Query: "bags"},
	{Label: "Jackets", Query: "jackets"},
	{Label: "Shirts", Query: "shirts"},
}

type handlers struct {
	frag     teamkit.Fragments
	identity *identity.Verifier
}

// account is the header's personal box; empty without sign-in.
func (h *handlers) account(c echo.Context) error {
	if h.identity == nil {
		c.Response().Header().Set("Cache-Control", cacheFooter)
		return c.Blob(http.StatusOK, teamkit.HTMLContentType, nil)
	}
	next := c.Request().Header.Get("X-Inlay-Page-Path")
	if !strings.HasPrefix(next, "/") {
		next = "/"
	}
	return h.frag.Render(c, http.StatusOK, cacheAccount, accountBox(h.identity.Shopper(c.Request()), url.QueryEscape(next)))
}

// accountPage is the main box of the account page.
func (h *handlers) accountPage(c echo.Context) error {
	return h.frag.Render(c, http.StatusOK, cacheAccount, accountPage(h.identity.Shopper(c.Request())))
}

// displayName is the shopper's name, else their address, else "Account".
func displayName(s *identity.Shopper) string {
	switch {
	case s.Name != "":
		return s.Name
	case s.Email != "":
		return s.Email
	}
	return "Account"
}

func (h *handlers) header(c echo.Context) error {
	q := trimQuery(c.QueryParam("q"))
	return h.frag.Render(c, http.StatusOK, cacheHeader, header(q, navCategories))
}

func (h *handlers) headerStatic(c echo.Context) error {
	return h.frag.Render(c, http.StatusOK, cacheHeaderStatic, headerStatic())
}

func (h *handlers) footer(c echo.Context) error {
	return h.frag.Render(c, http.StatusOK, cacheFooter, footer())
}

// trimQuery trims spaces and cuts q to maxQueryLen bytes on a rune boundary.
func trimQuery(q string) string {
	q = strings.TrimSpace(q)
	if len(q) <= maxQueryLen {
		return q
	}
	cut := 0
	for i := range q {
		if i > maxQueryLen {
			break
		}
		cut = i
	}
	return q[:cut]
}

// searchURL is the URL of the search page for q.
func searchURL(q string) string {
	return "/search?q=" + url.QueryEscape(q)
}
