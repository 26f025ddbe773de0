// Package composer is Inlay's page side: it composes a page for each
// shopper request by fetching its fragments through the fetch engine
// (package fragments) and streaming the stitched page in document order,
// and it serves the gateway routes that proxy the teams' own endpoints.
//
// [Server] is the echo app: page routes, gateway routes, health and
// readiness, Inlay's static files, and the front door's error pages.
//
// The page engine (pageengine.go, page.go, stream.go, slotfetch.go) is
// built by the Server with only what composing needs: the fetch engine,
// an observer, the limits, and hooks for error pages and dev mode's
// overlay; it never sees the Server. A page brings its layout, its
// request and its deadline. Boxes that no cache holds are sent together
// and read in document order on the page's goroutine; the others are
// fetched each on a goroutine of its own. What a box shows and why a
// fetch failed are named once, in outcome.go, for the logs, the
// metrics, the debug view and Server-Timing alike.
//
// The layout language is package layout; a [layout.Folder] hot-reloads
// the layouts, keeping the last good version of a broken file.
package composer
