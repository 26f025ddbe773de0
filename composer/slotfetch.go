package composer

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"time"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/composer/layout"
	"github.com/inlayhq/inlay/fragments"
	"github.com/inlayhq/inlay/fragments/contract"
	"github.com/inlayhq/inlay/fragments/fetch"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// startSpan starts a slot's span when tracing is on. Its context is the
// parent the slot's requests name in their trace context, so it is made
// before they are built.
func (pg *page) startSpan(ctx context.Context, slot *layout.Slot) (context.Context, trace.Span) {
	if pg.eng.tracer == nil {
		return ctx, nil
	}
	return pg.eng.tracer.Start(ctx, "fragment "+slot.ID, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("inlay.fragment", slot.ID), attribute.String("inlay.service", slot.Src.Service.Name)))
}

// slotFetch is a slot's fetch, begun by the page's start.
type slotFetch struct {
	p     fragments.Pending
	ctx   context.Context // the page's, with the slot's span when tracing
	span  trace.Span
	start time.Time // when the page began the fetch; zero for one answered at once, and for none
}

// begun reports whether the page began the fetch and holds it to read.
func (sf *slotFetch) begun() bool { return !sf.start.IsZero() }

// since is how long the fetch has taken: zero for one answered at once.
func (sf *slotFetch) since() time.Duration {
	if sf.start.IsZero() {
		return 0
	}
	return time.Since(sf.start)
}

// safeFetchSlot is fetchSlot with a panic turned into that slot's failure:
// on a slot's own goroutine a panic would otherwise end the whole process,
// and on the page's the whole page. It ends the slot's span, if there is
// one.
func (pg *page) safeFetchSlot(slot *layout.Slot, sf *slotFetch) (o outcome) {
	defer func() {
		if v := recover(); v != nil {
			err := fmt.Errorf("panic fetching fragment: %v", v)
			pg.eng.logger.LogAttrs(sf.ctx, slog.LevelError, "panic fetching fragment",
				slog.String("request_id", pg.requestID), slog.String("fragment", slot.ID),
				slog.String("error", err.Error()), slog.String("stack", string(debug.Stack())))
			o = outcome{err: err}
		}
		if sf.span != nil {
			sf.span.SetAttributes(attribute.String("inlay.outcome", fragmentOutcome(&o)), attribute.String("inlay.cache", o.report.Cache.String()))
			if o.err != nil {
				sf.span.SetStatus(codes.Error, o.err.Error())
			}
			sf.span.End()
		}
	}()
	o = pg.fetchSlot(slot, sf)
	pg.eng.observer.FragmentDone(slot.Src.Service.Name, slot.ID, fragmentOutcome(&o), o.fromFallback, o.duration)
	return o
}

// fetchSlot reads the answer of a slot's src and, if that failed,
// fetches its fallback-src.
func (pg *page) fetchSlot(slot *layout.Slot, sf *slotFetch) outcome {
	var o outcome
	ctx, req := sf.ctx, sf.p.Request()
	resp, rep, err := sf.p.Wait()
	o.report = rep
	if pg.eng.watchLocal != nil && slot.Src.Service.Local {
		pg.eng.watchLocal(req, resp, err)
	}
	if err == nil {
		if err = acceptable(slot, resp); err != nil {
			resp.Release()
		}
	}
	if err == nil {
		o.resp, o.duration = resp, sf.since()
		o.quiet = sf.p.Quiet()
		if !slot.Primary && !slot.Src.Service.SetCookies && len(resp.Header["Set-Cookie"]) > 0 {
			pg.eng.droppedCookie(pg.r.Context(), pg.requestID, slot)
		}
		return o
	}
	o.err = err
	if slot.Fallback != nil && ctx.Err() == nil {
		freq := pg.request(ctx, slot, slot.Fallback, 0)
		fresp, ferr := pg.eng.fetch.Fetch(ctx, freq)
		if ferr == nil && contract.FillsBox(fresp.Status) {
			o.resp, o.fromFallback = fresp, true
		} else if ferr == nil {
			fresp.Release()
		}
	}
	o.duration = sf.since()
	pg.logDegraded(slot, &o)
	return o
}

// request builds the fetch of src for a slot, under ctx's span.
func (pg *page) request(ctx context.Context, slot *layout.Slot, src *layout.Source, timeout time.Duration) *fetch.Request {
	req := &fetch.Request{}
	pg.fillRequest(ctx, req, slot, src, timeout, nil, nil)
	return req
}

// fillRequest fills req with the fetch of src for a slot. Given the
// page's fields for src's service (see [pageFieldSets]), the request
// shares them and gets its own one field in own; without, it gets all of
// its fields in an array of its own. With tracing on, ctx holds the
// slot's span, which the request names as its parent. The request is
// complete once this returns: nothing changes it after, as the fetch
// layers read it from several goroutines.
func (pg *page) fillRequest(ctx context.Context, req *fetch.Request, slot *layout.Slot, src *layout.Source, timeout time.Duration, page []fetch.Field, own *[1]fetch.Field) {
	if timeout == 0 {
		timeout = src.Service.FragmentTimeout()
	}
	pc := &pg.context
	if pg.eng.tracer != nil {
		traced := pc.withSpan(ctx)
		pc = &traced
	}
	srcURL, key := src.URL(pg.params.get), src.Key()
	if pc.hostKeyed && src.Service.SendsContext() {
		// The fragment gets a base URL made from the shopper's Host: it
		// is part of the key, so that no Host reaches another shopper.
		key = src.HostKey(srcURL, pc.baseURL[0])
	}
	*req = fetch.Request{
		ID:       slot.ID,
		Service:  src.Service.Name,
		Endpoint: src.Endpoint(),
		URL:      srcURL,
		Key:      key,
		Timeout:  timeout,
		NoCache:  pg.noCache,
		Shopper:  pc.shopper,
	}
	if page != nil && own != nil {
		own[0] = slotField(slot)
		req.PageFields, req.Fields = page, own[:]
		return
	}
	var buf [fieldBuf]fetch.Field
	req.Fields = exactFields(fragmentFields(buf[:0], pg.r, src.Service, pc, slot))
}

// fieldBuf is the room on the stack in which a request's fields are made
// before they are copied to an array of their exact size: more than the
// defaults ever send. A service that forwards more headers still gets
// them all, only with an allocation more.
const fieldBuf = 16

// sharedFieldsRoom is the room in a page for its first service's shared
// fields: what the defaults send, at most (Accept, the two forwarded
// headers, the shopper's trace context, the request id and the page's
// path, route, base URL and parameters). A service that also gets
// cookies, a credential or the shopper's identity, or forwards more
// headers, may need more: its fields are then made in an array of their
// own.
const sharedFieldsRoom = 10

// exactFields copies fields made on the stack to an array of their size.
func exactFields(fields []fetch.Field) []fetch.Field { return slices.Clip(slices.Clone(fields)) }

// pageFieldSets are the fields a page's fetches share, made once per
// service for the first few services of the page: every field but the
// fragment id is the same for all of a page's fetches to one service.
// The first service's are made in the page's own room (page.sharedFields)
// when they fit, the others in an array each.
type pageFieldSets struct {
	n    int
	sets [4]struct {
		svc    *config.Service
		fields []fetch.Field
	}
}

// of returns the page's fields for svc, made on first use; nil when they
// cannot be shared: with tracing on, each fetch's trace context names
// its own span, and past the first four services the page's fetches
// make their fields one by one.
func (ps *pageFieldSets) of(pg *page, svc *config.Service) []fetch.Field {
	if pg.eng.tracer != nil {
		return nil
	}
	for i := range ps.n {
		if ps.sets[i].svc == svc {
			return ps.sets[i].fields
		}
	}
	if ps.n == len(ps.sets) {
		return nil
	}
	var fields []fetch.Field
	if ps.n == 0 {
		// Capped at their length, as exactFields's: a fetch's own field
		// is never appended into the room.
		fields = slices.Clip(pageFields(pg.sharedFields[:0], pg.r, svc, &pg.context))
	} else {
		var buf [fieldBuf]fetch.Field
		fields = exactFields(pageFields(buf[:0], pg.r, svc, &pg.context))
	}
	ps.sets[ps.n].svc, ps.sets[ps.n].fields = svc, fields
	ps.n++
	return ps.sets[ps.n-1].fields
}

// cached returns what the cache holds for src, or nil.
func (pg *page) cached(slot *layout.Slot, src *layout.Source) *fetch.Response {
	if src == nil {
		return nil
	}
	resp, _ := pg.eng.fetch.Peek(pg.request(pg.r.Context(), slot, src, 0))
	return resp
}

// placeholderContent is what an async box shows until its content comes:
// its fallback-src if the cache has it; else nil, for the inline fallback.
func (pg *page) placeholderContent(slot *layout.Slot) *fetch.Response {
	if resp := pg.cached(slot, slot.Fallback); resp != nil && resp.Status == http.StatusOK {
		return resp
	}
	return nil
}

// acceptable says whether a response may fill the slot. The primary passes
// any status below 500 on to the page; other fragments need 200 or 204.
func acceptable(slot *layout.Slot, resp *fetch.Response) error {
	if slot.Primary || contract.FillsBox(resp.Status) {
		return nil
	}
	return errStatus{resp.Status}
}

// logDegraded logs a degraded box, folded under load to one line per
// service and reason a second; the observer counts every box.
func (pg *page) logDegraded(slot *layout.Slot, o *outcome) {
	shown := o.shown()
	reason := failureReason(o.err)
	if reason == "canceled" {
		return // the shopper left: nothing degraded that anyone sees
	}
	ok, folded := pg.eng.degraded.allow(slot.Src.Service.Name+" "+reason, time.Now())
	if !ok {
		return
	}
	pg.eng.logger.LogAttrs(pg.r.Context(), slog.LevelWarn, "fragment degraded",
		slog.String("request_id", pg.requestID),
		slog.String("layout", pg.layout.Name),
		slog.String("fragment", slot.ID),
		slog.String("service", slot.Src.Service.Name),
		slog.String("reason", reason),
		slog.String("error", o.err.Error()),
		slog.String("shown", shown),
		slog.Bool("primary", slot.Primary),
		slog.Int64("duration_us", o.duration.Microseconds()),
		slog.String("cache", o.report.Cache.String()),
		slog.String("breaker", o.report.Breaker),
		slog.Int("folded", folded),
	)
}
