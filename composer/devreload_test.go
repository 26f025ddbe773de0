package composer

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// readEvent reads the next data event of a server-sent-events stream.
func readEvent(t *testing.T, r *bufio.Reader) devMessage {
	t.Helper()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the event stream: %v", err)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var m devMessage
			if err := json.Unmarshal([]byte(data), &m); err != nil {
				t.Fatalf("event %q: %v", data, err)
			}
			return m
		}
	}
}

// TestDevLiveReloadEvents follows the live-reload stream through a good
// edit (new version, no overlay), a broken one (overlay naming the file,
// line and column) and the fix (overlay gone).
func TestDevLiveReloadEvents(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/main": {Body: "<h1>main</h1>"}})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts:  map[string]string{"p.html": pageHead + `<fragment src="team:/main" primary></fragment>` + pageTail},
		pages:    "  - path: /\n    layout: p.html",
		extra:    "dev: true\n",
	})
	fsys := s.layoutFS

	_, page := s.get(t, "/")
	if !strings.Contains(page, `data-inlay-events="/-/dev/events"`) {
		t.Fatalf("dev page lacks the live-reload script: %s", page)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+DevEventsPath, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q, want text/event-stream", ct)
	}
	events := bufio.NewReader(resp.Body)
	first := readEvent(t, events)
	if first.Overlay != "" || !strings.Contains(page, `data-inlay-version="`+first.Version+`"`) {
		t.Fatalf("first event %+v does not match the page's version", first)
	}

	fsys["p.html"] = &fstest.MapFile{Data: []byte(pageHead + `<h2>new</h2><fragment src="team:/main" primary></fragment>` + pageTail)}
	s.inlay.Layouts().Reload()
	edited := readEvent(t, events)
	if edited.Version == first.Version || edited.Overlay != "" {
		t.Fatalf("after a good edit: %+v, want a new version and no overlay", edited)
	}

	fsys["p.html"] = &fstest.MapFile{Data: []byte(pageHead + "\n<fragment src=\"team:/main\" primary>\n<fragment src=\"nope:/x\"></fragment>" + pageTail)}
	s.inlay.Layouts().Reload()
	broken := readEvent(t, events)
	for _, want := range []string{`data-inlay-overlay`, `2 problems`, `>p.html:2:1</code> &lt;fragment&gt; is never closed`, `>p.html:3:1</code> src &#34;nope:/x&#34;`} {
		if !strings.Contains(broken.Overlay, want) {
			t.Errorf("overlay after a broken edit lacks %q: %s", want, broken.Overlay)
		}
	}

	fsys["p.html"] = &fstest.MapFile{Data: []byte(pageHead + `<h2>fixed</h2><fragment src="team:/main" primary></fragment>` + pageTail)}
	s.inlay.Layouts().Reload()
	if fixed := readEvent(t, events); fixed.Overlay != "" || fixed.Version == broken.Version {
		t.Errorf("after the fix: %+v, want a new version and no overlay", fixed)
	}

	// A config edit that is rejected shows on the open pages too.
	s.inlay.SetConfigProblems(config.Problems{{File: "shop.yaml", Line: 3, Col: 5, Message: `unknown field "bogus"`}})
	if m := readEvent(t, events); !strings.Contains(m.Overlay, `shop.yaml:3:5</code> unknown field &#34;bogus&#34;`) {
		t.Errorf("overlay after a rejected config: %q", m.Overlay)
	}
	s.inlay.SetConfigProblems(nil)
	if m := readEvent(t, events); m.Overlay != "" {
		t.Errorf("overlay after the config's problems cleared: %q", m.Overlay)
	}
}

// TestNoLiveReloadOutsideDevMode: no script on pages, no events endpoint.
func TestNoLiveReloadOutsideDevMode(t *testing.T) {
	team := teamtest.NewRoutes(t, map[string]teamtest.Route{"/main": {Body: "<h1>main</h1>"}})
	s := newShop(t, shopConfig{
		services: map[string]*teamtest.Team{"team": team},
		layouts:  map[string]string{"p.html": pageHead + `<fragment src="team:/main" primary></fragment>` + pageTail},
		pages:    "  - path: /\n    layout: p.html",
	})
	if _, page := s.get(t, "/"); strings.Contains(page, "inlay-dev") || strings.Contains(page, DevEventsPath) {
		t.Errorf("production page carries the live-reload script: %s", page)
	}
	if resp, _ := s.get(t, DevEventsPath); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET %s outside dev mode: status %d, want 404", DevEventsPath, resp.StatusCode)
	}
}

func TestExcerpt(t *testing.T) {
	src := []byte("one\ntwo\n\tthree x\nfour\nfive\nsix\n")
	got := excerpt(src, 3, 8)
	want := []excerptLine{{1, "one", ""}, {2, "two", ""}, {3, "\tthree x", "\t      ^"}, {4, "four", ""}, {5, "five", ""}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if got := excerpt(src, 40, 1); got != nil {
		t.Errorf("line past the end: got %+v, want none", got)
	}
}
