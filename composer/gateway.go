package composer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"

	"github.com/inlayhq/inlay/composer/config"
)

// DefaultMaxGatewayBody caps request bodies forwarded by gateway routes.
const DefaultMaxGatewayBody = 1 << 20

// newGateway returns a reverse proxy to svc that keeps the request's path,
// method, body and headers, sets X-Forwarded-*, and drops hop-by-hop headers.
func (s *Server) newGateway(svc *config.Service, transport http.RoundTripper) http.Handler {
	target := svc.BaseURL
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
		},
		Transport: transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			status := http.StatusBadGateway
			var tooLarge *http.MaxBytesError
			switch {
			case errors.As(err, &tooLarge):
				status = http.StatusRequestEntityTooLarge
			case errors.Is(err, context.DeadlineExceeded):
				status = http.StatusGatewayTimeout
			case errors.Is(err, context.Canceled):
				return // the shopper went away
			}
			s.logger.LogAttrs(r.Context(), slog.LevelWarn, "gateway error",
				slog.String("request_id", r.Header.Get(HeaderRequestID)),
				slog.String("service", svc.Name),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.String("error", err.Error()))
			s.renderError(w, r, status)
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > DefaultMaxGatewayBody {
			s.renderError(w, r, http.StatusRequestEntityTooLarge)
			return
		}
		if r.ContentLength < 0 {
			// A body of unknown length is read up to the cap before anything
			// reaches the team, so an oversized one never does.
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, DefaultMaxGatewayBody))
			if err != nil {
				status := http.StatusBadRequest
				var tooLarge *http.MaxBytesError
				if errors.As(err, &tooLarge) {
					status = http.StatusRequestEntityTooLarge
				}
				s.renderError(w, r, status)
				return
			}
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
			r.TransferEncoding = nil
		} else if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, DefaultMaxGatewayBody)
		}
		proxy.ServeHTTP(w, r)
	})
}
