package search

import (
	"embed"
	"io/fs"
	"log/slog"

	"github.com/inlayhq/inlay/teams/internal/teamkit"
	"github.com/labstack/echo/v4"
)

// Cache-Control values of the search team's responses. Fragments may be
// served stale for a minute while Inlay refreshes them, and for an hour
// while the search team is down; product images for a week.
const (
	cacheFragment = "public, max-age=60, stale-while-revalidate=60, stale-if-error=3600"
	cacheAPI      = "public, max-age=60"
	cacheImage    = "public, max-age=86400, stale-if-error=604800"
)

//go:embed static
var staticFiles embed.FS

// Config configures the search service. The zero value is ready to use.
type Config struct {
	// Logger receives request logs and errors. Nil means slog.Default().
	Logger *slog.Logger
}

// New returns the team's HTTP handler (an *echo.Echo with all routes).
func New(cfg Config) *echo.Echo {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err)
	}
	assets := teamkit.MustLoadAssets(sub, "/search/static/")
	h := &handlers{
		catalog: newCatalog(products),
		frag:    teamkit.Fragments{Link: assets.StylesheetLink("search.css")},
	}

	e := teamkit.NewEcho(cfg.Logger)
	g := e.Group("/search")
	g.GET("/fragments/results", h.results)
	g.GET("/fragments/product/:sku", h.product)
	g.GET("/fragments/featured", h.featured)
	g.GET("/fragments/more", h.more)
	g.GET("/api/products/:sku", h.apiProduct)
	g.GET("/static/img/:file", h.image)
	g.GET("/static/*", assets.Handler())
	return e
}

// handlers serve the search team's routes from one catalogue.
type handlers struct {
	catalog *catalog
	frag    teamkit.Fragments
}
