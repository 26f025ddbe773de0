package resolve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"
)

// DefaultEvery is how often a [Watch] looks its name up when
// [Options.Every] is zero: the config's resolve_every default.
const DefaultEvery = 5 * time.Second

// Options tune a [Watch].
type Options struct {
	// Resolver looks the name up. Nil means Go's resolver with the
	// system's usual sources, as [New] of a zero address makes it.
	Resolver Lookuper
	// Every is the time between two lookups, and the deadline of each.
	// Zero means [DefaultEvery].
	Every time.Duration
	// Logger gets one line when lookups start failing and one when they
	// answer again. Nil means slog.Default().
	Logger *slog.Logger
}

// Watch follows the addresses of one service's host name: it looks the
// name up at once, then every [Options.Every], and calls back with the
// instances, sorted, whenever they differ from the last ones reported.
// A lookup that fails, or answers no address, changes nothing: the last
// good list stays, the log says so once, and the next tick tries again.
type Watch struct {
	host, service string
	port          uint16
	every         time.Duration
	resolver      Lookuper
	log           *slog.Logger
	onChange      func([]string)

	cancel  context.CancelFunc
	done    chan struct{}
	stop    sync.Once
	failing bool // the last lookup failed; the run goroutine's own

	mu   sync.Mutex
	last []string
}

// NewWatch starts following target, a "host:port" (see [HostPort]).
// service names the team service in the log.
//
// onChange gets each new list of "ip:port" addresses, sorted by address
// and without duplicates, a slice of its own; it is called from one
// goroutine at a time, never after Stop has returned, and must not call
// Stop itself. The first list comes from the first lookup that answers.
//
// A host that is an IP literal is never looked up: onChange gets its one
// address before NewWatch returns, and no goroutine is started.
func NewWatch(service, target string, opts Options, onChange func([]string)) (*Watch, error) {
	host, portText, err := net.SplitHostPort(target)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", service, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 || host == "" {
		return nil, fmt.Errorf("resolve %s: %q is not host:port", service, target)
	}
	w := &Watch{
		host: host, service: service, port: uint16(port),
		every: opts.Every, resolver: opts.Resolver, log: opts.Logger,
		onChange: onChange, done: make(chan struct{}),
	}
	if w.every <= 0 {
		w.every = DefaultEvery
	}
	if w.resolver == nil {
		w.resolver = New(netip.AddrPort{})
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		w.cancel = func() {}
		close(w.done)
		w.report([]netip.Addr{ip})
		return w, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go w.run(ctx)
	return w, nil
}

// Endpoints returns the last list reported, nil before the first.
func (w *Watch) Endpoints() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.last)
}

// Stop ends the watch: a lookup under way is cancelled, and when Stop
// returns the watch's goroutine has done its last work and touches
// nothing more (it is exiting). Calling it again does nothing.
func (w *Watch) Stop() {
	w.stop.Do(w.cancel)
	<-w.done
}

func (w *Watch) run(ctx context.Context) {
	defer close(w.done)
	tick := time.NewTicker(w.every)
	defer tick.Stop()
	for {
		w.lookup(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// errNoAddress is a lookup that answered, but without an address.
var errNoAddress = errors.New("no address")

// lookup looks the name up once and reports what changed. A run of
// failures is logged once, as is the answer that ends it.
func (w *Watch) lookup(ctx context.Context) {
	lctx, cancel := context.WithTimeout(ctx, w.every)
	addrs, err := w.resolver.LookupNetIP(lctx, "ip", w.host)
	cancel()
	if ctx.Err() != nil {
		return // stopped
	}
	if err == nil && len(addrs) == 0 {
		err = errNoAddress
	}
	if err != nil {
		if !w.failing {
			w.failing = true
			w.log.Warn("looking up a service's name failed; its last addresses stay in use until it answers",
				slog.String("service", w.service), slog.String("host", w.host),
				slog.Int("addresses", len(w.Endpoints())), slog.String("error", err.Error()))
		}
		return
	}
	if w.failing {
		w.failing = false
		w.log.Info("a service's name answers again", slog.String("service", w.service), slog.String("host", w.host))
	}
	w.report(addrs)
}

// report sorts addrs into "ip:port" form and calls onChange when they
// differ from the last list.
func (w *Watch) report(addrs []netip.Addr) {
	ips := make([]netip.Addr, len(addrs))
	for i, a := range addrs {
		ips[i] = a.Unmap()
	}
	slices.SortFunc(ips, netip.Addr.Compare)
	ips = slices.Compact(ips)
	list := make([]string, len(ips))
	for i, ip := range ips {
		list[i] = netip.AddrPortFrom(ip, w.port).String()
	}
	w.mu.Lock()
	same := slices.Equal(list, w.last)
	if !same {
		w.last = list
	}
	w.mu.Unlock()
	if !same && w.onChange != nil {
		w.onChange(slices.Clone(list))
	}
}
