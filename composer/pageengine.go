package composer

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/inlayhq/inlay/composer/layout"
	"github.com/inlayhq/inlay/fragments"
	"github.com/inlayhq/inlay/fragments/fetch"
	"go.opentelemetry.io/otel/trace"
)

// pageEngine composes pages: it holds what every page needs, and a page
// brings its layout, its request and its deadline. It knows nothing of
// routes or of echo: the [Server] builds it with the fetch engine, the
// limits, an observer and the hooks below, and hands it the pages.
type pageEngine struct {
	fetch    *fragments.Engine
	observer Observer
	logger   *slog.Logger
	tracer   trace.Tracer // nil when tracing is off

	// writeIdle is how long a write to the shopper may stall.
	writeIdle time.Duration
	// earlyHints sends a 103 with the assets of cached boxes while the
	// primary is on its way.
	earlyHints bool

	// errorPage answers a request with the error page for status; d says
	// why, for dev mode, and may be nil.
	errorPage func(w http.ResponseWriter, r *http.Request, status int, d *errorDetail)
	// hasErrorPage reports whether a layout answers status, so that a
	// primary's 404 shows it instead of the page.
	hasErrorPage func(status int) bool
	// overlay, when not nil (dev mode), ends every page with the problems
	// overlay and the live-reload script.
	overlay func(st *stream)
	// watchLocal, when not nil (dev mode with a local service), is given
	// every fetch of a local service's fragment and its answer, to watch
	// it for changes.
	watchLocal func(*fetch.Request, *fetch.Response, error)

	degraded       logFolder    // folds the degraded-box log lines under load
	lastCookieWarn atomic.Int64 // unix nanoseconds of the last dropped-cookie warning
}

// primaryFailed answers a page whose primary fragment failed, with the
// status [failureStatus] gives; nothing when the shopper has left.
func (e *pageEngine) primaryFailed(w http.ResponseWriter, r *http.Request, requestID string, slot *layout.Slot, err error) {
	status := failureStatus(r, err)
	if status == statusClientClosed {
		return
	}
	e.observer.PrimaryFailed(slot.Src.Service.Name, status)
	e.logger.LogAttrs(r.Context(), slog.LevelError, "primary fragment failed",
		slog.String("request_id", requestID),
		slog.String("fragment", slot.ID),
		slog.String("service", slot.Src.Service.Name),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.String("error", fmt.Sprint(err)))
	e.errorPage(w, r, status, &errorDetail{Fragment: slot.ID, Service: slot.Src.Service.Name, Reason: fmt.Sprint(err)})
}

// droppedCookie counts a non-primary fragment's Set-Cookie that was kept
// from the shopper, with a warning at most every 10 seconds.
func (e *pageEngine) droppedCookie(ctx context.Context, requestID string, slot *layout.Slot) {
	e.observer.CookieDropped(slot.Src.Service.Name)
	now, last := time.Now().UnixNano(), e.lastCookieWarn.Load()
	if now-last < int64(10*time.Second) || !e.lastCookieWarn.CompareAndSwap(last, now) {
		return
	}
	e.logger.LogAttrs(ctx, slog.LevelWarn, "Set-Cookie from a non-primary fragment dropped (set_cookies is off for its service)",
		slog.String("request_id", requestID), slog.String("fragment", slot.ID), slog.String("service", slot.Src.Service.Name))
}
