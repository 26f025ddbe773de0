package shell

import (
	"embed"
	"io/fs"
	"log/slog"

	"github.com/inlayhq/inlay/teams/identity"
	"github.com/inlayhq/inlay/teams/internal/teamkit"
	"github.com/labstack/echo/v4"
)

// Cache-Control values of the shell fragments. stale-while-revalidate lets
// Inlay answer from its copy while it refreshes it; stale-if-error keeps the
// frame on the page for a day while the shell team is down.
const (
	cacheHeader       = "public, max-age=60, stale-while-revalidate=300, stale-if-error=86400"
	cacheFooter       = "public, max-age=300, stale-while-revalidate=600, stale-if-error=86400"
	cacheHeaderStatic = "public, max-age=3600, stale-while-revalidate=3600, stale-if-error=604800"
	// cacheAccount: the personal box is one shopper's, never stored; the
	// header beside it stays public.
	cacheAccount = "private, no-store"
)

//go:embed static
var staticFiles embed.FS

// Config configures the shell service. The zero value is ready to use.
type Config struct {
	// Logger receives request logs and errors. Nil means slog.Default().
	Logger *slog.Logger
	// Identity verifies the shopper's X-Inlay-Identity, when the shop has
	// sign-in. Nil means none: the account box is empty.
	Identity *identity.Verifier
}

// New returns the team's HTTP handler (an *echo.Echo with all routes).
func New(cfg Config) *echo.Echo {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err)
	}
	assets := teamkit.MustLoadAssets(sub, "/shell/static/")
	h := &handlers{frag: teamkit.Fragments{Link: assets.StylesheetLink("shell.css")}, identity: cfg.Identity}

	e := teamkit.NewEcho(cfg.Logger)
	g := e.Group("/shell")
	g.GET("/fragments/header", h.header)
	g.GET("/fragments/header-static", h.headerStatic)
	g.GET("/fragments/footer", h.footer)
	g.GET("/fragments/account", h.account)
	g.GET("/fragments/account-page", h.accountPage)
	g.GET("/static/*", assets.Handler())
	return e
}
