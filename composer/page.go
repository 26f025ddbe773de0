package composer

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/inlayhq/inlay/fragments"
)

// page composes one layout for one shopper request.
type page struct {
	srv       *Server
	layout    *Layout
	r         *http.Request
	requestID string
	params    params
	// inOrder streams async fragments in document order too: for
	// crawlers, and for pages configured so.
	inOrder bool
	// debug shows the debug view: every box outlined and labelled.
	debug   bool
	context pageContext
	// started is when the request arrived; headerAt when its headers left.
	started, headerAt time.Time
	// trace is the page's span context holder when tracing is on, for
	// propagating trace context to fragments; nil otherwise.
	trace context.Context

	outcomes []outcome
	done     []chan struct{} // done[i] is closed when outcomes[i] is set
}

// outcome is what one slot will show.
type outcome struct {
	// resp is the response whose body fills the slot: from the src, or from
	// fallback-src when fromFallback. Nil means the inline fallback.
	resp         *fragments.Response
	fromFallback bool
	// err is why the src failed, if it did.
	err      error
	duration time.Duration
	// report is what the fetch layers said about the src fetch.
	report fragments.Report
}

// errStatus is the failure of a fragment whose status cannot fill its slot.
type errStatus struct{ status int }

func (e errStatus) Error() string { return fmt.Sprintf("status %d", e.status) }

// params looks up {name} values: route parameters first, then the query.
// It is read by all of a page's fetches at once, so it is filled before
// they start and never written after.
type params struct {
	names, values []string
	query         url.Values
}

func newParams(names, values []string, r *http.Request, l *Layout) params {
	p := params{names: names, values: values}
	if l.usesParams && r.URL.RawQuery != "" {
		p.query = r.URL.Query()
	}
	return p
}

func (p *params) get(name string) string {
	for i, n := range p.names {
		if n == name {
			return p.values[i]
		}
	}
	return p.query.Get(name)
}

// compose fetches every slot at once and streams the page.
func (pg *page) compose(w http.ResponseWriter, pageTimeout time.Duration) {
	ctx, cancel := context.WithTimeout(pg.r.Context(), pageTimeout)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()

	l := pg.layout
	n := len(l.Slots)
	pg.outcomes = make([]outcome, n)
	pg.done = make([]chan struct{}, n)
	var asyncDone chan int // indexes of async slots as they finish
	if l.async > 0 && !pg.inOrder {
		asyncDone = make(chan int, l.async)
	}
	head := pg.r.Method == http.MethodHead
	// One allocation for every slot's request and header fields.
	reqs := make([]fragments.Request, n)
	fields := make([]fragments.Field, 0, l.maxFields)
	for i, slot := range l.Slots {
		if head && !slot.Primary {
			pg.done[i] = closedChan // a HEAD needs the primary's status, not the boxes
			continue
		}
		req := &reqs[i]
		pg.fillRequest(req, slot, slot.Src, slot.Timeout, fields[len(fields):len(fields):cap(fields)])
		if end := len(fields) + len(req.Fields); end <= cap(fields) {
			fields = fields[:end]
		}
		if pg.freshHit(slot, req, &pg.outcomes[i]) {
			pg.done[i] = closedChan
			continue
		}
		pg.done[i] = make(chan struct{})
		wg.Go(func() {
			pg.outcomes[i] = pg.safeFetchSlot(ctx, slot, req)
			close(pg.done[i])
			if slot.Async && asyncDone != nil {
				asyncDone <- i
			}
		})
	}

	status := http.StatusOK
	h := w.Header()
	if p := l.Primary; p >= 0 {
		pg.earlyHints(w)
		<-pg.done[p]
		o := &pg.outcomes[p]
		if o.resp == nil {
			pg.headerAt = time.Now()
			pg.srv.primaryFailed(w, pg.r, pg.requestID, l.Slots[p], o.err)
			return
		}
		status = o.resp.Status
		if !o.fromFallback {
			if ok := primaryHeaders(h, pg.r, o.resp); !ok {
				pg.headerAt = time.Now()
				pg.srv.primaryFailed(w, pg.r, pg.requestID, l.Slots[p], errors.New("invalid Location header"))
				return
			}
		} else {
			status = http.StatusOK
		}
		if status >= 300 && status < 400 {
			pg.headerAt = time.Now()
			w.WriteHeader(status)
			return
		}
	}
	pg.passCookies(h)
	// Shared, capacity-capped values: a later Add copies, never writes them.
	h["Content-Type"] = htmlContentType
	h["Cache-Control"] = privateNoCache
	if timing := pg.serverTiming(); timing != "" {
		h["Server-Timing"] = []string{timing}
	}
	if pg.debug {
		h.Set("Cache-Control", "no-store")
	}
	pg.srv.stats.Pages.Add(1)
	if head {
		pg.headerAt = time.Now()
		w.WriteHeader(status)
		return
	}
	whole := pg.allDone()
	s := newStream(w, pg.srv.writeIdle, whole)
	defer s.release()
	s.debug = pg.debug
	if asyncDone != nil && !whole {
		s.nonce = newNonce()
		h.Set("Content-Security-Policy", "script-src 'self' 'nonce-"+s.nonce+"'; object-src 'none'; base-uri 'self'")
	}
	if !whole {
		pg.headerAt = time.Now()
		w.WriteHeader(status)
	}

	// state[i] tracks async slots: 0 not reached yet, placeholderShown
	// while its content is to follow, contentShown once it is on the page.
	state := make([]uint8, n)
	pending := 0
	showAsync := func(j int) {
		if state[j] == placeholderShown {
			s.asyncContent(j, l.Slots[j], &pg.outcomes[j])
			state[j] = contentShown
			pending--
		}
	}
	for i, slot := range l.Slots {
		s.write(l.chunks[i])
		if slot.Async && asyncDone != nil && !isDone(pg.done[i]) {
			s.placeholder(i, slot, pg.placeholderContent(slot))
			state[i] = placeholderShown
			pending++
			continue
		}
		for !isDone(pg.done[i]) {
			s.flush() // the next slot is not ready: let the shopper have what we have
			select {
			case <-pg.done[i]:
			case j := <-asyncDone:
				showAsync(j) // an earlier async box answered first
			}
			s.extendDeadline() // the wait was ours, not the shopper's
		}
		s.slot(slot, &pg.outcomes[i])
		state[i] = contentShown
		if s.err != nil {
			return // the shopper went away
		}
	}
	last := l.chunks[n]
	s.write(last[:l.tailAt])
	for pending > 0 && s.err == nil {
		s.flush()
		j := <-asyncDone
		s.extendDeadline()
		showAsync(j)
	}
	if pg.srv.cfg.Dev {
		pg.srv.writeOverlay(s)
	}
	s.write(last[l.tailAt:])
	if !whole {
		s.end()
		return
	}
	h["Content-Length"] = []string{strconv.Itoa(s.held.Len())}
	pg.headerAt = time.Now()
	w.WriteHeader(status)
	_, _ = w.Write(s.held.Bytes())
}

// allDone reports whether every slot's outcome is known.
func (pg *page) allDone() bool {
	for _, d := range pg.done {
		if !isDone(d) {
			return false
		}
	}
	return true
}

// Header values every page sends.
var (
	htmlContentType = []string{"text/html; charset=utf-8"}[:1:1]
	privateNoCache  = []string{"private, no-cache"}[:1:1]
)

// closedChan is the done channel of slots known before any goroutine runs.
var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

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

// States of an async slot on the page.
const (
	placeholderShown = 1 + iota
	contentShown
)

func isDone(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// passCookies adds the Set-Cookie headers of fragments whose services may
// set cookies and which answered before the headers leave.
func (pg *page) passCookies(h http.Header) {
	for i, slot := range pg.layout.Slots {
		if slot.Primary || !slot.Src.Service.SetCookies || !isDone(pg.done[i]) {
			continue
		}
		if o := &pg.outcomes[i]; o.resp != nil && !o.fromFallback {
			h["Set-Cookie"] = append(h["Set-Cookie"], o.resp.Header["Set-Cookie"]...)
		}
	}
}

// serverTiming describes every fragment that finished before the headers
// leave: its duration, cache result and breaker state.
func (pg *page) serverTiming() string {
	var b strings.Builder
	b.Grow(48 * len(pg.layout.Slots))
	for i, slot := range pg.layout.Slots {
		select {
		case <-pg.done[i]:
		default:
			continue
		}
		o := &pg.outcomes[i]
		if o.resp == nil && o.err == nil {
			continue // not fetched: a HEAD request
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(slot.ID)
		b.WriteString(";dur=")
		b.WriteString(strconv.FormatFloat(float64(o.duration.Microseconds())/1000, 'f', -1, 64))
		b.WriteString(`;desc="`)
		b.WriteString(o.report.Cache.String())
		if o.report.Breaker != "" {
			b.WriteByte(' ')
			b.WriteString(o.report.Breaker)
		}
		if o.err != nil {
			b.WriteString(" degraded")
		}
		b.WriteByte('"')
	}
	return b.String()
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

// earlyHints sends a 103 announcing the stylesheets of the page's cached
// fragments while the primary is still being fetched, so the browser
// loads them meanwhile.
func (pg *page) earlyHints(w http.ResponseWriter) {
	if !pg.srv.cfg.EarlyHintsEnabled() || pg.srv.cache == nil || isDone(pg.done[pg.layout.Primary]) {
		return
	}
	h := w.Header()
	var seen []string
	for _, slot := range pg.layout.Slots {
		resp := pg.cached(slot, slot.Src)
		if resp == nil {
			continue
		}
		for _, a := range resp.Assets {
			if a.Kind == fragments.Stylesheet && !slices.Contains(seen, a.URL) {
				seen = append(seen, a.URL)
				h.Add("Link", "<"+a.URL+">; rel=preload; as=style")
			}
		}
	}
	if len(seen) == 0 {
		return
	}
	// Past echo's Response, which would take a 1xx for the final status.
	if u, ok := w.(interface{ Unwrap() http.ResponseWriter }); ok {
		w = u.Unwrap()
	}
	w.WriteHeader(http.StatusEarlyHints)
	h.Del("Link") // the final response announces the primary's own
}

// newNonce returns a fresh CSP nonce.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawStdEncoding.EncodeToString(b[:])
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
		slog.Duration("duration", o.duration),
		slog.String("cache", o.report.Cache.String()),
		slog.String("breaker", o.report.Breaker),
	)
}

// primaryHeaders copies what the primary fragment may say about the page:
// its redirect target and its cookies. It reports false when the Location
// is not a safe, same-site target.
func primaryHeaders(h http.Header, r *http.Request, resp *fragments.Response) bool {
	if resp.Status >= 300 && resp.Status < 400 {
		loc := resp.Header.Get("Location")
		if !safeLocation(loc, r.Host) {
			return false
		}
		h.Set("Location", loc)
	}
	if cookies := resp.Header["Set-Cookie"]; len(cookies) > 0 {
		h["Set-Cookie"] = cookies
	}
	for _, a := range resp.Assets {
		h.Add("Link", preloadLink(a))
	}
	return true
}

// preloadLink announces an asset in a Link header so the browser fetches
// it before it meets the tag.
func preloadLink(a fragments.Asset) string {
	switch a.Kind {
	case fragments.ModuleScript:
		return "<" + a.URL + ">; rel=modulepreload"
	case fragments.Script:
		return "<" + a.URL + ">; rel=preload; as=script"
	}
	return "<" + a.URL + ">; rel=preload; as=style"
}

// safeLocation accepts a local path, or an absolute http(s) URL on the
// page's own host, with no control characters.
func safeLocation(loc, host string) bool {
	if loc == "" || strings.ContainsAny(loc, "\r\n\x00\\") {
		return false
	}
	if strings.HasPrefix(loc, "/") {
		return !strings.HasPrefix(loc, "//")
	}
	u, err := url.Parse(loc)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.User == nil && strings.EqualFold(u.Host, host)
}
