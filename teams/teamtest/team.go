package teamtest

import (
	"bytes"
	"cmp"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// Route says how a [Team] answers one path. The zero Route answers 200
// with an empty text/html body.
type Route struct {
	// Status is the response's status; zero means 200.
	Status int
	// Body is sent after the headers.
	Body string
	// Header holds response headers set after Content-Type
	// (text/html; charset=utf-8), which they may replace.
	Header map[string]string
	// Gate, when not nil, holds the answer until it is closed.
	Gate <-chan struct{}
	// Hang holds the answer until the request is cancelled; nothing is
	// sent.
	Hang bool
	// Arrived, when not nil, receives the path when a request arrives,
	// before anything else is done with it.
	Arrived chan<- string
	// Cancelled, when not nil, receives the path when a request held by
	// Hang or Gate ends because its context did.
	Cancelled chan<- string
	// Handler, when not nil, answers instead of the fields above (after
	// Arrived): for drips, resets and other misbehaviour.
	Handler http.HandlerFunc
}

// Request is what a [Team] saw of one request.
type Request struct {
	Method string
	// Path is the decoded path; RawPath is it as sent (escaped).
	Path, RawPath string
	// Query is the raw query, without the '?'.
	Query  string
	Header http.Header
	// Body is the request's body, read whole before a route answers. It
	// is empty for a request the team's handler answers (see [Team.Set]),
	// which may read the body as it comes.
	Body string
}

// Team is a stand-in team service: a real HTTP server on loopback. A path
// with a [Route] is answered by it; any other path by the team's handler
// (see [Team.Set]), or with 404 when it has none. It is closed when the
// test ends.
type Team struct {
	*httptest.Server

	mu       sync.Mutex // protects routes, handle and requests
	routes   map[string]Route
	handle   http.HandlerFunc
	requests []Request

	hits, inFlight, peak atomic.Int64
}

// New starts a team that answers every path with h (404 when h is nil,
// until [Team.Set] gives it one).
func New(t testing.TB, h http.HandlerFunc) *Team {
	t.Helper()
	return start(t, nil, h)
}

// NewRoutes starts a team that answers the paths of routes as they say,
// and any other path with 404. The team owns routes from now on: change
// them with [Team.Route].
func NewRoutes(t testing.TB, routes map[string]Route) *Team {
	t.Helper()
	return start(t, routes, nil)
}

// NewUnstarted is [NewRoutes] for a team the test configures before it
// calls Start (to speak only HTTP/2, say).
func NewUnstarted(t testing.TB, routes map[string]Route) *Team {
	t.Helper()
	if routes == nil {
		routes = map[string]Route{}
	}
	team := &Team{routes: routes}
	team.Server = httptest.NewUnstartedServer(http.HandlerFunc(team.serve))
	t.Cleanup(team.Close)
	return team
}

// SpeakOnlyH2C makes an unstarted team speak only h2c (HTTP/2 without
// TLS, with prior knowledge): an HTTP/1.1 request to it fails. Call it
// before Start.
func (team *Team) SpeakOnlyH2C() {
	team.Config.Protocols = new(http.Protocols)
	team.Config.Protocols.SetUnencryptedHTTP2(true)
}

func start(t testing.TB, routes map[string]Route, h http.HandlerFunc) *Team {
	t.Helper()
	team := NewUnstarted(t, routes)
	team.handle = h
	team.Start()
	return team
}

// Set makes the team answer the paths without a route with h from now on.
func (team *Team) Set(h http.HandlerFunc) {
	team.mu.Lock()
	defer team.mu.Unlock()
	team.handle = h
}

// Route makes the team answer path as r says from now on.
func (team *Team) Route(path string, r Route) {
	team.mu.Lock()
	defer team.mu.Unlock()
	team.routes[path] = r
}

// RouteOf returns the route of path, and whether it has one.
func (team *Team) RouteOf(path string) (Route, bool) {
	team.mu.Lock()
	defer team.mu.Unlock()
	r, ok := team.routes[path]
	return r, ok
}

// Hits returns how many requests have reached the team.
func (team *Team) Hits() int64 { return team.hits.Load() }

// InFlight returns how many requests the team is answering now.
func (team *Team) InFlight() int64 { return team.inFlight.Load() }

// PeakInFlight returns the most requests the team has answered at once.
func (team *Team) PeakInFlight() int64 { return team.peak.Load() }

// Requests returns every request the team has recorded, in order of
// arrival.
func (team *Team) Requests() []Request {
	team.mu.Lock()
	defer team.mu.Unlock()
	return append([]Request(nil), team.requests...)
}

// RequestsTo returns the recorded requests to path, in order of arrival.
func (team *Team) RequestsTo(path string) []Request {
	team.mu.Lock()
	defer team.mu.Unlock()
	var out []Request
	for _, r := range team.requests {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// ForgetRequests drops the recorded requests; the hit count stays.
func (team *Team) ForgetRequests() {
	team.mu.Lock()
	defer team.mu.Unlock()
	team.requests = nil
}

func (team *Team) serve(w http.ResponseWriter, r *http.Request) {
	team.hits.Add(1)
	n := team.inFlight.Add(1)
	defer team.inFlight.Add(-1)
	for {
		if m := team.peak.Load(); n <= m || team.peak.CompareAndSwap(m, n) {
			break
		}
	}
	team.mu.Lock()
	route, ok := team.routes[r.URL.Path]
	h := team.handle
	team.mu.Unlock()
	var body []byte
	if ok {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	team.mu.Lock()
	team.requests = append(team.requests, Request{
		Method: r.Method, Path: r.URL.Path, RawPath: r.URL.EscapedPath(), Query: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: string(body),
	})
	team.mu.Unlock()
	switch {
	case ok:
		route.ServeHTTP(w, r)
	case h != nil:
		h(w, r)
	default:
		http.NotFound(w, r)
	}
}

// ServeHTTP answers r as the route says, so that a Route can stand alone
// as a handler (for [New], say).
func (route Route) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if route.Arrived != nil {
		route.Arrived <- r.URL.Path
	}
	if route.Handler != nil {
		route.Handler(w, r)
		return
	}
	if route.Hang {
		<-r.Context().Done()
		route.reportCancel(r)
		return
	}
	if route.Gate != nil {
		select {
		case <-route.Gate:
		case <-r.Context().Done():
			route.reportCancel(r)
			return
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	for k, v := range route.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(cmp.Or(route.Status, http.StatusOK))
	io.WriteString(w, route.Body)
}

func (route Route) reportCancel(r *http.Request) {
	if route.Cancelled != nil {
		route.Cancelled <- r.URL.Path
	}
}

// Fragment answers body as text/html with the given Cache-Control (none
// when empty) and more headers, given as name, value pairs: a team's
// fragment in one line.
func Fragment(body, cacheControl string, header ...string) http.HandlerFunc {
	route := Route{Body: body, Header: map[string]string{}}
	if cacheControl != "" {
		route.Header["Cache-Control"] = cacheControl
	}
	for i := 0; i+1 < len(header); i += 2 {
		route.Header[header[i]] = header[i+1]
	}
	return route.ServeHTTP
}

// Raw answers with raw bytes on the connection it takes over, whatever
// HTTP they break, then closes the connection: with a reset (RST, not FIN)
// when reset is set. A broken team in one line.
func Raw(raw string, reset bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		buf.WriteString(raw)
		buf.Flush()
		if tcp, ok := conn.(*net.TCPConn); ok && reset {
			tcp.SetLinger(0)
		}
		conn.Close()
	}
}
