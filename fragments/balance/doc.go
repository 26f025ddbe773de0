// Package balance chooses, for each fetch, one of a team service's
// endpoints (the addresses its name resolves to), and keeps what that
// choice needs to know: how loaded and how fast each endpoint is, which
// ones are new, leaving or sick, and how many extra fetches the service
// may still be sent.
//
// A [Set] holds the live endpoints of one service. [Set.Pick] makes the
// power of two random choices over each endpoint's cost, its requests in
// flight plus one times its peak-EWMA latency (as Finagle and Linkerd do),
// so that an endpoint much slower than its siblings gets almost nothing.
// The caller ends every pick once with [Endpoint.Done], giving the
// latency and the [Outcome]; that feeds the latency estimate, the count
// in flight and the outlier detection, which ejects an endpoint whose
// connections keep failing or whose failure rate is well above its
// siblings' (as Envoy's outlier detection does), for a time that doubles
// with each ejection. [Set.Update] takes the addresses of a re-resolve:
// new ones are eased in over the fade-in time (Envoy's slow start,
// Skipper's fadeIn), vanished ones are drained and reported once idle.
//
// A [RetryBudget] bounds the retries and hedges of a service to a share
// of its requests; a [Tracker] gives a service's recent latency
// quantiles, such as the p95 after which a fetch is hedged.
//
// Everything here is safe for concurrent use. Picking and ending a fetch
// allocate nothing and take no lock shared by the whole service (unless
// Config.Source is set, for tests). Time is read with time.Now and there
// is no background goroutine: windows turn and ejections end when they
// are next looked at.
package balance
