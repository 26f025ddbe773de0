package teamkit

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// NewEcho returns an echo instance set up the same way for every team:
// banner and port hidden, request logging and panic recovery through logger,
// a nosniff header on every response and an error handler that answers in
// plain text, or in JSON for paths containing "/api/". A nil logger means
// slog.Default().
func NewEcho(logger *slog.Logger) *echo.Echo {
	if logger == nil {
		logger = slog.Default()
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = errorHandler(logger)
	e.Use(requestLog(logger))
	e.Use(recoverPanics(logger))
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Response().Header().Set("X-Content-Type-Options", "nosniff")
			return next(c)
		}
	})
	return e
}

// requestLog logs one line per request. It hands errors to the error
// handler itself so that the logged status is the one the client got.
func requestLog(logger *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			if err := next(c); err != nil {
				c.Error(err)
			}
			req := c.Request()
			status := c.Response().Status
			level := slog.LevelInfo
			if status >= http.StatusInternalServerError {
				level = slog.LevelError
			}
			logger.LogAttrs(req.Context(), level, "request",
				slog.String("method", req.Method),
				slog.String("path", req.URL.Path),
				slog.Int("status", status),
				slog.Int64("bytes", c.Response().Size),
				slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000))
			return nil
		}
	}
}

// recoverPanics turns a panic in a handler into a logged 500 response. It
// stands in for echo's middleware.Recover, whose package pulls in a module
// this repository does not otherwise need. http.ErrAbortHandler is
// re-raised, as net/http expects.
func recoverPanics(logger *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				r := recover()
				if r == nil {
					return
				}
				if r == http.ErrAbortHandler {
					panic(r)
				}
				logger.ErrorContext(c.Request().Context(), "panic recovered",
					slog.String("method", c.Request().Method),
					slog.String("path", c.Request().URL.Path),
					slog.Any("panic", r),
					slog.String("stack", string(debug.Stack())))
				err = fmt.Errorf("panic: %v", r)
			}()
			return next(c)
		}
	}
}

// errorHandler renders errors returned by handlers. Messages of
// *echo.HTTPError are shown to the client; any other error is logged and
// shown as a bare "internal server error".
func errorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		code := http.StatusInternalServerError
		msg := "internal server error"
		var he *echo.HTTPError
		if errors.As(err, &he) {
			code = he.Code
			if m, ok := he.Message.(string); ok {
				msg = m
			} else {
				msg = fmt.Sprint(he.Message)
			}
		}
		if code >= http.StatusInternalServerError {
			logger.ErrorContext(c.Request().Context(), "handler error",
				slog.String("path", c.Request().URL.Path),
				slog.Any("err", err))
		}
		if code == http.StatusInternalServerError {
			msg = "internal server error"
		}
		h := c.Response().Header()
		h.Set("Cache-Control", "no-store")
		var werr error
		switch {
		case c.Request().Method == http.MethodHead:
			werr = c.NoContent(code)
		case strings.Contains(c.Request().URL.Path, "/api/"):
			werr = c.JSON(code, map[string]string{"error": msg})
		default:
			werr = c.Blob(code, "text/plain; charset=utf-8", []byte(msg+"\n"))
		}
		if werr != nil {
			logger.WarnContext(c.Request().Context(), "writing error response",
				slog.Any("err", werr))
		}
	}
}
