package basket

import (
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/inlayhq/inlay/teams/identity"
	"github.com/inlayhq/inlay/teams/internal/teamkit"
	"github.com/labstack/echo/v4"
)

// Limits of the service.
const (
	defaultMaxBaskets = 10000
	maxLines          = 50       // lines per basket
	maxQty            = 99       // quantity per line
	maxFormBytes      = 64 << 10 // request body of the POST endpoints
	catalogTimeout    = 2 * time.Second
	catalogCacheTTL   = 5 * time.Minute
)

// Cache-Control values of the basket fragments and API responses.
const (
	cachePrivate = "private, no-store"
	cacheAddForm = "public, max-age=300, stale-while-revalidate=300, stale-if-error=86400"
)

//go:embed static
var staticFiles embed.FS

// Config configures the basket service. The zero value is ready to use: it
// accepts any well-formed SKU and shows it without name or price.
type Config struct {
	// CatalogURL is the base URL of the search service, e.g.
	// "http://127.0.0.1:9102". When set, SKUs are validated and names and
	// prices read from {CatalogURL}/search/api/products/{sku}. Empty means
	// no catalogue: any SKU matching ^[a-z0-9-]{1,32}$ is accepted and shown
	// by its SKU, with no price.
	CatalogURL string

	// MaxBaskets bounds the number of baskets kept in memory; beyond it the
	// least recently used basket is dropped. Zero or less means 10000.
	MaxBaskets int

	// Logger receives request logs and errors. Nil means slog.Default().
	Logger *slog.Logger

	// Identity verifies the shopper's X-Inlay-Identity, when the shop has
	// sign-in: a signed-in shopper's basket is keyed by their sub, so it
	// follows them into any browser. Nil means baskets by cookie only.
	Identity *identity.Verifier
}

// New returns the team's HTTP handler (an *echo.Echo with all routes).
func New(cfg Config) *echo.Echo {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	maxBaskets := cfg.MaxBaskets
	if maxBaskets <= 0 {
		maxBaskets = defaultMaxBaskets
	}
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err)
	}
	assets := teamkit.MustLoadAssets(sub, "/basket/static/")
	h := &handlers{
		store:   newStore(maxBaskets),
		catalog: newCatalogClient(strings.TrimRight(cfg.CatalogURL, "/"), &http.Client{Timeout: catalogTimeout}),
		frag:    teamkit.Fragments{Link: assets.StylesheetLink("basket.css")},
		logger:  logger,
		id:      cfg.Identity,
	}

	e := teamkit.NewEcho(logger)
	g := e.Group("/basket")
	g.GET("/fragments/mini", h.mini)
	g.GET("/fragments/add", h.addForm)
	g.GET("/fragments/page", h.page)
	g.POST("/api/add", h.add, limitBody)
	g.POST("/api/remove", h.remove, limitBody)
	g.GET("/static/*", assets.Handler())
	return e
}

// handlers serve the basket team's routes.
type handlers struct {
	store   *store
	catalog *catalogClient
	frag    teamkit.Fragments
	logger  *slog.Logger
	id      *identity.Verifier
}

// limitBody caps the request body at maxFormBytes.
func limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		r.Body = http.MaxBytesReader(c.Response(), r.Body, maxFormBytes)
		return next(c)
	}
}
