package composer

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inlayhq/inlay/teams/teamtest"
	"golang.org/x/tools/txtar"
)

var update = flag.Bool("update", false, "rewrite the expected responses of the golden page tests")

// goldenHeaders are the page headers a golden file states, in its order.
var goldenHeaders = []string{"Content-Type", "Content-Length", "Cache-Control", "Location", "Link", "Set-Cookie", "Content-Security-Policy", "Server-Timing"}

// goldenResponse names the archive file holding the expected page.
const goldenResponse = "response"

// TestGoldenPages serves the page of every archive in testdata/pages
// through a real Server, in front of a loopback team service answering as
// the archive says, and compares the page with the archive's expected
// response. go test ./composer -run Golden -update rewrites the latter.
//
// An archive holds, besides a comment saying what it shows:
//
//   - layouts/NAME: the layout files;
//   - pages.yaml (optional): the YAML list items under pages:, by default
//     one page at / with the layout p.html; config.yaml (optional): more
//     top-level YAML;
//   - /PATH: the response of the service "team" at PATH, written as HTTP
//     ("HTTP/1.1 200 OK", headers, a blank line, the body; the body's last
//     newline is not part of it). Content-Type is text/html unless set;
//   - order: what happens, in order, one step a line. "/PATH" lets that
//     fragment answer and waits until the page has its outcome; "/PATH
//     never" waits for the same while the fragment never answers (its
//     timeout ends it); "headers" waits until the shopper has the page's
//     headers; "page TEXT" waits until the page so far holds TEXT. A path
//     not listed answers at once: list every path but the fallback-srcs,
//     which are fetched only once their src has failed. A path that
//     answers after the primary, or on a page without one, must follow a
//     headers line, so that it is never known when the headers leave;
//   - request: the shopper's request, written as HTTP;
//   - response: the expected page: status line, the headers in
//     goldenHeaders, a blank line, the page's exact bytes and a newline.
//     The CSP nonce reads NONCE, the request id REQUEST-ID and every
//     Server-Timing duration dur=D.
func TestGoldenPages(t *testing.T) {
	archives, err := filepath.Glob(filepath.Join("testdata", "pages", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(archives) == 0 {
		t.Fatal("no archives in testdata/pages")
	}
	for _, path := range archives {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := runGoldenPage(t, ar)
			for try := 2; !ok && try <= 3; try++ {
				got, ok = runGoldenPage(t, ar)
			}
			if !ok {
				t.Fatal("three runs in a row where a box answered before the primary was not marked done in time")
			}
			if *update {
				setArchiveFile(ar, goldenResponse, got)
				if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, ok := archiveFile(ar, goldenResponse)
			if !ok {
				t.Fatalf("%s has no %q file: run go test ./composer -run Golden -update", path, goldenResponse)
			}
			if got != want {
				t.Errorf("%s: the page differs (go test ./composer -run Golden -update rewrites it)\n--- got\n%s--- want\n%s", path, got, want)
			}
		})
	}
}

// runGoldenPage serves an archive's page through a real Server in front of
// a real loopback team service, and returns the response, normalised.
//
// The observer hears of a fetch's outcome a few instructions before the
// page marks its box done. Only a box that answers before the primary can
// lose that race (the primary's answer has to cross loopback meanwhile),
// and the page's Server-Timing, which lists the boxes done when the
// headers left, tells when one did: runGoldenPage then reports false and
// the run does not count.
func runGoldenPage(t *testing.T, ar *txtar.Archive) (string, bool) {
	t.Helper()
	sc, routes, order, request := readArchive(t, ar)
	gates := map[string]chan struct{}{}
	arrivals := map[string]chan string{}
	steps := parseOrder(t, order, routes)
	for path, route := range routes {
		gates[path], arrivals[path] = make(chan struct{}), make(chan string, 8)
		if !steps.lists(path) {
			close(gates[path]) // answers at once
		}
		route.Gate, route.Arrived = gates[path], arrivals[path]
		routes[path] = route
	}
	team := teamtest.NewRoutes(t, routes)
	released := map[string]bool{}
	t.Cleanup(func() { // a page that failed half-way lets go of its stubs
		for path, gate := range gates {
			if steps.lists(path) && !released[path] {
				close(gate)
			}
		}
	})
	sc.services = map[string]*teamtest.Team{"team": team}
	cfg, fsys := sc.parse(t, map[string]string{"team": team.URL})
	_, logger := sc.logger()
	obs := &doneObserver{done: map[string]chan string{}}
	srv, err := New(cfg, Options{LayoutFS: fsys, Logger: logger, Observer: obs})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(srv.Close)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)

	shopper := visit(t, hs, parseRequest(t, request, hs.URL))
	lay := srv.Layouts().Get(cfg.Pages[0].Layout)
	primary := ""
	if lay.Primary >= 0 {
		primary = lay.Slots[lay.Primary].ID
	}
	var early []string // fragments that answered before the primary
	primaryDone := primary == ""
	for _, st := range steps {
		switch {
		case st.path != "":
			if primaryDone && shopper.resp == nil {
				t.Fatalf("order: %s answers after the primary (or on a page without one) but before a headers line: whether it is done when the headers leave would be left to chance", st.path)
			}
			if !st.never {
				close(gates[st.path])
				released[st.path] = true
			}
			waitFor(t, arrivals[st.path], "a request to "+st.path)
			id := team.RequestsTo(st.path)[0].Header.Get("X-Inlay-Fragment")
			waitFor(t, obs.fragmentDone(id), "the page to take in "+st.path+" (fragment "+id+")")
			if !primaryDone {
				early = append(early, id)
			}
			primaryDone = primaryDone || id == primary
		case st.text == "":
			shopper.headers()
		default:
			shopper.readUntil(st.text)
		}
	}
	resp, body := shopper.rest()
	if timing := resp.Header.Get("Server-Timing"); timing != "" {
		for _, id := range early {
			if !strings.Contains(", "+timing, ", "+id+";") {
				t.Logf("%s answered before the primary but was not marked done when the headers left (Server-Timing: %s): the run does not count", id, timing)
				return "", false
			}
		}
	}
	return normalise(resp, body), true
}

// readArchive reads an archive's shop (without its services), its
// fragment responses by path, its order and its request.
func readArchive(t *testing.T, ar *txtar.Archive) (sc shopConfig, routes map[string]teamtest.Route, order, request string) {
	t.Helper()
	sc = shopConfig{layouts: map[string]string{}, pages: "  - path: /\n    layout: p.html"}
	routes = map[string]teamtest.Route{}
	for _, f := range ar.Files {
		data := string(f.Data)
		switch name := f.Name; {
		case strings.HasPrefix(name, "layouts/"):
			sc.layouts[strings.TrimPrefix(name, "layouts/")] = data
		case name == "pages.yaml":
			sc.pages = strings.TrimRight(data, "\n")
		case name == "config.yaml":
			sc.extra = data
		case strings.HasPrefix(name, "/"):
			routes[name] = parseFragmentResponse(t, name, data)
		case name == "order":
			order = data
		case name == "request":
			request = data
		case name == goldenResponse:
		default:
			t.Fatalf("unknown file %q in the archive", name)
		}
	}
	return sc, routes, order, request
}

// shopper is a page request in flight, read as far as the order asks.
type shopper struct {
	t        *testing.T
	answered chan *http.Response
	failed   chan error
	resp     *http.Response // nil until the headers are in
	body     bytes.Buffer   // the page read so far
}

// visit sends req to the shop hs, without following redirects.
func visit(t *testing.T, hs *httptest.Server, req *http.Request) *shopper {
	client := *hs.Client()
	client.Timeout = 10 * time.Second
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s := &shopper{t: t, answered: make(chan *http.Response, 1), failed: make(chan error, 1)}
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			s.failed <- err
			return
		}
		s.answered <- resp
	}()
	return s
}

// headers waits until the page's headers are in.
func (s *shopper) headers() {
	s.t.Helper()
	if s.resp != nil {
		return
	}
	select {
	case s.resp = <-s.answered:
		s.t.Cleanup(func() { s.resp.Body.Close() })
	case err := <-s.failed:
		s.t.Fatalf("the page request: %v", err)
	case <-time.After(10 * time.Second):
		s.t.Fatal("no page headers within 10s")
	}
}

// readUntil reads the page until what was read holds text.
func (s *shopper) readUntil(text string) {
	s.t.Helper()
	s.headers()
	buf := make([]byte, 4096)
	for !bytes.Contains(s.body.Bytes(), []byte(text)) {
		n, err := s.resp.Body.Read(buf)
		s.body.Write(buf[:n])
		if err != nil {
			s.t.Fatalf("the page ended (%v) without %q:\n%s", err, text, s.body.Bytes())
		}
	}
}

// rest reads the page to its end and returns the response and the page.
func (s *shopper) rest() (*http.Response, []byte) {
	s.t.Helper()
	s.headers()
	if _, err := io.Copy(&s.body, s.resp.Body); err != nil {
		s.t.Fatalf("reading the page: %v", err)
	}
	return s.resp, s.body.Bytes()
}

// normalise writes a response as a golden file states it, with what is
// random each time replaced by fixed words.
func normalise(resp *http.Response, body []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", resp.Proto, resp.Status)
	for _, k := range goldenHeaders {
		for _, v := range resp.Header.Values(k) {
			if k == "Server-Timing" {
				v = durations.ReplaceAllString(v, "dur=D")
			}
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	b.WriteString("\n")
	b.Write(body)
	b.WriteString("\n")
	out := b.String()
	if m := nonces.FindStringSubmatch(resp.Header.Get("Content-Security-Policy")); m != nil {
		out = strings.ReplaceAll(out, m[1], "NONCE")
	}
	if id := resp.Header.Get("X-Request-Id"); id != "" {
		out = strings.ReplaceAll(out, id, "REQUEST-ID")
	}
	return out
}

var (
	durations = regexp.MustCompile(`dur=[0-9.]+`)
	nonces    = regexp.MustCompile(`'nonce-([^']+)'`)
)

// step is one line of an archive's order: a path to let answer (or, with
// never, to wait for while it hangs), a text to wait for on the page, or
// (both empty) the page's headers to wait for.
type step struct {
	path, text string
	never      bool
}

type orderSteps []step

func (s orderSteps) lists(path string) bool {
	for _, st := range s {
		if st.path == path {
			return true
		}
	}
	return false
}

func parseOrder(t *testing.T, order string, routes map[string]teamtest.Route) orderSteps {
	t.Helper()
	var steps orderSteps
	for n, line := range strings.Split(order, "\n") {
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case line == "headers":
			steps = append(steps, step{})
		case strings.HasPrefix(line, "page "):
			steps = append(steps, step{text: strings.TrimPrefix(line, "page ")})
		case strings.HasPrefix(line, "/"):
			path, never := strings.CutSuffix(line, " never")
			if _, ok := routes[path]; !ok || steps.lists(path) {
				t.Fatalf("order:%d: %q is no fragment response of the archive, or is listed twice", n+1, path)
			}
			steps = append(steps, step{path: path, never: never})
		default:
			t.Fatalf("order:%d: %q: want a /path, headers, or page TEXT", n+1, line)
		}
	}
	return steps
}

// parseFragmentResponse reads a fragment response written as HTTP.
func parseFragmentResponse(t *testing.T, name, data string) teamtest.Route {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(data)), nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	route := teamtest.Route{Status: resp.StatusCode, Body: strings.TrimSuffix(string(body), "\n"), Header: map[string]string{}}
	for k, vs := range resp.Header {
		route.Header[k] = strings.Join(vs, ", ")
	}
	return route
}

// parseRequest reads the shopper's request, written as HTTP, and aims it
// at the server at base, keeping its Host.
func parseRequest(t *testing.T, data, base string) *http.Request {
	t.Helper()
	in, err := http.ReadRequest(bufio.NewReader(strings.NewReader(data)))
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	req, err := http.NewRequest(in.Method, base+in.RequestURI, nil)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	req.Header, req.Host = in.Header, in.Host
	return req
}

func waitFor(t *testing.T, ch <-chan string, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("waited 10s for %s", what)
	}
}

// doneObserver tells when a page has the outcome of each of its fragments.
type doneObserver struct {
	nopObserver
	mu   sync.Mutex // protects done
	done map[string]chan string
}

// fragmentDone returns a channel closed once fragment id is done; it is a
// chan string for waitFor, and nothing is ever sent on it.
func (o *doneObserver) fragmentDone(id string) chan string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.channel(id)
}

func (o *doneObserver) channel(id string) chan string {
	ch, ok := o.done[id]
	if !ok {
		ch = make(chan string)
		o.done[id] = ch
	}
	return ch
}

func (o *doneObserver) FragmentDone(_, id, _ string, _ bool, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	close(o.channel(id))
}

func archiveFile(ar *txtar.Archive, name string) (string, bool) {
	for _, f := range ar.Files {
		if f.Name == name {
			return string(f.Data), true
		}
	}
	return "", false
}

// setArchiveFile replaces or appends one file of an archive.
func setArchiveFile(ar *txtar.Archive, name, data string) {
	for i := range ar.Files {
		if ar.Files[i].Name == name {
			ar.Files[i].Data = []byte(data)
			return
		}
	}
	ar.Files = append(ar.Files, txtar.File{Name: name, Data: []byte(data)})
}
