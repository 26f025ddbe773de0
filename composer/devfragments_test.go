package composer

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/inlayhq/inlay/teams/teamtest"
)

// devCacheShop is a dev-mode shop with two services whose fragments say
// they may be cached for a minute: "local", served from the developer's
// machine (inlay dev --service), and "staging".
func devCacheShop(t *testing.T) (s *shop, local, staging *teamtest.Team) {
	t.Helper()
	cacheable := map[string]string{"Cache-Control": "public, max-age=60"}
	local = teamtest.NewRoutes(t, map[string]teamtest.Route{"/f": {Body: `<p>local v1</p>`, Header: cacheable}})
	staging = teamtest.NewRoutes(t, map[string]teamtest.Route{"/f": {Body: `<p>staging v1</p>`, Header: cacheable}})
	sc := shopConfig{
		services: map[string]*teamtest.Team{"local": local, "staging": staging},
		layouts:  map[string]string{"p.html": pageHead + `<fragment id="mine" src="local:/f"></fragment><fragment id="theirs" src="staging:/f"></fragment>` + pageTail},
		pages:    "  - path: /\n    layout: p.html",
		extra:    "dev: true\n",
	}
	cfg, fsys := sc.parse(t, sc.urls())
	cfg.Services["local"].Local = true
	return sc.start(t, cfg, fsys), local, staging
}

// TestDevNeverCachesALocalService: a developer's own service is fetched
// on every page, whatever its caching headers say, so that an edit shows
// on the next load; every other service is cached as usual, until the
// browser's hard reload (Cache-Control: no-cache), which dev mode honours.
func TestDevNeverCachesALocalService(t *testing.T) {
	s, local, staging := devCacheShop(t)
	s.get(t, "/")
	local.Route("/f", teamtest.Route{Body: `<p>local v2</p>`, Header: map[string]string{"Cache-Control": "public, max-age=60"}})
	staging.Route("/f", teamtest.Route{Body: `<p>staging v2</p>`, Header: map[string]string{"Cache-Control": "public, max-age=60"}})

	_, body := s.get(t, "/")
	if !strings.Contains(body, "local v2") {
		t.Errorf("the local service's edit does not show on the next load:\n%s", body)
	}
	if !strings.Contains(body, "staging v1") {
		t.Errorf("the staging service's fragment was not served from the cache:\n%s", body)
	}
	_, body = s.get(t, "/", "Cache-Control", "no-cache")
	if !strings.Contains(body, "staging v2") {
		t.Errorf("a hard reload (Cache-Control: no-cache) in dev mode still served the cached copy:\n%s", body)
	}
}

// TestHardReloadOutsideDevModeUsesTheCache: outside dev mode a shopper's
// Cache-Control: no-cache does not reach past Inlay's cache: anyone could
// otherwise send every request to the teams.
func TestHardReloadOutsideDevModeUsesTheCache(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/f": {Body: `<p>v1</p>`, Header: map[string]string{"Cache-Control": "public, max-age=60"}}})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts:  map[string]string{"p.html": pageHead + `<fragment id="f" src="team:/f"></fragment>` + pageTail},
		pages:    "  - path: /\n    layout: p.html",
	})
	s.get(t, "/")
	team.Route("/f", teamtest.Route{Body: `<p>v2</p>`})
	if _, body := s.get(t, "/", "Cache-Control", "no-cache", "Pragma", "no-cache"); !strings.Contains(body, "<p>v1</p>") {
		t.Errorf("outside dev mode, a no-cache request went past the cache:\n%s", body)
	}
}

// TestLocalWatchSeesAnEdit: the fragments pages fetched from a local
// service are fetched again by the watch, and an edit to one is a
// change; an unchanged answer is not.
func TestLocalWatchSeesAnEdit(t *testing.T) {
	s, local, _ := devCacheShop(t)
	lw := newLocalWatch()
	s.inlay.pages.watchLocal = lw.seen // the shop's own watch runs on its ticker; this one is driven by hand
	s.get(t, "/")
	if n := len(lw.reqs); n != 1 {
		t.Fatalf("the watch recorded %d fragments, want the local service's 1", n)
	}
	ctx := context.Background()
	if lw.poll(ctx, s.inlay.engine) {
		t.Error("an unchanged fragment was reported as changed")
	}
	local.Route("/f", teamtest.Route{Body: `<p>local v2</p>`})
	if !lw.poll(ctx, s.inlay.engine) {
		t.Error("an edited fragment was not reported as changed")
	}
	local.Route("/f", teamtest.Route{Status: 500})
	if !lw.poll(ctx, s.inlay.engine) {
		t.Error("a fragment that started failing was not reported as changed")
	}
}

// TestLocalEditReloadsTheOpenPages: dev mode's live-reload stream sends a
// new version when a local service's fragment changes, which reloads the
// open pages.
func TestLocalEditReloadsTheOpenPages(t *testing.T) {
	s, local, _ := devCacheShop(t)
	s.get(t, "/")
	before := s.inlay.devVersion()
	_, changed := s.inlay.devProblems()
	local.Route("/f", teamtest.Route{Body: `<p>local v2</p>`})
	select {
	case <-changed:
	case <-time.After(20 * time.Second): // a stuck test, not a slow one: the watch polls every 500ms
		t.Fatal("the live-reload stream was not told about the edit")
	}
	if after := s.inlay.devVersion(); after == before {
		t.Errorf("dev version stayed %s after the edit", after)
	}
}
