package resolve_test

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
)

// stubLookuper answers lookups from memory, for tests in a synctest
// bubble, where real sockets would keep fake time from moving.
type stubLookuper struct {
	mu    sync.Mutex
	addrs []netip.Addr
	err   error
	block bool // hold each lookup until its context ends
	calls int
}

func (l *stubLookuper) LookupNetIP(ctx context.Context, _, _ string) ([]netip.Addr, error) {
	l.mu.Lock()
	l.calls++
	addrs, err, block := l.addrs, l.err, l.block
	l.mu.Unlock()
	if block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return addrs, err
}

func (l *stubLookuper) set(err error, ips ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.err, l.addrs = err, nil
	for _, ip := range ips {
		l.addrs = append(l.addrs, netip.MustParseAddr(ip))
	}
}

func (l *stubLookuper) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}

// logRecords is a slog handler that keeps every record, and signals each.
type logRecords struct {
	mu      sync.Mutex
	records []slog.Record
	added   chan struct{}
}

func newLogRecords() *logRecords { return &logRecords{added: make(chan struct{}, 100)} }

func (h *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecords) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logRecords) WithGroup(string) slog.Handler            { return h }
func (h *logRecords) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.records = append(h.records, r.Clone())
	h.mu.Unlock()
	select {
	case h.added <- struct{}{}:
	default:
	}
	return nil
}

// levels returns the level of each record, in order.
func (h *logRecords) levels() []slog.Level {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ls []slog.Level
	for _, r := range h.records {
		ls = append(ls, r.Level)
	}
	return ls
}

// reports collects what a watch calls back with.
type reports struct {
	mu    sync.Mutex
	lists [][]string
	ch    chan []string
}

func newReports() *reports { return &reports{ch: make(chan []string, 100)} }

func (r *reports) add(list []string) {
	r.mu.Lock()
	r.lists = append(r.lists, list)
	r.mu.Unlock()
	r.ch <- list
}

func (r *reports) all() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]string(nil), r.lists...)
}
