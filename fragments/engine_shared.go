package fragments

import (
	"context"
	"log/slog"
	"time"

	"github.com/inlayhq/inlay/fragments/shared"
)

// SharedConfig configures the shared tier beneath the in-process cache: one
// Valkey or Redis server for every replica. The zero value means none.
type SharedConfig struct {
	// URL locates the server (redis://, rediss://). Empty means no shared
	// tier: the replica runs on its in-process cache alone.
	URL string
	// Timeout bounds each call to the server. Zero means
	// shared.DefaultTimeout.
	Timeout time.Duration
}

// configureShared makes a new client of the shared tier when its settings
// changed, and closes the old one. The caller holds e.mu.
func (e *Engine) configureShared(sc SharedConfig) {
	if sc == e.shared {
		return
	}
	e.shared = sc
	var st *shared.Store
	if sc.URL != "" {
		var err error
		st, err = shared.New(shared.Config{URL: sc.URL, Timeout: sc.Timeout, Logger: e.logger})
		if err != nil {
			// The config was validated; a URL that still fails to parse,
			// or a server that is a Redis Cluster (shared.ErrCluster,
			// refused by serve at start), leaves the replica on its
			// in-process tier.
			e.logger.Error("shared cache tier not started: running on the in-process tier alone", slog.String("error", err.Error()))
		}
	}
	if old := e.cache.SetShared(st); old != nil {
		// Calls in flight on the old client end within its deadline.
		old.Close()
	}
}

// SharedStatus reports whether a shared tier is configured, and whether it
// is connected and its breaker closed.
func (e *Engine) SharedStatus() (configured, healthy bool) {
	st := e.cache.Shared()
	if st == nil {
		return false, false
	}
	return true, st.Healthy()
}

// Purge drops every cached response tagged with one of tags; see
// [cache.Cache.Purge].
func (e *Engine) Purge(ctx context.Context, tags ...string) (int, error) {
	return e.cache.Purge(ctx, tags...)
}
