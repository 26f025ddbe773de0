package fragments

import (
	"context"
	"fmt"

	"github.com/inlayhq/inlay/fragments/balance"
	"github.com/inlayhq/inlay/fragments/canary"
	"github.com/inlayhq/inlay/fragments/fetch"
)

// shopperKey is the context key of a request's shopper id.
type shopperKey struct{}

// WithShopper returns ctx carrying the shopper's stable, anonymous id:
// the gateway's requests go to a service's canary or not by it, as
// fragment fetches do by [fetch.Request.Shopper].
func WithShopper(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, shopperKey{}, id)
}

// ShopperOf returns the shopper id ctx carries, or "".
func ShopperOf(ctx context.Context) string {
	id, _ := ctx.Value(shopperKey{}).(string)
	return id
}

// HasCanary reports whether some service has a canary: only then does a
// request need its shopper's id.
func (e *Engine) HasCanary() bool { return e.someCanary.Load() }

// canaried returns req as the engine fetches it: for a shopper its
// service's canary takes, a copy marked so and keyed apart in the cache.
func (e *Engine) canaried(req *fetch.Request) *fetch.Request {
	if req.Shopper == "" || req.Canary {
		return req
	}
	svc := (*e.services.Load())[req.Service]
	if svc == nil || svc.can == nil || !svc.can.Chooses(req.Shopper) {
		return req
	}
	cp := *req
	cp.Canary = true
	cp.Key = fetch.PrimaryKey(req) + "\ncanary"
	return &cp
}

// Canaries returns the state of every service's canary, by service: its
// weight, whether it was rolled back and why.
func (e *Engine) Canaries() map[string]canary.State {
	out := map[string]canary.State{}
	for name, svc := range *e.services.Load() {
		if svc.can != nil {
			out[name] = svc.can.State()
		}
	}
	return out
}

// CanaryRollbacks returns how many times each service's canary was
// rolled back.
func (e *Engine) CanaryRollbacks() map[string]uint64 {
	out := map[string]uint64{}
	for name, svc := range *e.services.Load() {
		if svc.can != nil {
			out[name] = svc.can.Rollbacks()
		}
	}
	return out
}

// SetCanaryWeight sets the weight of a service's canary, 0 to 100: an
// operator bringing back a canary that was rolled back, or taking it
// out. The next config reload sets the configured weight again.
func (e *Engine) SetCanaryWeight(service string, weight int) error {
	svc := (*e.services.Load())[service]
	if svc == nil {
		return fmt.Errorf("no service %q is configured", service)
	}
	if svc.can == nil {
		return fmt.Errorf("service %q has no canary", service)
	}
	return svc.can.SetWeight(weight)
}

// Instances returns, for each service that has an instance set, each
// instance's state and counters: requests, failures, latency estimate,
// fade-in weight, ejections. A canary's are under "SERVICE canary".
func (e *Engine) Instances() map[string][]balance.EndpointStats {
	out := map[string][]balance.EndpointStats{}
	for name, svc := range *e.services.Load() {
		if set := svc.stable.set.Load(); set != nil {
			out[name] = set.Snapshot(nil)
		}
		if svc.canary != nil {
			if set := svc.canary.set.Load(); set != nil {
				out[name+" canary"] = set.Snapshot(nil)
			}
		}
	}
	return out
}

// RetryBudgets returns each service's retries and hedges against its
// budget.
func (e *Engine) RetryBudgets() map[string]balance.RetryBudgetStats {
	out := map[string]balance.RetryBudgetStats{}
	for name, svc := range *e.services.Load() {
		out[name] = svc.stable.retry.Stats()
	}
	return out
}
