package composer

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/inlayhq/inlay/composer/auth"
	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/composer/layout"
	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// echoRoute turns /product/{sku} into echo's /product/:sku.
func echoRoute(path string) string {
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			segs[i] = ":" + seg[1:len(seg)-1]
		}
	}
	return strings.Join(segs, "/")
}

func (s *Server) pageHandler(p *config.Page) echo.HandlerFunc {
	timeout := s.cfg.PageDeadline(p)
	return func(c echo.Context) error {
		lay := s.layouts.Get(p.Layout)
		if lay == nil {
			return fmt.Errorf("page %s: layout %q is not loaded", p.Path, p.Layout)
		}
		if r := c.Request(); r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
			s.refuseBody(c)
			return nil
		}
		started := time.Now()
		var identity *auth.Identity
		if s.auth != nil {
			var handled bool
			if identity, handled = s.pageIdentity(c, p, started); handled {
				return nil
			}
		}
		pg := s.newPage(c, p, lay, identity, started)
		if s.tracer != nil {
			defer s.tracePage(pg, p.Path).End()
		}
		pg.compose(c.Response(), timeout)
		s.pageDone(pg, p.Path, c.Response().Status)
		recycle(pg)
		return nil
	}
}

// refuseBody answers a page request that says it has a body: a page
// request has none. It is refused and its connection closed: with both
// Transfer-Encoding and Content-Length it may be an attempt at request
// smuggling.
func (s *Server) refuseBody(c echo.Context) {
	c.Response().Header().Set("Connection", "close")
	s.renderError(c.Response(), c.Request(), http.StatusBadRequest)
}

// newPage makes the page for one request. It is its own function, and
// tracePage its own, so that the handler's frame, which stays on the
// stack under the whole page, holds neither the page's parts nor the
// tracer's arguments (see "Stack budget" in the package doc).
func (s *Server) newPage(c echo.Context, p *config.Page, lay *layout.Layout, identity *auth.Identity, started time.Time) *page {
	r := c.Request()
	names, values := c.ParamNames(), unescapeParams(r, c.ParamValues())
	requestID := r.Header.Get(HeaderRequestID) // set by requestIDMiddleware
	debug, cookie := s.debugRequested(r)
	if cookie != nil {
		c.Response().Header().Add("Set-Cookie", cookie.String())
	}
	pg := pagePool.Get().(*page) // its slots and fetches cleared, kept for start to reuse
	*pg = page{
		slots:     pg.slots,
		fetches:   pg.fetches,
		eng:       s.pages,
		layout:    lay,
		r:         r,
		requestID: requestID,
		params:    newParams(names, values, r, lay),
		inOrder:   p.InOrder || lay.AsyncSlots() > 0 && isCrawler(r.UserAgent()), // the regexp only where it matters
		debug:     debug,
		noCache:   s.cfg.Dev && requestNoCache(r),
		started:   started,
	}
	pg.context = newPageContext(&pg.contextVals, r, requestID, p.Path, names, values, s.cfg.PublicURL)
	pg.context.identity = identity
	pg.context.shopper = s.shopperID(c.Response().Header(), r, identity)
	pg.inOrder = pg.inOrder || pg.debug
	s.observer.PageStarted(p.Path)
	return pg
}

// tracePage starts the page's server span, from the shopper's trace
// context if it sent one, and gives the page the span's context.
func (s *Server) tracePage(pg *page, route string) trace.Span {
	ctx := propagation.TraceContext{}.Extract(pg.r.Context(), propagation.HeaderCarrier(pg.r.Header))
	ctx, span := s.tracer.Start(ctx, "page "+route, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.route", route), attribute.String("inlay.request_id", pg.requestID)))
	pg.r = pg.r.WithContext(ctx)
	return span
}

// pageDone reports a finished page to the observer and the access log.
func (s *Server) pageDone(pg *page, route string, status int) {
	now := time.Now()
	total := now.Sub(pg.started)
	var ttfb time.Duration
	if !pg.headerAt.IsZero() {
		ttfb = pg.headerAt.Sub(pg.started)
	}
	degraded := 0
	for i := range pg.slots {
		if pg.slots[i].out.err != nil {
			degraded++
		}
	}
	s.observer.PageDone(route, status, total, ttfb, degraded)
	if s.accessLog {
		s.logPage(pg, route, status, now, total, ttfb, degraded > 0)
	}
}

// logPage writes a finished page's access-log line.
func (s *Server) logPage(pg *page, route string, status int, now time.Time, total, ttfb time.Duration, degraded bool) {
	ctx, h := pg.r.Context(), s.logger.Handler()
	if !h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	// The record is made here, as slog's own methods make it but
	// without the caller's program counter: an access line names no
	// source line, and finding it would walk the stack every page.
	r := slog.NewRecord(now, slog.LevelInfo, "page", 0)
	r.AddAttrs(
		slog.String("request_id", pg.requestID),
		slog.String("route", route),
		slog.String("method", pg.r.Method),
		slog.String("path", pg.r.URL.Path),
		slog.Int("status", status),
		slog.Int64("duration_us", total.Microseconds()),
		slog.Int64("ttfb_us", ttfb.Microseconds()),
	)
	if degraded {
		// Only then: a whole page's line has no "degraded", as a null
		// would cost a trip through encoding/json on every page.
		var ids []string
		for i := range pg.slots {
			if pg.slots[i].out.err != nil {
				ids = append(ids, pg.layout.Slots[i].ID)
			}
		}
		r.AddAttrs(slog.Any("degraded", ids))
	}
	if at := pg.versions(); at != nil {
		// Which instance, or canary, each box came from, on a page
		// of a service that has several or runs a canary.
		r.AddAttrs(slog.Any("from", at))
	}
	_ = h.Handle(ctx, r)
}

// versions returns, by box id, the instance that answered each box of a
// service with several, and "canary" for a box its service's canary
// answered; nil when no box says either.
func (pg *page) versions() map[string]string {
	var at map[string]string
	for i := range pg.slots {
		o := &pg.slots[i].out
		v := ""
		if o.resp != nil && !o.fromFallback {
			v = o.resp.Instance
		}
		if o.report.Canary {
			v = strings.TrimSpace(v + " canary")
		}
		if v == "" {
			continue
		}
		if at == nil {
			at = map[string]string{}
		}
		at[pg.layout.Slots[i].ID] = v
	}
	return at
}

// crawlerUA matches the user agents of crawlers and link previewers,
// which get async fragments in document order: they may not run the
// swap script, and they should index the whole page.
var crawlerUA = regexp.MustCompile(`(?i)bot\b|crawl|spider|slurp|facebookexternalhit|bingpreview|embedly|pinterest|whatsapp|telegram`)

func isCrawler(ua string) bool { return ua != "" && crawlerUA.MatchString(ua) }

// unescapeParams decodes echo's route parameters exactly once. Echo takes
// them from the escaped path (URL.RawPath) when the request has one, and
// from the already decoded URL.Path otherwise: only the first are decoded
// here. A value that does not decode is kept as it is.
func unescapeParams(r *http.Request, values []string) []string {
	if r.URL.RawPath == "" {
		return values
	}
	for i, v := range values {
		if strings.IndexByte(v, '%') >= 0 {
			if u, err := url.PathUnescape(v); err == nil {
				values[i] = u
			}
		}
	}
	return values
}
