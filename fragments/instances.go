package fragments

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inlayhq/inlay/fragments/balance"
	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/guard"
	"github.com/inlayhq/inlay/fragments/resolve"
	"github.com/inlayhq/inlay/fragments/transport"
)

// group is one version of a team service, its stable one or its canary:
// its instances, the choice among them for each fetch, and its retry
// budget. Each instance has its own connection pools.
//
// The addresses come from the group's URLs: an IP literal is one
// instance; a name is looked up again every resolve_every, and each of
// its addresses is an instance. Until a name has answered once (or when
// the engine carries every request over a RoundTripper of its own), the
// group has no instance set and dials the URL's host as given.
type group struct {
	e     *Engine
	name  string // the service's name, for logs and metrics
	key   groupKey
	retry *balance.RetryBudget
	// maxConns caps each instance's connections: the service's
	// concurrency limit when the group was made. A reload that changes
	// only the limit keeps the group and its connections.
	maxConns int

	fallback *instance                            // dials the URLs' host as given; used while no address is known
	only     atomic.Pointer[instance]             // the one instance, while the group has one: no choice to make
	set      atomic.Pointer[balance.Set]          // nil while no address is known
	insts    atomic.Pointer[map[string]*instance] // by address, replaced whole on change

	mu       sync.Mutex // serializes address changes
	lists    [][]string // each watched URL's last addresses
	starting bool       // the group is being made: addresses are only noted
	watches  []*resolve.Watch
	closed   bool
}

// groupKey is what a group's connections and choices are made from: a
// reload that changes none of it keeps the group as it is.
type groupKey struct {
	urls, scheme string
	h2c          bool
	maxBody      int64
	maxAge       time.Duration
	fadeIn       time.Duration
	resolveEvery time.Duration
	resolver     netip.AddrPort
	retryRatio   float64
	hedge        bool
}

// minInstanceRequests is how many fetches an instance, and its siblings
// together, must have had within the window before their failure rates
// are compared: an instance answering only errors draws few fetches (its
// failures weigh as slow answers), and is still ejected within seconds.
const minInstanceRequests = 10

// instance is one running copy of a service, at one address.
type instance struct {
	addr string // ip:port; empty for the fallback, which dials the URL's host
	frag transport.Transport
	gate *transport.Pool
}

func (in *instance) retire() {
	in.frag.Retire()
	in.gate.Retire()
}

// groupKeyOf is the key of the group newGroup would make.
func groupKeyOf(urls []*url.URL, sc ServiceConfig, settings Settings) groupKey {
	k := groupKey{
		h2c: sc.H2C, maxBody: settings.MaxBodyBytes, maxAge: sc.MaxConnAge, fadeIn: sc.FadeIn,
		resolveEvery: sc.ResolveEvery, resolver: settings.Resolver, retryRatio: sc.RetryBudget, hedge: sc.Hedge,
	}
	var names []string
	for _, u := range urls {
		names = append(names, u.String())
	}
	k.urls = strings.Join(names, " ")
	if len(urls) > 0 {
		k.scheme = urls[0].Scheme
	}
	return k
}

// newGroup makes the group of urls (the service's own, or its canary's)
// and starts following their addresses.
func (e *Engine) newGroup(name string, urls []*url.URL, sc ServiceConfig, settings Settings) *group {
	k := groupKeyOf(urls, sc, settings)
	g := &group{e: e, name: name, key: k, lists: make([][]string, len(urls)), maxConns: cmp.Or(sc.Guard.MaxConcurrent, guard.DefaultMaxConcurrent)}
	g.retry = balance.NewRetryBudget(balance.RetryBudgetConfig{Ratio: sc.RetryBudget})
	var first *url.URL
	if len(urls) > 0 {
		first = urls[0]
	}
	g.fallback = g.newInstance(first, "")
	g.insts.Store(&map[string]*instance{})
	if e.opts.Transport != nil || e.opts.Dial != nil && e.opts.Lookup == nil {
		// The engine's own RoundTripper carries every request, or its
		// own dial decides where each connection goes: no name is
		// looked up, and IP literals only are instances of their own.
		g.mu.Lock()
		for i, u := range urls {
			if _, err := netip.ParseAddr(u.Hostname()); err == nil && e.opts.Transport == nil {
				g.lists[i] = []string{resolve.HostPort(u)}
			}
		}
		g.apply()
		g.mu.Unlock()
		return g
	}
	// IP literals are reported while their watch is made: taken together
	// once all are, so that none is eased in.
	g.starting = true
	opts := resolve.Options{Every: sc.ResolveEvery, Logger: e.logger, Resolver: e.opts.Lookup}
	if opts.Resolver == nil && settings.Resolver.IsValid() {
		opts.Resolver = resolve.New(settings.Resolver)
	}
	for i, u := range urls {
		w, err := resolve.NewWatch(name, resolve.HostPort(u), opts, func(addrs []string) { g.update(i, addrs) })
		if err != nil {
			e.logger.Warn("service instances not followed: dialling its host as given",
				slog.String("service", name), slog.String("error", err.Error()))
			continue
		}
		g.watches = append(g.watches, w)
	}
	g.mu.Lock()
	g.starting = false
	g.apply()
	g.mu.Unlock()
	return g
}

// newInstance makes the pools of one instance at addr (empty: the URL's
// host as given).
func (g *group) newInstance(u *url.URL, addr string) *instance {
	k, e := g.key, g.e
	tc := transport.Config{
		URL: u, H2C: k.h2c, MaxConns: g.maxConns, MaxBodyBytes: k.maxBody, Budget: e.budget,
		RoundTripper: e.opts.Transport, Dial: e.opts.Dial, Addr: addr, MaxConnAge: k.maxAge,
	}
	return &instance{addr: addr, frag: transport.New(tc), gate: transport.NewPool(tc)}
}

// update takes the addresses of the group's i-th URL after a lookup.
func (g *group) update(i int, addrs []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	g.lists[i] = addrs
	if g.starting {
		return // the group's first addresses are taken together, at full weight
	}
	g.apply()
}

// apply makes the union of the group's lists its instances. The caller
// holds g.mu.
func (g *group) apply() {
	var all []string
	for _, l := range g.lists {
		all = append(all, l...)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	if len(all) == 0 {
		return
	}
	old := *g.insts.Load()
	next := maps.Clone(old)
	for _, a := range all {
		if next[a] == nil {
			next[a] = g.newInstance(g.fallbackURL(), a)
		}
	}
	g.insts.Store(&next)
	if len(all) == 1 {
		g.only.Store(next[all[0]])
	} else {
		g.only.Store(nil)
	}
	set := g.set.Load()
	if set == nil {
		s, err := balance.NewSet(all, balance.Config{FadeIn: g.key.fadeIn, MinRequests: minInstanceRequests, OnDrained: g.drained, Logger: g.e.logger})
		if err != nil {
			g.e.logger.Warn("service instances refused", slog.String("service", g.name), slog.String("error", err.Error()))
			return
		}
		g.set.Store(s)
		return
	}
	if err := set.Update(all); err != nil {
		g.e.logger.Warn("service instances refused", slog.String("service", g.name), slog.String("error", err.Error()))
	}
}

// fallbackURL is the URL the instances' requests are made for.
func (g *group) fallbackURL() *url.URL {
	if u, err := url.Parse(strings.Fields(g.key.urls + " ")[0]); err == nil {
		return u
	}
	return nil
}

// drained closes the pools of an instance that left the group once its
// last fetch has ended.
func (g *group) drained(ep *balance.Endpoint) {
	g.mu.Lock()
	defer g.mu.Unlock()
	old := *g.insts.Load()
	in := old[ep.Addr()]
	if in == nil {
		return
	}
	if set := g.set.Load(); set != nil && slices.ContainsFunc(set.Snapshot(nil), func(st balance.EndpointStats) bool {
		return st.Addr == ep.Addr() && !st.Draining
	}) {
		return // back again, as a new endpoint of the set
	}
	next := maps.Clone(old)
	delete(next, ep.Addr())
	g.insts.Store(&next)
	in.retire()
}

// close stops following the group's addresses and closes every pool once
// its requests have ended.
func (g *group) close() {
	g.mu.Lock()
	g.closed = true
	watches := g.watches
	g.mu.Unlock()
	for _, w := range watches {
		w.Stop()
	}
	g.fallback.retire()
	for _, in := range *g.insts.Load() {
		in.retire()
	}
}

// pick chooses the instance of a fetch, never not (a retry or a hedge
// goes elsewhere). ep is the set's endpoint, which the caller ends with
// Done; nil for the fallback. A retry or hedge that finds no other
// instance gets nil.
func (g *group) pick(not *balance.Endpoint) (*instance, *balance.Endpoint) {
	if in := g.only.Load(); in != nil {
		if not != nil {
			return nil, nil
		}
		return in, nil
	}
	set := g.set.Load()
	if set == nil {
		if not != nil {
			return nil, nil
		}
		return g.fallback, nil
	}
	var ep *balance.Endpoint
	var ok bool
	if not == nil {
		ep, ok = set.Pick()
	} else {
		ep, ok = set.PickOther(not)
	}
	switch {
	case !ok && not != nil:
		return nil, nil
	case !ok:
		return g.fallback, nil
	}
	if in := (*g.insts.Load())[ep.Addr()]; in != nil {
		return in, ep
	}
	ep.Done(0, balance.Canceled)
	if not != nil {
		return nil, nil
	}
	return g.fallback, nil
}

// several reports whether the group has more than one instance: then the
// debug view and Server-Timing name the one that answered.
func (g *group) several() bool {
	if g.only.Load() != nil {
		return false
	}
	set := g.set.Load()
	return set != nil && set.Len() > 1
}

// outcomeOf is how a fetch's error weighs on the instance that answered.
func outcomeOf(err error) balance.Outcome {
	switch fetch.KindOf(err) {
	case 0:
		return balance.Success
	case fetch.KindConnect:
		return balance.ConnFailure
	case fetch.KindTimeout, fetch.KindBody:
		return balance.Failure
	case fetch.KindStatus:
		if fe, ok := errors.AsType[*fetch.Error](err); ok && fe.Status >= http.StatusInternalServerError {
			return balance.Failure
		}
		return balance.Success
	case fetch.KindCanceled, fetch.KindPanic, fetch.KindBreakerOpen, fetch.KindOverflow:
		return balance.Canceled
	}
	return balance.Success // an answer that breaks the contract: the instance is up
}

// retryable reports whether a failed fetch may be sent once more, to
// another instance: it failed before any byte of the answer came (the
// connection was refused, reset, or a kept-alive one closed), and its
// caller still waits.
func retryable(ctx context.Context, err error) bool {
	return fetch.KindOf(err) == fetch.KindConnect && ctx.Err() == nil
}

// fetch sends req to one of the group's instances, and once more to
// another when the first fails before answering and the retry budget
// allows; with hedging on, a second request races the first once it is
// slower than the service's recent p95.
func (g *group) fetch(ctx context.Context, req *fetch.Request) (*fetch.Response, error) {
	if in := g.only.Load(); in != nil {
		return in.frag.Fetch(ctx, req) // one instance: nothing to choose, nowhere to retry
	}
	g.retry.Deposit()
	if g.key.hedge {
		if set := g.set.Load(); set != nil && set.Len() > 1 {
			if p95 := set.P95(); p95 > 0 {
				return g.hedged(ctx, req, p95)
			}
		}
	}
	in, ep := g.pick(nil)
	if ep == nil {
		return in.frag.Fetch(ctx, req) // no address known yet: the host as given
	}
	start := time.Now()
	resp, err := in.frag.Fetch(ctx, req)
	g.done(in, ep, start, resp, err)
	if retryable(ctx, err) {
		return g.again(ctx, req, ep, start, resp, err)
	}
	return resp, err
}

// done ends a fetch at an instance: the set learns its latency and
// outcome, and the response is marked with the instance when the group
// has several.
func (g *group) done(in *instance, ep *balance.Endpoint, start time.Time, resp *fetch.Response, err error) {
	if ep != nil {
		ep.Done(time.Since(start), outcomeOf(err))
	}
	g.mark(in, resp)
}

// mark names on resp the instance that answered, when the group has
// several.
func (g *group) mark(in *instance, resp *fetch.Response) {
	if resp != nil && in.addr != "" && g.several() {
		resp.Instance = in.addr
	}
}

// again sends req once more, to an instance other than not, within what
// is left of its timeout since asked, when the retry budget allows: the
// first answer stands otherwise.
func (g *group) again(ctx context.Context, req *fetch.Request, not *balance.Endpoint, asked time.Time, resp *fetch.Response, err error) (*fetch.Response, error) {
	left, lerr := req.Remaining(asked)
	if lerr != nil || !g.retry.Withdraw() {
		return resp, err
	}
	in, ep := g.pick(not)
	if in == nil {
		return resp, err
	}
	g.e.stats.Retries.Add(1)
	start := time.Now()
	resp, err = in.frag.Fetch(ctx, left)
	g.done(in, ep, start, resp, err)
	return resp, err
}

// hedged sends req to one instance and, should it not have answered by
// the service's recent p95 and the retry budget allow, to a second: the
// first success wins, the other is cancelled ("The Tail at Scale", Dean
// and Barroso).
func (g *group) hedged(ctx context.Context, req *fetch.Request, p95 time.Duration) (*fetch.Response, error) {
	type answer struct {
		in   *instance
		ep   *balance.Endpoint
		resp *fetch.Response
		err  error
	}
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	answers := make(chan answer, 2)
	send := func(in *instance, ep *balance.Endpoint) {
		go func() {
			start := time.Now()
			resp, err := in.frag.Fetch(hctx, req)
			if fetch.KindOf(err) == fetch.KindCanceled && ctx.Err() == nil {
				ep.Done(time.Since(start), balance.Canceled) // the race's loser
			} else {
				g.done(in, ep, start, resp, err)
			}
			answers <- answer{in, ep, resp, err}
		}()
	}
	in, ep := g.pick(nil)
	send(in, ep)
	out := 1
	timer := time.NewTimer(p95)
	defer timer.Stop()
	var got answer
	select {
	case got = <-answers:
		out--
	case <-timer.C:
		if g.retry.Withdraw() {
			if in2, ep2 := g.pick(ep); in2 != nil {
				g.e.stats.Hedges.Add(1)
				send(in2, ep2)
				out++
			}
		}
		got = <-answers
		out--
	}
	if got.err != nil && out > 0 {
		got = <-answers // the other one may yet answer
		out--
	}
	if out > 0 {
		cancel()
		go func() { (<-answers).resp.Release() }()
	}
	return got.resp, got.err
}

// gatewayRoundTrip sends a gateway request to one of the group's
// instances, and returns how it went for the instance too.
func (g *group) gatewayRoundTrip(r *http.Request) (*http.Response, balance.Outcome, error) {
	in, ep := g.pick(nil)
	start := time.Now()
	resp, err := in.gate.RoundTrip(r)
	o := balance.Success
	switch {
	case err != nil && r.Context().Err() != nil:
		o = balance.Canceled
	case err != nil:
		o = balance.ConnFailure
	case resp.StatusCode >= http.StatusInternalServerError:
		o = balance.Failure
	}
	if ep != nil {
		ep.Done(time.Since(start), o)
	}
	return resp, o, err
}
