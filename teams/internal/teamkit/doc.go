// Package teamkit holds the plumbing that the example team services share:
// an echo instance with logging, recovery and error pages, the fragment
// response contract (Content-Type, Link and Cache-Control headers), the
// serving of embedded static files under a content hash, and small helpers
// such as SKU validation and price formatting.
//
// It is internal to the teams: each team stays an independent service and
// only shares code, never state, through this package.
package teamkit
