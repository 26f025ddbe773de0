package composer

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// shop is an Inlay server under test, in front of stand-in teams.
type shop struct {
	*httptest.Server
	inlay *Server
	logs  *teamtest.Logs
	// layoutFS is the layouts folder the shop reads; a test may edit it.
	layoutFS fstest.MapFS
}

// shopConfig is a test shop: the kit's shop description, with its
// services given as teams, and the composer options a test may set.
type shopConfig struct {
	layouts               map[string]string
	services              map[string]*teamtest.Team
	serviceYAML           map[string]string
	pages, gateway, extra string
	// fetchTransport, when not nil, carries the fragment requests.
	fetchTransport http.RoundTripper
	// logHandler, when not nil, wraps the handler the shop logs to.
	logHandler func(slog.Handler) slog.Handler
	// observer, when not nil, is told about every page and fragment.
	observer Observer
	// accessLog logs one line per page.
	accessLog bool
}

func newShop(t testing.TB, sc shopConfig) *shop {
	t.Helper()
	cfg, fsys := sc.parse(t, sc.urls())
	return sc.start(t, cfg, fsys)
}

// newShopOnDisk starts a shop whose config and layouts are written to a
// temporary folder, and returns it with the folder: the test may edit a
// layout there and reload.
func newShopOnDisk(t testing.TB, sc shopConfig) (*shop, string) {
	t.Helper()
	path, dir := sc.kitShop(sc.urls()).Write(t)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return sc.start(t, cfg, nil), dir
}

// start starts the shop with cfg, and its layouts from fsys (from the
// config's layouts folder when nil).
func (sc shopConfig) start(t testing.TB, cfg *config.Config, fsys fstest.MapFS) *shop {
	t.Helper()
	logs, logger := sc.logger()
	opts := Options{Logger: logger, FetchTransport: sc.fetchTransport, Observer: sc.observer, AccessLog: sc.accessLog}
	if fsys != nil {
		opts.LayoutFS = fsys
	}
	srv, err := New(cfg, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(srv.Close) // after hs.Close: cleanups run last-in first-out
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &shop{Server: hs, inlay: srv, logs: logs, layoutFS: fsys}
}

// logger returns the shop's logger and the sink its JSON records go to.
func (sc shopConfig) logger() (*teamtest.Logs, *slog.Logger) {
	logs := &teamtest.Logs{}
	var h slog.Handler = slog.NewJSONHandler(logs, nil)
	if sc.logHandler != nil {
		h = sc.logHandler(h)
	}
	return logs, slog.New(h)
}

// parse builds the shop's config, with the services at the given base
// URLs, and its layouts folder.
func (sc shopConfig) parse(t testing.TB, urls map[string]string) (*config.Config, fstest.MapFS) {
	t.Helper()
	return teamtest.Parse(t, sc.kitShop(urls), config.Parse)
}

// kitShop is the shop's description, with the services at urls.
func (sc shopConfig) kitShop(urls map[string]string) teamtest.Shop {
	return teamtest.Shop{
		Services: urls, ServiceTimeout: "2s", ServiceYAML: sc.serviceYAML, Layouts: sc.layouts,
		Pages: sc.pages, Gateway: sc.gateway, Extra: sc.extra,
	}
}

// urls returns the base URLs of the shop's services.
func (sc shopConfig) urls() map[string]string {
	urls := map[string]string{}
	for name, team := range sc.services {
		urls[name] = team.URL
	}
	return urls
}

// get fetches a page of the shop (see teamtest.Get).
func (s *shop) get(t *testing.T, path string, header ...string) (*http.Response, string) {
	t.Helper()
	return teamtest.Get(t, s.URL+path, header...)
}

func (s *shop) logText() string {
	return s.logs.String()
}
