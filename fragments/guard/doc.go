// Package guard is the fetch engine's guard stage: for each team
// service, a circuit breaker (sony/gobreaker) over the service and, by
// default, one per endpoint, and an adaptive concurrency limit with a
// short wait queue ([Limiter]).
//
// A fetch asks for a [Ticket] with [Guards.Admit] before it is sent, and
// ends it with [Ticket.Done] once its outcome is known, on any goroutine:
// a fetch sent now and read later counts as one run whole. [Guards.Fetch]
// runs the three in a row. Gateway requests go through
// [Guards.RoundTripper].
package guard
