package composer

// Tests of rows F6 and F7 of docs/fault-matrix.md: only a service's own
// faults count against it, not Inlay's queue, and not one endpoint's.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inlayhq/inlay/fragments/guard"
)

// F6 (synctest): a healthy service that answers in 250ms, with a 300ms
// timeout, and waves of 150 shoppers at once, more than its limit (100 at
// first) lets in. A box whose fetch waited in the queue and is left less
// than the service's usual latency is refused at once as overflow, never
// sent to time out. The breaker counts no failure and stays closed, the
// limit is never cut, every box that degrades is such an overflow, and
// once the limit has grown to the burst, the burst is served whole.
func TestQueueWaitIsNotTheServicesFailureForPages(t *testing.T) {
	memTest(t, func(t *testing.T, way memWay) {
		const burst, waves = 150, 5
		s := newMemShop(t, way, shopConfig{
			// One key per page, so that no page waits on another's fetch.
			layouts: map[string]string{"p.html": stampedePage(`<fragment id="box" src="box:/slow?u={u}" timeout="300ms"><em>fallback</em></fragment>`)},
			pages:   "  - path: /p/{u}\n    layout: p.html",
		}, map[string]http.HandlerFunc{"box": htmlHandler(250*time.Millisecond, "<p>slow</p>")}, guard.Config{})
		var whole, fellBack, allFellBack int
		for wave := range waves {
			bodies := make([]string, burst)
			var wg sync.WaitGroup
			for i := range burst {
				wg.Go(func() { bodies[i] = bodyOf(serve(s.inlay, context.Background(), fmt.Sprintf("/p/%d-%d", wave, i))) })
			}
			wg.Wait()
			whole, fellBack = 0, 0
			for i, body := range bodies {
				switch body {
				case stampedePage("<p>slow</p>"):
					whole++
				case stampedePage("<em>fallback</em>"):
					fellBack++
				default:
					t.Fatalf("wave %d, page %d: %q", wave, i, body)
				}
			}
			allFellBack += fellBack
			if limit := s.guards.Limit("box"); limit < guard.DefaultInitialLimit {
				t.Fatalf("wave %d: limit cut to %d, want at least %d", wave, limit, guard.DefaultInitialLimit)
			}
			t.Logf("wave %d: %d whole, %d fell back; limit %d", wave, whole, fellBack, s.guards.Limit("box"))
		}
		// Each box's fetch is one fetch: every box that fell back was
		// refused as overflow, and none timed out.
		if got := s.inlay.FetchStats().Overflows.Load(); got != int64(allFellBack) {
			t.Errorf("overflows: got %d, want %d, one for each box that fell back", got, allFellBack)
		}
		if logs := s.logText(); strings.Contains(logs, `"reason":"timeout"`) {
			t.Errorf("a box degraded by a timeout:\n%s", logs)
		}
		if st := s.guards.State("box"); st != "closed" {
			t.Errorf("breaker: got %q, want closed", st)
		}
		if c := s.guards.EndpointCounts("box", "/slow"); c.TotalFailures != 0 {
			t.Errorf("breaker failures: got %d, want 0", c.TotalFailures)
		}
		if fellBack != 0 {
			t.Errorf("last wave: %d of %d boxes fell back, want the burst served whole", fellBack, burst)
		}
	})
}

// F7 (synctest): a page with one broken and one healthy box from the same
// service, loaded 40 times. With a breaker per endpoint (the default) the
// healthy box is shown on every load, and the service's breaker stays
// closed. With per_endpoint: false, the service's one breaker counts the
// broken box's failures, opens once they are half the window's fetches,
// and from then on the healthy box falls back too.
func TestBrokenEndpointLeavesTheServicesOtherBoxes(t *testing.T) {
	const loads = 40
	layout := stampedePage(`<fragment id="bad" src="box:/broken"><em>bad</em></fragment>` +
		`<fragment id="good" src="box:/ok"><em>good fell back</em></fragment>`)
	for _, tc := range []struct {
		name        string
		yaml        string // the service's breaker settings
		wantService string
	}{
		{"per_endpoint by default", "", "closed"},
		{"per_endpoint: true", "    breaker:\n      per_endpoint: true\n", "closed"},
		{"per_endpoint: false", "    breaker:\n      per_endpoint: false\n", "open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := shopConfig{
				layouts:     map[string]string{"p.html": layout},
				pages:       "  - path: /\n    layout: p.html",
				serviceYAML: map[string]string{"box": tc.yaml},
			}
			cfg, _ := sc.parse(t, map[string]string{"box": "http://box.test"})
			guard := EngineSettings(cfg).Services[0].Guard
			memTest(t, func(t *testing.T, way memWay) {
				s := newMemShop(t, way, sc, map[string]http.HandlerFunc{"box": routes(map[string]http.HandlerFunc{
					"/broken": func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusInternalServerError) },
					"/ok":     htmlHandler(0, "<p>ok</p>"),
				})}, guard)
				fellBack, first := 0, -1
				for i := range loads {
					_, body := s.get(t, "/")
					if !strings.Contains(body, "<em>bad</em>") {
						t.Fatalf("load %d: the broken box was shown: %q", i, body)
					}
					if strings.Contains(body, "<em>good fell back</em>") {
						fellBack++
						if first < 0 {
							first = i
						}
					} else if first >= 0 {
						t.Errorf("load %d: the healthy box came back while the service's breaker was open", i)
					}
				}
				t.Logf("%s: the healthy box fell back on %d of %d loads, from load %d", tc.name, fellBack, loads, first)
				if st := s.guards.State("box"); st != tc.wantService {
					t.Errorf("service breaker: got %q, want %q", st, tc.wantService)
				}
				if tc.wantService == "closed" && fellBack != 0 {
					t.Errorf("the healthy box fell back on %d of %d loads, want none", fellBack, loads)
				}
				if tc.wantService == "open" && fellBack == 0 {
					t.Error("the healthy box never fell back, want it to once the service's breaker opened")
				}
			})
		})
	}
}
