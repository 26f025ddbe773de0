package composer

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/inlayhq/inlay/teams/teamtest"
)

// noStoreTeam is a team of no-store boxes whose routes a test gates anew
// for every page load, and that counts the connections made to it.
type noStoreTeam struct {
	*teamtest.Team
	conns   atomic.Int64 // connections opened
	arrived chan string
}

// newNoStoreTeam starts a team with no routes yet: see gate.
func newNoStoreTeam(t *testing.T) *noStoreTeam {
	t.Helper()
	nt := &noStoreTeam{arrived: make(chan string, 16)}
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
		nt.Route(p, teamtest.Route{Body: "<p>" + p + "</p>", Header: map[string]string{"Cache-Control": "no-store"}, Gate: g, Arrived: nt.arrived})
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
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, fn+"(") {
			count++
		}
	}
	return count
}

// Stack names of a fetch on a goroutine of its own and of a sent fetch
// whose answer the page reads.
const (
	engineFetch = "github.com/inlayhq/inlay/fragments.(*Engine).Fetch"
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
			s := newShop(t, shopConfig{
				services: map[string]*teamtest.Team{"team": team.Team},
				layouts:  map[string]string{"p.html": tc.layout},
				pages:    "  - path: /\n    layout: p.html",
				extra:    patientPage,
			})
			for load := 1; load <= 2; load++ {
				open := team.gate(paths)
				defer func() {
					for _, p := range paths {
						open(p)
					}
				}()
				conns := team.conns.Load()
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
			}
		})
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

// With every box sent together, the shopper still gets the page up to a
// slow box before that box answers: the page flushes when the answer it
// comes to is not there yet.
func TestSentBoxesStreamUpToASlowBox(t *testing.T) {
	paths := []string{"/fast", "/slow"}
	team := newNoStoreTeam(t)
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team.Team},
		layouts: map[string]string{"p.html": pageHead +
			`<fragment src="team:/fast" timeout="10s"></fragment><main>static</main><fragment src="team:/slow" timeout="10s"></fragment>` + pageTail},
		pages: "  - path: /\n    layout: p.html",
		extra: patientPage,
	})
	// The first load marks both keys uncacheable and leaves a connection
	// for each.
	open := team.gate(paths)
	page := loadPage(pageClient(t), mustRequest(t, s.URL+"/"))
	team.arrivals(t, len(paths))
	open("/fast")
	open("/slow")
	if got, want := receive(t, page, "the first page"), pageHead+"<p>/fast</p><main>static</main><p>/slow</p>"+pageTail; got.err != nil || got.body != want {
		t.Fatalf("first load page: %v\ngot  %q\nwant %q", got.err, got.body, want)
	}

	open = team.gate(paths)
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
	if n := goroutinesIn(pendingWait); n != 1 {
		t.Errorf("goroutines reading a sent box: got %d, want 1 (the page, at the slow box)", n)
	}
	team.arrivals(t, len(paths))
	open("/slow") // released only once the head was read
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	if want := "<p>/slow</p>" + pageTail; string(rest) != want {
		t.Errorf("rest of the page: got %q, want %q", rest, want)
	}
}
