// Package admin guards Inlay's admin listener, which serves /metrics,
// pprof, health and purge by tag to operators and scrapers, never to
// shoppers. [Guard] refuses every request a browser sends, before anything
// runs, and asks for the admin token (a bearer token) on every route but
// the few left open for scrapers and probes.
package admin
