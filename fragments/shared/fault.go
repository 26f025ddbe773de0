package shared

import "context"

// faultKey is the context key of the function WithFault sets.
type faultKey struct{}

// WithFault returns a context under which every round trip of a Store
// first calls fault with the name of its operation ("get", "set",
// "lease", "peek", "release", "purge"), on the goroutine the round trip
// runs on, where the Redis client runs. A fault that panics there is one
// below the tier, as a bug of the client would be. It is for tests of the
// code that must contain such faults; nothing else sets it.
func WithFault(ctx context.Context, fault func(op string)) context.Context {
	return context.WithValue(ctx, faultKey{}, fault)
}
