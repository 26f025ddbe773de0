package composer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"time"

	"github.com/inlayhq/inlay/composer/auth"
	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/fragments"
)

// DefaultMaxGatewayBody caps request bodies forwarded by gateway routes.
const DefaultMaxGatewayBody = 1 << 20

// gatewayAllow is the Allow header of the gateway's 405: methods it lets
// through to the team. It lets through every method but TRACE and
// CONNECT, extension methods too, which no list can name.
const gatewayAllow = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"

// gateway is one gateway route: a reverse proxy from a path prefix to a
// team service, with deadlines, a normalised path and scoped credentials.
type gateway struct {
	srv    *Server
	route  *config.Gateway
	svc    *config.Service
	proxy  *httputil.ReverseProxy
	cached bool // GETs may be answered from the cache: see serveCached
}

// newGateway returns the handler of route g. Every upstream call goes
// through transport wrapped by [upstream], the one place where the call to
// the team is made.
func (s *Server) newGateway(g *config.Gateway, transport http.RoundTripper, cached bool) *gateway {
	gw := &gateway{srv: s, route: g, svc: s.cfg.Services[g.Service], cached: cached}
	target := gw.svc.BaseURL
	gw.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			// pr.Out.URL already holds the normalised path (ServeHTTP).
			pr.SetURL(target)
			pr.SetXForwarded()
			gw.scopeCredentials(pr.Out.Header, pr.In.Header)
			if s.auth != nil {
				gw.identify(pr)
			}
		},
		Transport:      &upstream{next: liveTransport{next: transport}, headerTimeout: g.HeaderTimeout(), idleTimeout: g.BodyIdleTimeout(), uploadTimeout: g.UploadDeadline()},
		ModifyResponse: gw.checkAnswer,
		ErrorHandler:   gw.fail,
		ErrorLog:       slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	return gw
}

// scopeCredentials keeps from the shopper's credentials only what the
// service may have: its cookies (all, or the named ones) and
// Authorization, each when its config allows it.
func (gw *gateway) scopeCredentials(out, in http.Header) {
	if v := gw.svc.Cookies.Filter(in["Cookie"]); len(v) > 0 {
		out["Cookie"] = v
	} else {
		delete(out, "Cookie")
	}
	if !gw.svc.Authorization {
		delete(out, "Authorization")
	}
}

// ServeHTTP checks the request, sets its deadlines and proxies it, then
// logs and counts it.
func (gw *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &gatewayWriter{ResponseWriter: w, rc: http.NewResponseController(w), idle: gw.route.BodyIdleTimeout()}
	start := time.Now()
	defer func() { gw.done(rec, r, start) }() // also when the proxy aborts with a panic

	switch {
	case r.Method == http.MethodTrace || r.Method == http.MethodConnect:
		// TRACE would echo the request, cookies included; CONNECT would
		// open a tunnel. Neither is for a team service. Every other
		// method, extension methods included, goes to the team; Allow
		// can only name methods, so it names the standard ones that do.
		rec.Header().Set("Allow", gatewayAllow)
		gw.gatewayError(rec, r, http.StatusMethodNotAllowed)
		return
	}
	if gw.srv.auth != nil {
		var ok bool
		if r, ok = gw.signin(rec, r); !ok {
			return
		}
	}
	if id := gw.srv.shopperID(rec.Header(), r, auth.FromContext(r.Context())); id != "" {
		r = r.WithContext(fragments.WithShopper(r.Context(), id))
	}
	escaped, ok := normalizePath(r.URL.EscapedPath())
	if !ok || !strings.HasPrefix(escaped, gw.route.Prefix) {
		// After resolving dot segments and encoded dots and slashes, the
		// path leaves the route: the team would answer from elsewhere.
		gw.gatewayError(rec, r, http.StatusBadRequest)
		return
	}
	if err := setPath(r, escaped); err != nil {
		gw.gatewayError(rec, r, http.StatusBadRequest)
		return
	}

	// No total write cut: each write to the shopper gets idle_timeout.
	// The request body has upload_timeout; after it, no read deadline, so
	// a long response is not cut when it passes.
	_ = rec.rc.SetWriteDeadline(time.Time{})
	if !gw.readBody(rec, r) {
		return
	}
	// The proxy hands its error handler the outgoing request; fail
	// answers the shopper's.
	r = r.WithContext(context.WithValue(r.Context(), shopperKey{}, r))
	if gw.cached && gw.serveCached(rec, r) {
		return
	}
	gw.proxy.ServeHTTP(rec, r)
}

// shopperKey carries the shopper's request to the proxy's error handler.
type shopperKey struct{}

// readBody caps the request body and gives it its deadline. A body of
// unknown length is read whole first, so an oversized one never reaches
// the team. It reports false when it has answered the request itself.
func (gw *gateway) readBody(w *gatewayWriter, r *http.Request) bool {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		_ = w.rc.SetReadDeadline(time.Time{})
		return true
	}
	if r.ContentLength > DefaultMaxGatewayBody {
		gw.gatewayError(w, r, http.StatusRequestEntityTooLarge)
		return false
	}
	_ = w.rc.SetReadDeadline(time.Now().Add(gw.route.UploadDeadline()))
	if r.ContentLength > 0 {
		r.Body = &uploadBody{ReadCloser: http.MaxBytesReader(w, r.Body, DefaultMaxGatewayBody), rc: w.rc}
		return true
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, DefaultMaxGatewayBody))
	if err != nil {
		status := http.StatusBadRequest
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			status = http.StatusRequestEntityTooLarge
		case isTimeout(err):
			status = http.StatusRequestTimeout
		}
		gw.gatewayError(w, r, status)
		return false
	}
	_ = w.rc.SetReadDeadline(time.Time{})
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	r.TransferEncoding = nil
	return true
}

// uploadBody lifts the read deadline once the whole body has been read.
type uploadBody struct {
	io.ReadCloser
	rc *http.ResponseController
}

func (b *uploadBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// fail answers a request the proxy could not serve: 504 when the team did
// not answer in time, 503 when its breaker or limit refused, 413 for an
// oversized body, 408 for a body that did not arrive in time, 502
// otherwise; and a navigation the team answered with a bare error, with
// the team's status. See gatewayError for what the shopper gets.
func (gw *gateway) fail(w http.ResponseWriter, r *http.Request, err error) {
	if in, ok := r.Context().Value(shopperKey{}).(*http.Request); ok {
		r = in
	}
	level := slog.LevelWarn
	status, ok := teamStatus(err)
	if ok {
		level = slog.LevelInfo // the team answered: not a failure of Inlay's
	} else {
		status = failureStatus(r, err)
	}
	if status == statusClientClosed {
		// The shopper went away: logged, never sent. A 499 that the team
		// sent goes through WriteHeader to the shopper like any status.
		if rec, ok := w.(*gatewayWriter); ok && rec.status == 0 {
			rec.status = statusClientClosed
		}
		return
	}
	gw.srv.logger.LogAttrs(r.Context(), level, "gateway error",
		slog.String("request_id", r.Header.Get(HeaderRequestID)),
		slog.String("service", gw.svc.Name),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.String("error", err.Error()))
	gw.gatewayError(w, r, status)
}

// done writes the request's access log line and tells the observer.
func (gw *gateway) done(w *gatewayWriter, r *http.Request, start time.Time) {
	status := w.status
	if status == 0 {
		status = statusClientClosed // aborted before any answer
	}
	d := time.Since(start)
	gw.srv.observer.GatewayDone(gw.route.Prefix, status, d)
	if gw.srv.accessLog {
		gw.srv.logger.LogAttrs(r.Context(), slog.LevelInfo, "gateway",
			slog.String("request_id", r.Header.Get(HeaderRequestID)),
			slog.String("route", gw.route.Prefix),
			slog.String("service", gw.svc.Name),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", status),
			slog.Int64("bytes", w.written),
			slog.Int64("duration_us", d.Microseconds()))
	}
}

// gatewayWriter records the status and size of a gateway response and
// gives every write to the shopper its own deadline, so a stream may last
// as long as it keeps moving.
type gatewayWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	idle    time.Duration
	status  int
	written int64
}

// WriteHeader sends status as it is, whatever it is: the gateway passes
// the team's answer on unchanged.
func (w *gatewayWriter) WriteHeader(status int) {
	if w.status == 0 && status >= 200 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *gatewayWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.idle))
	n, err := w.ResponseWriter.Write(p)
	w.written += int64(n)
	return n, err
}

// Flush sends what is buffered, within the idle deadline.
func (w *gatewayWriter) Flush() {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.idle))
	_ = w.rc.Flush()
}

// Hijack takes over the connection for an upgrade (a WebSocket), which
// the proxy answers on it directly: the request is logged as a 101.
func (w *gatewayWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := w.rc.Hijack()
	if err == nil && w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return conn, brw, err
}

// Unwrap gives http.ResponseController the writer underneath, for
// deadlines.
func (w *gatewayWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
