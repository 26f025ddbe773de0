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
//
// # Stack budget
//
// A page runs on its connection's goroutine, from net/http's conn.serve
// down to the write of its head, and that path must fit in 8 KiB of
// stack. Go grows a goroutine's stack by doubling it, and at every GC it
// halves the stack of a goroutine that uses less than a quarter of it. A
// connection's goroutine waits for its next request with about 2.5 KiB in
// use: on 8 KiB it keeps its stack, but a page that needs more than 8 KiB
// grows it to 16 KiB, the next GC halves it, and the next page copies
// it again. Under load that is a stack copy per connection per GC, and
// it cost the cached page a third of its throughput and doubled its p99
// at 256 connections (docs/benchmarks.md). net/http's own frames take
// about 5.5 KiB of it, writing the head alone 2.8 KiB; what is Inlay's is
// kept small: the frames that stay on the stack under the whole page
// (the middleware, the page handler, compose and write) build nothing
// large themselves, and call functions that do (tagRequest, newPage,
// tracePage). TestLoadPageKeepsItsStack in cmd/inlay fails when a page
// outgrows the budget.
package composer
