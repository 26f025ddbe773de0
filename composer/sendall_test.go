package composer

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/inlayhq/inlay/internal/leaktest"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// noStoreTeam is a team of no-store boxes whose routes a test gates anew
// for every page load, and that counts the connections made to it.
type noStoreTeam struct {
	*teamtest.Team
	conns     atomic.Int64 // connections opened
	arrived   chan string  // the paths of requests as they arrive
	cancelled chan string  // the paths of held requests that ended before their answer
}

// newNoStoreTeam starts a team with no routes yet: see gate.
func newNoStoreTeam(t *testing.T) *noStoreTeam {
	t.Helper()
	nt := &noStoreTeam{arrived: make(chan string, 16), cancelled: make(chan string, 16)}
	nt.Team = teamtest.NewUnstarted(t, nil)
	nt.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			nt.conns.Add(1)
		}
	}
	nt.Start()
	return nt
}

// gate makes the team answer each of paths with <p>path</p>, no-store,
// held until the returned function releases that path.
func (nt *noStoreTeam) gate(paths []string) (open func(path string)) {
	var mu sync.Mutex
	gates := map[string]chan struct{}{}
	open = func(path string) {
		mu.Lock()
		defer mu.Unlock()
		if g := gates[path]; g != nil {
			close(g)
			delete(gates, path)
		}
	}
	for _, p := range paths {
		g := make(chan struct{})
		gates[p] = g
		nt.Route(p, teamtest.Route{Body: "<p>" + p + "</p>", Header: map[string]string{"Cache-Control": "no-store"}, Gate: g, Arrived: nt.arrived, Cancelled: nt.cancelled})
	}
	return open
}

// arrivals waits until n requests have arrived at the team and returns
// their paths.
func (nt *noStoreTeam) arrivals(t *testing.T, n int) []string {
	t.Helper()
	var got []string
	for range n {
		got = append(got, receive(t, nt.arrived, "a box request at the team"))
	}
	return got
}

// goroutinesIn returns how many goroutines have fn (a qualified function
// name, as in a stack trace) on their stack now.
func goroutinesIn(fn string) int { return leaktest.Count(fn + "(") }

// Stack names of a fetch on a goroutine of its own and of a sent fetch
// whose answer the page reads.
const (
	engineFetch = "github.com/inlayhq/inlay/composer.(*page).start.func" // a box read on a goroutine of its own
	pendingWait = "github.com/inlayhq/inlay/fragments.(*Pending).Wait"
)

// A page of no-store boxes, loaded again once their keys are known to be
// uncacheable, sends every box's request at once over the connections
// kept from the first load, before any is answered, with no goroutine
// per box; the answers, released in reverse order, make a complete page
// in document order.
func TestNoStoreBoxesAreSentTogether(t *testing.T) {
	paths := []string{"/a", "/b", "/c", "/d"}
	cases := []struct {
		name, layout string
	}{
		{name: "boxes only", layout: pageHead +
			`<fragment src="team:/a" timeout="10s"></fragment><hr><fragment src="team:/b" timeout="10s"></fragment><hr>` +
			`<fragment src="team:/c" timeout="10s"></fragment><hr><fragment src="team:/d" timeout="10s"></fragment>` + pageTail},
		{name: "primary among them", layout: pageHead +
			`<fragment src="team:/a" timeout="10s"></fragment><hr><fragment src="team:/b" timeout="10s"></fragment><hr>` +
			`<fragment src="team:/c" timeout="10s" primary></fragment><hr><fragment src="team:/d" timeout="10s"></fragment>` + pageTail},
	}
	want := pageHead + `<p>/a</p><hr><p>/b</p><hr><p>/c</p><hr><p>/d</p>` + pageTail
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			team := newNoStoreTeam(t)
			s := noStoreShop(t, team, tc.layout)
			for load := 1; load <= 2; load++ {
				open := team.gate(paths)
				defer func() {
					for _, p := range paths {
						open(p)
					}
				}()
				conns := team.conns.Load()
				sent := s.inlay.FetchStats().SentTogether.Load()
				page := loadPage(pageClient(t), mustRequest(t, s.URL+"/"))
				team.arrivals(t, len(paths)) // every box is at the service, none answered
				if load == 2 {
					teamtest.WaitUntil(t, "the page reads its first sent box", func() bool { return goroutinesIn(pendingWait) == 1 })
					if n := goroutinesIn(engineFetch); n != 0 {
						t.Errorf("load 2: %d boxes fetched on goroutines of their own, want none (all sent by the page)", n)
					}
					if got := team.conns.Load(); got != conns {
						t.Errorf("load 2: %d connections dialled, want none (sent on the kept ones)", got-conns)
					}
				}
				for i := len(paths) - 1; i >= 0; i-- {
					open(paths[i])
				}
				if got := receive(t, page, "the page"); got.err != nil || got.body != want {
					t.Errorf("load %d page: %v\ngot  %q\nwant %q", load, got.err, got.body, want)
				}
				wantSent := int64(0) // the first load marks the keys uncacheable
				if load == 2 {
					wantSent = int64(len(paths))
				}
				if got := s.inlay.FetchStats().SentTogether.Load() - sent; got != wantSent {
					t.Errorf("load %d: SentTogether moved by %d, want %d", load, got, wantSent)
				}
			}
		})
	}
}

// wantRest reads what is left of a streamed page and checks it.
func wantRest(t *testing.T, page io.Reader, want string) {
	t.Helper()
	rest, err := io.ReadAll(page)
	if err != nil {
		t.Fatalf("reading the rest of the page: %v", err)
	}
	if string(rest) != want {
		t.Errorf("rest of the page: got %q, want %q", rest, want)
	}
}

// loaded is a page as a shopper read it.
type loaded struct {
	body string
	err  error // also a status other than 200
}

// loadPage sends req with client on a goroutine and gives the page read
// whole on the returned channel.
func loadPage(client *http.Client, req *http.Request) <-chan loaded {
	page := make(chan loaded, 1)
	go func() {
		resp, body, err := readAll(client, req)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		page <- loaded{body, err}
	}()
	return page
}

// mustRequest is a GET of url.
func mustRequest(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// noStoreShop is a shop of one page, of layout, whose boxes all come from
// team, with a page deadline the tests never reach.
func noStoreShop(t *testing.T, team *noStoreTeam, layout string) *shop {
	t.Helper()
	return newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team.Team},
		layouts:  map[string]string{"p.html": layout},
		pages:    "  - path: /\n    layout: p.html",
		extra:    patientPage,
	})
}

// warm loads the shop's page once with every path held until all are at
// the team, so that each box leaves a kept-alive connection and its key
// is known to be uncacheable, and fails the test unless the page loads,
// as want when it is not empty.
func warm(t *testing.T, s *shop, team *noStoreTeam, paths []string, want string) {
	t.Helper()
	open := team.gate(paths)
	page := loadPage(pageClient(t), mustRequest(t, s.URL+"/"))
	team.arrivals(t, len(paths))
	for _, p := range paths {
		open(p)
	}
	if got := receive(t, page, "the first page"); got.err != nil || want != "" && got.body != want {
		t.Fatalf("first load page: %v\ngot  %q\nwant %q", got.err, got.body, want)
	}
}

// With every box sent together, the shopper still gets the page up to a
// slow box before that box answers: the page flushes when the answer it
// comes to is not there yet. A shopper who leaves then ends the slow
// box's request at once: the box's and the page's deadlines are a minute
// away, further than receive waits, so only the shopper's leaving can end
// it in time.
func TestSentBoxesStreamUpToASlowBox(t *testing.T) {
	cases := []struct {
		name   string
		leaves bool // the shopper leaves once the head is read
	}{
		{name: "the slow box answers"},
		{name: "the shopper leaves", leaves: true},
	}
	paths := []string{"/fast", "/slow"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			team := newNoStoreTeam(t)
			s := newShop(t, shopConfig{
				services: map[string]*teamtest.Team{"team": team.Team},
				layouts: map[string]string{"p.html": pageHead +
					`<fragment src="team:/fast" timeout="10s"></fragment><main>static</main><fragment src="team:/slow" timeout="1m"></fragment>` + pageTail},
				pages: "  - path: /\n    layout: p.html",
				extra: "page_timeout: 1m\n",
			})
			warm(t, s, team, paths, pageHead+"<p>/fast</p><main>static</main><p>/slow</p>"+pageTail)

			open := team.gate(paths)
			defer open("/slow")
			open("/fast") // answers at once
			resp, err := pageClient(t).Do(mustRequest(t, s.URL+"/"))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			head := pageHead + "<p>/fast</p><main>static</main>"
			got := make([]byte, len(head))
			if _, err := io.ReadFull(br, got); err != nil {
				t.Fatalf("reading the page up to the slow box: %v", err)
			}
			if string(got) != head {
				t.Fatalf("page up to the slow box: got %q, want %q", got, head)
			}
			if n := goroutinesIn(engineFetch); n != 0 {
				t.Errorf("%d boxes fetched on goroutines of their own, want none (both sent by the page)", n)
			}
			// The page flushed before it waits: it is at the slow box, or
			// about to be.
			teamtest.WaitUntil(t, "the page reads the slow box", func() bool { return goroutinesIn(pendingWait) == 1 })
			team.arrivals(t, len(paths))
			if tc.leaves {
				resp.Body.Close() // before the end: the connection is closed
				if path := receive(t, team.cancelled, "the slow box's request to end"); path != "/slow" {
					t.Errorf("request ended: got %s, want /slow", path)
				}
				return
			}
			open("/slow") // released only once the head was read
			wantRest(t, br, "<p>/slow</p>"+pageTail)
		})
	}
}

// A page whose primary fails after its boxes were sent answers at once,
// and ends the boxes' requests rather than waiting for their answers.
func TestFailedPrimaryEndsTheSentBoxes(t *testing.T) {
	paths := []string{"/a", "/main", "/b"}
	team := newNoStoreTeam(t)
	s := noStoreShop(t, team, pageHead+
		`<fragment src="team:/a" timeout="10s"></fragment><fragment src="team:/main" timeout="10s" primary></fragment><fragment src="team:/b" timeout="10s"></fragment>`+pageTail)
	warm(t, s, team, paths, pageHead+"<p>/a</p><p>/main</p><p>/b</p>"+pageTail)

	open := team.gate([]string{"/a", "/b"})
	defer open("/a")
	defer open("/b")
	team.Route("/main", teamtest.Route{Status: http.StatusInternalServerError, Header: map[string]string{"Cache-Control": "no-store"}, Arrived: team.arrived})
	resp, body := teamtest.Get(t, s.URL+"/")
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("page with a failed primary: got status %d, want 502; body %q", resp.StatusCode, body)
	}
	ended := map[string]bool{}
	for range 2 {
		ended[receive(t, team.cancelled, "a box's request to end")] = true
	}
	if !ended["/a"] || !ended["/b"] {
		t.Errorf("requests ended: got %v, want /a and /b", ended)
	}
	if n := len(team.arrivals(t, len(paths))); n != len(paths) {
		t.Errorf("requests of the second load: got %d, want %d", n, len(paths))
	}
}

// The page reads the primary's answer first, whatever its place: the
// shopper has the status, the primary's headers and the page up to an
// earlier box that is still held.
func TestSentPrimaryIsReadFirst(t *testing.T) {
	paths := []string{"/a", "/main"}
	team := newNoStoreTeam(t)
	s := noStoreShop(t, team, pageHead+
		`<fragment src="team:/a" timeout="10s"></fragment><main><fragment src="team:/main" timeout="10s" primary></fragment></main>`+pageTail)
	warm(t, s, team, paths, "")
	open := team.gate([]string{"/a"})
	defer open("/a")
	team.Route("/main", teamtest.Route{Body: "<p>/main</p>", Arrived: team.arrived,
		Header: map[string]string{"Cache-Control": "no-store", "Set-Cookie": "basket=1; Path=/"}})
	resp, err := pageClient(t).Do(mustRequest(t, s.URL+"/"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Set-Cookie") != "basket=1; Path=/" {
		t.Errorf("head while /a is held: got %d, Set-Cookie %q; want 200 and the primary's cookie", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}
	br := bufio.NewReader(resp.Body)
	got := make([]byte, len(pageHead))
	if _, err := io.ReadFull(br, got); err != nil || string(got) != pageHead {
		t.Fatalf("page up to the held box: got %q, %v; want %q", got, err, pageHead)
	}
	team.arrivals(t, len(paths))
	open("/a")
	wantRest(t, br, "<p>/a</p><main><p>/main</p></main>"+pageTail)
}

// A box of a set_cookies service that answered before the page's headers
// left gets its cookie to the shopper (fault matrix C1) and its
// Server-Timing entry, also once its key is known to be uncacheable (a
// Set-Cookie answer may not be shared) and its request is sent with the
// page's others.
func TestSentBoxThatAnsweredFirstReachesTheHeaders(t *testing.T) {
	sess := teamtest.NewRoutes(t, nil)
	shell := teamtest.NewRoutes(t, nil)
	s := newShop(t, shopConfig{
		services:    map[string]*teamtest.Team{"sess": sess, "shell": shell},
		serviceYAML: map[string]string{"sess": "    set_cookies: true\n"},
		layouts: map[string]string{"p.html": pageHead +
			`<fragment id="sess" src="sess:/f" timeout="10s"></fragment><fragment id="main" src="shell:/main" timeout="10s" primary></fragment>` + pageTail},
		pages: "  - path: /\n    layout: p.html",
		extra: patientPage,
	})
	for load := 1; load <= 2; load++ {
		written := make(chan struct{}, 1)
		sess.Route("/f", teamtest.Route{Handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Set-Cookie", "sess=1; Path=/")
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Length", "11")
			io.WriteString(w, "<p>sess</p>")
			w.(http.Flusher).Flush()
			written <- struct{}{}
		}})
		gate, openGate := newGate()
		defer openGate()
		shell.Route("/main", teamtest.Route{Body: "<h1>main</h1>", Gate: gate,
			Header: map[string]string{"Cache-Control": "no-store", "Set-Cookie": "primary=1; Path=/"}})
		resp := make(chan *http.Response, 1)
		client, req := pageClient(t), mustRequest(t, s.URL+"/")
		go func() {
			r, err := client.Do(req)
			if err != nil {
				r = nil
			}
			resp <- r
		}()
		receive(t, written, "the sess box's answer")
		openGate() // the primary answers only after the sess box did
		r := receive(t, resp, "the page's headers")
		if r == nil {
			t.Fatalf("load %d: the page failed", load)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if want := pageHead + "<p>sess</p><h1>main</h1>" + pageTail; string(body) != want {
			t.Errorf("load %d page:\ngot  %q\nwant %q", load, body, want)
		}
		if load == 1 {
			// Whether the first load's box was read before the headers
			// left is up to the scheduler: the answer is on a goroutine
			// of its own. It only marks the key uncacheable.
			continue
		}
		// The sess box's request was sent with the page's others
		// (Engine.Start); its whole answer was in Inlay's socket before
		// the primary answered.
		if got, want := r.Header.Values("Set-Cookie"), []string{"primary=1; Path=/", "sess=1; Path=/"}; !slices.Equal(got, want) {
			t.Errorf("load %d: Set-Cookie: got %q, want %q: the sess box answered before the headers left", load, got, want)
		}
		// So does Server-Timing, for every box that finished before the
		// headers left (docs/fragment-contract.md, "Server-Timing").
		if timing := r.Header.Get("Server-Timing"); !strings.Contains(timing, "sess;dur=") {
			t.Errorf("load %d: Server-Timing %q has no entry for the sess box, which answered before the headers left", load, timing)
		}
		// Nothing kept the page waiting once the primary answered: it
		// was held whole and left with its length, not in chunks.
		if r.ContentLength != int64(len(body)) || len(r.TransferEncoding) > 0 {
			t.Errorf("load %d: Content-Length %d, Transfer-Encoding %q: want the page sent whole (%d bytes)", load, r.ContentLength, r.TransferEncoding, len(body))
		}
	}
}

// A box that never answers, ahead of a box sent with it, costs only its
// own box (fault matrix A1): the page reads the later box's answer,
// which came while it waited, once the hanging box's deadline has passed,
// and the page is whole and a 200. Both requests were sent by the page,
// with no goroutine per box.
func TestHangingBoxAheadOfSentBoxesCostsOnlyItsOwnBox(t *testing.T) {
	paths := []string{"/hang", "/fast"}
	team := newNoStoreTeam(t)
	s := noStoreShop(t, team, pageHead+
		`<fragment src="team:/hang" timeout="300ms"><em>inline</em></fragment><hr><fragment src="team:/fast" timeout="10s"></fragment>`+pageTail)
	warm(t, s, team, paths, pageHead+"<p>/hang</p><hr><p>/fast</p>"+pageTail)

	open := team.gate(paths)
	defer open("/hang")
	open("/fast") // answers at once; /hang never does
	page := loadPage(pageClient(t), mustRequest(t, s.URL+"/"))
	team.arrivals(t, len(paths))
	teamtest.WaitUntil(t, "the page waits for the hanging box", func() bool { return goroutinesIn(pendingWait) == 1 })
	if n := goroutinesIn(engineFetch); n != 0 {
		t.Errorf("%d boxes fetched on goroutines of their own, want none (both sent by the page)", n)
	}
	want := pageHead + "<em>inline</em><hr><p>/fast</p>" + pageTail
	if got := receive(t, page, "the page"); got.err != nil || got.body != want {
		t.Errorf("page: %v\ngot  %q\nwant %q", got.err, got.body, want)
	}
	if path := receive(t, team.cancelled, "the hanging box's request to end"); path != "/hang" {
		t.Errorf("request ended: got %s, want /hang", path)
	}
}
