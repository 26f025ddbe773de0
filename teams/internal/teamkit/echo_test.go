package teamkit

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"github.com/inlayhq/inlay/teams/teamtest"
	"github.com/labstack/echo/v4"
)

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestNewEchoErrors(t *testing.T) {
	var logs teamtest.Logs
	e := NewEcho(slog.New(slog.NewTextHandler(&logs, nil)))
	if !e.HideBanner || !e.HidePort {
		t.Error("banner or port not hidden")
	}
	e.GET("/t/panic", func(echo.Context) error { panic("boom") })
	e.GET("/t/api/panic", func(echo.Context) error { panic("boom") })
	e.GET("/t/fail", func(echo.Context) error { return errors.New("secret detail") })
	e.GET("/t/teapot", func(echo.Context) error { return echo.NewHTTPError(http.StatusTeapot, "short and stout") })
	frag := Fragments{Link: "</t/static/t.css?v=0123456789>; rel=stylesheet"}
	e.GET("/t/fragment", func(c echo.Context) error {
		return frag.Render(c, http.StatusAccepted, "public, max-age=1", templ.Raw(`<p class="t-x">hi</p>`))
	})
	e.GET("/t/badfragment", func(c echo.Context) error {
		return frag.Render(c, http.StatusOK, "public, max-age=1", templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
			_, _ = io.WriteString(w, "<p>half")
			return errors.New("render failed")
		}))
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	tests := []struct {
		path        string
		wantStatus  int
		wantType    string
		wantBody    string
		wantCache   string
		wantNoMatch string
	}{
		{"/t/panic", 500, "text/plain; charset=utf-8", "internal server error\n", "no-store", "boom"},
		{"/t/api/panic", 500, "application/json", `{"error":"internal server error"}` + "\n", "no-store", "boom"},
		{"/t/fail", 500, "text/plain; charset=utf-8", "internal server error\n", "no-store", "secret"},
		{"/t/teapot", 418, "text/plain; charset=utf-8", "short and stout\n", "no-store", ""},
		{"/t/nowhere", 404, "text/plain; charset=utf-8", "Not Found\n", "no-store", ""},
		{"/t/fragment", 202, HTMLContentType, `<p class="t-x">hi</p>`, "public, max-age=1", ""},
		{"/t/badfragment", 500, "text/plain; charset=utf-8", "internal server error\n", "no-store", "half"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			if string(body) != tt.wantBody {
				t.Errorf("body = %q, want %q", body, tt.wantBody)
			}
			if got := resp.Header.Get("Cache-Control"); got != tt.wantCache {
				t.Errorf("Cache-Control = %q, want %q", got, tt.wantCache)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", got)
			}
			if tt.wantNoMatch != "" && strings.Contains(string(body), tt.wantNoMatch) {
				t.Errorf("body leaks %q", tt.wantNoMatch)
			}
		})
	}
	if got := resp(t, srv.URL+"/t/fragment").Header.Get("Link"); got != frag.Link {
		t.Errorf("Link = %q, want %q", got, frag.Link)
	}
	if !strings.Contains(logs.String(), "panic recovered") || !strings.Contains(logs.String(), "boom") {
		t.Errorf("panic not logged: %s", logs.String())
	}
	if !strings.Contains(logs.String(), "status=418") {
		t.Errorf("request log lacks the status sent: %s", logs.String())
	}
}

func resp(t *testing.T, url string) *http.Response {
	t.Helper()
	r, _ := teamtest.Get(t, url)
	return r
}
