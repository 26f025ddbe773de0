package composer

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/labstack/echo/v4"
)

// DevEventsPath is the server-sent-events endpoint of dev mode's live
// reload. It exists in dev mode only.
const DevEventsPath = "/-/dev/events"

// devHeartbeat is how often an idle live-reload stream sends a comment,
// so that a browser that went away is noticed and its stream ended.
const devHeartbeat = 15 * time.Second

// liveReload tells the open pages of dev mode when layouts or the config
// change. Every page carries a tiny script that listens on DevEventsPath:
// a change reloads the page, a broken change shows the overlay, and the
// fix closes it (by reloading).
type liveReload struct {
	id     string // this server's, so that a config reload (a new server) reloads pages
	ctx    context.Context
	cancel context.CancelFunc

	mu             sync.Mutex // protects configProblems, changed and reloads
	configProblems config.Problems
	changed        chan struct{} // closed and replaced when configProblems or reloads change
	reloads        int64         // how many times a local service's fragment changed
}

// reload tells the open pages to reload: a fragment of a local service
// changed.
func (lr *liveReload) reload() {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	lr.reloads++
	close(lr.changed)
	lr.changed = make(chan struct{})
}

func newLiveReload() *liveReload {
	var b [6]byte
	_, _ = rand.Read(b[:])
	ctx, cancel := context.WithCancel(context.Background())
	return &liveReload{id: hex.EncodeToString(b[:]), ctx: ctx, cancel: cancel, changed: make(chan struct{})}
}

// devRoutes adds dev mode's routes to e; outside dev mode there are none.
func (s *Server) devRoutes(e *echo.Echo) {
	if !s.cfg.Dev {
		return
	}
	s.live = newLiveReload()
	if s.hasLocalService() {
		lw := newLocalWatch()
		s.pages.watchLocal = lw.seen
		go s.watchLocal(s.live.ctx, lw)
	}
	e.GET(DevEventsPath, s.devEvents)
	e.GET(DevErrorPath, s.devErrorPreview)
}

// DevErrorPath previews the error page of a status, as in
// /-/dev/error?status=502, so that designers see the pages shoppers get
// when something fails without making it fail. It exists in dev mode only.
const DevErrorPath = "/-/dev/error"

// devErrorPreview answers with the error page of the status its query
// names (400 to 599), composed from the error_pages layouts like a real
// one, with that status.
func (s *Server) devErrorPreview(c echo.Context) error {
	status, err := strconv.Atoi(c.QueryParam("status"))
	if err != nil || status < 400 || status > 599 {
		return c.String(http.StatusBadRequest, "want ?status= followed by an error status from 400 to 599, like ?status=502\n")
	}
	s.renderError(c.Response(), c.Request(), status)
	return nil
}

// SetConfigProblems tells dev mode's open pages that the config file was
// changed and rejected, so that they show the overlay; nil clears it. The
// running config keeps serving meanwhile. Outside dev mode it does nothing.
func (s *Server) SetConfigProblems(ps config.Problems) {
	lr := s.live
	if lr == nil {
		return
	}
	lr.mu.Lock()
	defer lr.mu.Unlock()
	lr.configProblems = ps
	close(lr.changed)
	lr.changed = make(chan struct{})
}

// CloseStreams ends the live-reload streams, so that a graceful shutdown
// need not wait for them. Browsers reconnect to whatever serves next.
func (s *Server) CloseStreams() {
	if s.live != nil {
		s.live.cancel()
	}
}

// devProblems returns the problems the overlay shows: the config's, then
// the layouts'.
func (s *Server) devProblems() (config.Problems, <-chan struct{}) {
	var ps config.Problems
	var changed <-chan struct{}
	if lr := s.live; lr != nil {
		lr.mu.Lock()
		ps = append(ps, lr.configProblems...)
		changed = lr.changed
		lr.mu.Unlock()
	}
	return append(ps, s.layouts.Problems()...), changed
}

// devVersion names what a page was composed from: this server (its
// config), the layouts' reload count and how often a local service's
// fragment changed.
func (s *Server) devVersion() string {
	s.live.mu.Lock()
	reloads := s.live.reloads
	s.live.mu.Unlock()
	return s.live.id + "." + strconv.FormatInt(s.layouts.Version(), 10) + "." + strconv.FormatInt(reloads, 10)
}

// devMessage is one event of the live-reload stream.
type devMessage struct {
	// Version changes with every reload of the layouts or the config.
	Version string `json:"version"`
	// Overlay is the overlay's markup while there are problems, else empty.
	Overlay string `json:"overlay,omitempty"`
}

// devEvents streams a devMessage now and at every change, until the
// browser goes or the server closes its streams.
func (s *Server) devEvents(c echo.Context) error {
	w, r := c.Response(), c.Request()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	rc := http.NewResponseController(w)
	// A stream lives longer than a page: neither the server's write
	// timeout nor its read timeout (whose expiry would cancel the
	// request) applies to it.
	_ = rc.SetWriteDeadline(time.Time{})
	_ = rc.SetReadDeadline(time.Time{})
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write([]byte("retry: 300\n\n")); err != nil {
		return nil
	}
	heartbeat := time.NewTicker(devHeartbeat)
	defer heartbeat.Stop()
	for {
		layoutsChanged := s.layouts.Changed()
		problems, configChanged := s.devProblems()
		msg := devMessage{Version: s.devVersion()}
		if len(problems) > 0 {
			var buf bytes.Buffer
			_ = devOverlay(s.overlayList(problems)).Render(r.Context(), &buf)
			msg.Overlay = buf.String()
		}
		data, _ := json.Marshal(msg)
		if _, err := w.Write([]byte("data: " + string(data) + "\n\n")); err != nil {
			return nil
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	wait:
		select {
		case <-layoutsChanged:
		case <-configChanged:
		case <-heartbeat.C:
			if _, err := w.Write([]byte(": ping\n\n")); err != nil || rc.Flush() != nil {
				return nil
			}
			goto wait
		case <-r.Context().Done():
			return nil
		case <-s.live.ctx.Done():
			return nil
		}
	}
}

// overlayProblem is one problem as the overlay shows it: where, what, and
// the lines around it.
type overlayProblem struct {
	Location string
	Message  string
	Excerpt  []excerptLine
	// Warning marks a layout warning, shown with the problems but not
	// one of them: the layout serves as it is.
	Warning bool
}

// severity is "warning" or "error", for the overlay's markup.
func (p overlayProblem) severity() string {
	if p.Warning {
		return "warning"
	}
	return "error"
}

// overlayList is what the overlay lists: the problems, then the
// layouts' warnings (those of a file being fixed included), each with
// its code frame.
func (s *Server) overlayList(problems config.Problems) []overlayProblem {
	out := s.overlayProblems(problems)
	for _, w := range s.overlayProblems(s.layouts.Warnings()) {
		w.Warning = true
		out = append(out, w)
	}
	return out
}

// overlayHeading counts what the overlay lists: "1 problem", or
// "2 problems and 1 warning".
func overlayHeading(ps []overlayProblem) string {
	warnings := 0
	for _, p := range ps {
		if p.Warning {
			warnings++
		}
	}
	h := plural(len(ps)-warnings, "problem")
	if warnings > 0 {
		h += " and " + plural(warnings, "warning")
	}
	return h
}

// plural is "1 warning", "2 warnings".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// excerptLine is one source line of an overlay excerpt.
type excerptLine struct {
	Number int
	Text   string
	// Caret marks the problem's column under the problem's line; empty
	// on the other lines.
	Caret string
}

// excerptContext is how many lines before and after a problem's line the
// overlay shows.
const excerptContext = 2

// overlayProblems turns problems into what the overlay shows, with an
// excerpt of the file each one is in.
func (s *Server) overlayProblems(ps config.Problems) []overlayProblem {
	out := make([]overlayProblem, 0, len(ps))
	for _, p := range ps {
		op := overlayProblem{Location: p.File, Message: p.Message}
		if p.Line > 0 {
			op.Location += ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
			data, ok := s.layouts.Source(p.File)
			if !ok {
				// The config file, or a layout that could not be read: it
				// is read again here, in dev mode only, for the excerpt.
				data, _ = os.ReadFile(p.File)
			}
			op.Excerpt = excerpt(data, p.Line, p.Col)
		}
		out = append(out, op)
	}
	return out
}

// excerpt returns the lines around line (1-based) of data, with a caret
// under col on line itself.
func excerpt(data []byte, line, col int) []excerptLine {
	if len(data) == 0 {
		return nil
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if line > len(lines) {
		return nil
	}
	var out []excerptLine
	for n := max(1, line-excerptContext); n <= min(len(lines), line+excerptContext); n++ {
		text := strings.TrimRight(lines[n-1], "\r")
		l := excerptLine{Number: n, Text: text}
		if n == line {
			// Tabs are kept before the caret, so that it lines up.
			var pad strings.Builder
			for i, r := range []rune(text) {
				if i >= col-1 {
					break
				}
				if r == '\t' {
					pad.WriteRune('\t')
				} else {
					pad.WriteRune(' ')
				}
			}
			l.Caret = pad.String() + "^"
		}
		out = append(out, l)
	}
	return out
}
