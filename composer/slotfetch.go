package composer

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/inlayhq/inlay/fragments"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// freshHit fills o from the cache when it holds the slot's fragment fresh:
// the common case on a busy page, served without a goroutine or a fetch.
// With tracing on, every fragment takes the traced path instead.
func (pg *page) freshHit(slot *Slot, req *fragments.Request, o *outcome) bool {
	if pg.srv.cache == nil || pg.srv.tracer != nil {
		return false
	}
	req.Report = &o.report
	resp, ok := pg.srv.cache.Fresh(req)
	req.Report = nil
	if !ok || acceptable(slot, resp) != nil {
		return false
	}
	o.resp = resp
	pg.srv.observer.FragmentDone(slot.Src.Service.Name, slot.ID, "ok", false, 0)
	return true
}

// safeFetchSlot is fetchSlot with a panic in the fetch stack turned into
// that slot's failure: it runs on a goroutine of its own, where a panic
// would otherwise end the whole process.
func (pg *page) safeFetchSlot(ctx context.Context, slot *Slot, req *fragments.Request) (o outcome) {
	defer func() {
		if v := recover(); v != nil {
			err := fmt.Errorf("panic fetching fragment: %v", v)
			pg.srv.logger.LogAttrs(ctx, slog.LevelError, "panic fetching fragment",
				slog.String("request_id", pg.requestID), slog.String("fragment", slot.ID),
				slog.String("error", err.Error()), slog.String("stack", string(debug.Stack())))
			o = outcome{err: err}
		}
	}()
	if pg.srv.tracer != nil {
		var span trace.Span
		ctx, span = pg.srv.tracer.Start(ctx, "fragment "+slot.ID, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("inlay.fragment", slot.ID), attribute.String("inlay.service", slot.Src.Service.Name)))
		defer func() {
			span.SetAttributes(attribute.String("inlay.outcome", fragmentOutcome(&o)), attribute.String("inlay.cache", o.report.Cache.String()))
			if o.err != nil {
				span.SetStatus(codes.Error, o.err.Error())
			}
			span.End()
		}()
	}
	o = pg.fetchSlot(ctx, slot, req)
	pg.srv.observer.FragmentDone(slot.Src.Service.Name, slot.ID, fragmentOutcome(&o), o.fromFallback, o.duration)
	return o
}

// fetchSlot fetches a slot's src (req) and, if that fails, its fallback-src.
func (pg *page) fetchSlot(ctx context.Context, slot *Slot, req *fragments.Request) outcome {
	start := time.Now()
	var o outcome
	req.Report = &o.report
	resp, err := pg.send(ctx, req)
	if err == nil {
		err = acceptable(slot, resp)
	}
	if err == nil {
		o.resp, o.duration = resp, time.Since(start)
		if !slot.Primary && !slot.Src.Service.SetCookies && len(resp.Header["Set-Cookie"]) > 0 {
			pg.srv.droppedCookie(pg.r.Context(), pg.requestID, slot)
		}
		return o
	}
	o.err = err
	if slot.Fallback != nil && ctx.Err() == nil {
		fresp, ferr := pg.fetch(ctx, slot, slot.Fallback, 0, nil)
		if ferr == nil && (fresp.Status == http.StatusOK || fresp.Status == http.StatusNoContent) {
			o.resp, o.fromFallback = fresp, true
		}
	}
	o.duration = time.Since(start)
	pg.logDegraded(slot, &o)
	return o
}

func (pg *page) fetch(ctx context.Context, slot *Slot, src *Source, timeout time.Duration, report *fragments.Report) (*fragments.Response, error) {
	req := pg.request(slot, src, timeout)
	req.Report = report
	return pg.send(ctx, req)
}

// send fetches req through the server's fetch stack.
func (pg *page) send(ctx context.Context, req *fragments.Request) (*fragments.Response, error) {
	if pg.srv.tracer != nil {
		// The fragment's own span becomes the parent its service sees.
		propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(req.Headers()))
	}
	return pg.srv.fetcher.Fetch(ctx, req)
}

// request builds the fetch of src for a slot.
func (pg *page) request(slot *Slot, src *Source, timeout time.Duration) *fragments.Request {
	req := &fragments.Request{}
	pg.fillRequest(req, slot, src, timeout, nil)
	return req
}

// fillRequest fills req with the fetch of src for a slot, its header fields
// appended to fields (which may be a slice of a page-wide buffer).
func (pg *page) fillRequest(req *fragments.Request, slot *Slot, src *Source, timeout time.Duration, fields []fragments.Field) {
	if timeout == 0 {
		timeout = src.Service.FragmentTimeout()
	}
	*req = fragments.Request{
		ID:      slot.ID,
		Service: src.Service.Name,
		URL:     src.URL(pg.params.get),
		Fields:  fragmentFields(fields, pg.r, src.Service, &pg.context, slot),
		Timeout: timeout,
	}
}

// cached returns what the cache holds for src, or nil.
func (pg *page) cached(slot *Slot, src *Source) *fragments.Response {
	if pg.srv.cache == nil || src == nil {
		return nil
	}
	resp, _ := pg.srv.cache.Peek(pg.request(slot, src, 0))
	return resp
}

// placeholderContent is what an async box shows until its content comes:
// its fallback-src if the cache has it; else nil, for the inline fallback.
func (pg *page) placeholderContent(slot *Slot) *fragments.Response {
	if resp := pg.cached(slot, slot.Fallback); resp != nil && resp.Status == http.StatusOK {
		return resp
	}
	return nil
}

// acceptable says whether a response may fill the slot. The primary passes
// any status below 500 on to the page; other fragments need 200 or 204.
func acceptable(slot *Slot, resp *fragments.Response) error {
	if slot.Primary || resp.Status == http.StatusOK || resp.Status == http.StatusNoContent {
		return nil
	}
	return errStatus{resp.Status}
}

func (pg *page) logDegraded(slot *Slot, o *outcome) {
	shown := "inline"
	if o.fromFallback {
		shown = "fallback-src"
	}
	reason := "status"
	if k := fragments.KindOf(o.err); k != 0 {
		reason = k.String()
	}
	if reason == "canceled" {
		return // the shopper left: nothing degraded that anyone sees
	}
	pg.srv.stats.Degraded.Add(1)
	pg.srv.logger.LogAttrs(pg.r.Context(), slog.LevelWarn, "fragment degraded",
		slog.String("request_id", pg.requestID),
		slog.String("layout", pg.layout.Name),
		slog.String("fragment", slot.ID),
		slog.String("service", slot.Src.Service.Name),
		slog.String("reason", reason),
		slog.String("error", o.err.Error()),
		slog.String("shown", shown),
		slog.Bool("primary", slot.Primary),
		slog.Float64("duration_ms", durationMS(o.duration)),
		slog.String("cache", o.report.Cache.String()),
		slog.String("breaker", o.report.Breaker),
	)
}
