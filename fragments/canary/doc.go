// Package canary splits a service's shoppers between its stable version
// and a canary, and takes the canary out when it does worse.
//
// A [Canary] is one service's canary. [Canary.Chooses] tells whether a
// shopper gets the canary: the service's name and the shopper id hash into
// one of [Buckets] buckets, and the shopper gets the canary when the bucket
// is below weight×100. The same shopper gets the same answer at a given
// weight, on every replica; raising the weight only adds shoppers, and two
// services' canaries pick their shoppers independently.
//
// [Canary.Observe] counts every answer of either version in a rolling
// window (by default 10 s, in 1 s slots): requests, failures and a latency
// histogram. While the canary has traffic the window is judged a few times
// a second. When the canary has enough requests in it and does worse than
// the stable version by a margin (see [Config]), its weight drops to 0:
// this is logged once, counted by [Canary.Rollbacks] and described by
// [Canary.State]. [Canary.SetWeight] brings it back with a fresh window.
//
// The package knows nothing of HTTP, the config or the fetch engine: the
// caller says who the shopper is, which version answered, how long it
// took and whether it failed.
package canary
