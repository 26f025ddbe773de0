package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// issueBodies are the fragment bodies of issue 14, finding 2: the first
// four blanked the rest of the page in Chromium, the last three left it
// visible but misplaced.
var issueBodies = []struct {
	body  string
	blank bool // Chromium hides what follows when the body is placed as it is
}{
	{"<p>x</p><!--!>", true},
	{"<template><p>x</p>", true},
	{"<select><option>x", true},
	{"<svg><![CDATA[x", true},
	{"<p>x</p></body></html>", false},
	{"<table><tr><td>x", true},
	{"<p>x</p><!", true},
}

// markupLayout places a box of the team's, then the markers of the
// layout's tail: a sibling in the same parent, another team's box, an
// async box and the footer.
const markupLayout = `<!DOCTYPE html><html><head><title>markup</title></head><body>
<main id="parent"><fragment id="bad" src="team:/bad/{n}"><p id="fallback">fallback</p></fragment><span id="sibling">after the box</span></main>
<aside><fragment id="other" src="team:/other"></fragment></aside>
<section><fragment id="later" src="team:/later/{n}" async><p id="loading">loading</p></fragment></section>
<footer id="footer">Footer</footer>
</body></html>`

// tailInPlace holds when every marker of the layout's tail stands where
// the layout put it and is visible.
const tailInPlace = `(() => {
  const q = s => document.querySelector(s);
  const f = q('#footer'), s = q('#sibling'), o = q('#other'), a = q('#async-content');
  const shown = e => !!e && e.checkVisibility() && e.getBoundingClientRect().height > 0;
  return shown(f) && shown(s) && shown(o) && shown(a) &&
    f.parentElement === document.body && s.parentElement === q('#parent') && !q('#loading');
})()`

// rawTailInPlace is tailInPlace for the page without Inlay: no async box.
const rawTailInPlace = `(() => {
  const q = s => document.querySelector(s);
  const f = q('#footer'), s = q('#sibling'), o = q('#other');
  const shown = e => !!e && e.checkVisibility() && e.getBoundingClientRect().height > 0;
  return shown(f) && shown(s) && shown(o) && f.parentElement === document.body && s.parentElement === q('#parent');
})()`

// markupShop serves /bad/{n}, whose box gets issueBodies[n] (cacheable
// for a minute), and /raw/{n}, the same page with the body placed as it
// is, without Inlay. The async box of /bad/{n} answers when release(n) is
// called.
func markupShop(t *testing.T) (base string, release func(n int)) {
	t.Helper()
	var mu sync.Mutex
	gates := map[string]chan struct{}{}
	gate := func(n string) chan struct{} {
		mu.Lock()
		defer mu.Unlock()
		if gates[n] == nil {
			gates[n] = make(chan struct{})
		}
		return gates[n]
	}
	team := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch {
		case strings.HasPrefix(r.URL.Path, "/bad/"):
			n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/bad/"))
			if err != nil || n < 0 || n >= len(issueBodies) {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Cache-Control", "public, max-age=60")
			io.WriteString(w, issueBodies[n].body)
		case r.URL.Path == "/other":
			io.WriteString(w, `<p id="other">another team's box</p>`)
		case strings.HasPrefix(r.URL.Path, "/later/"):
			select {
			case <-gate(strings.TrimPrefix(r.URL.Path, "/later/")):
			case <-r.Context().Done():
				return
			}
			io.WriteString(w, `<p id="async-content">async content</p>`)
		default:
			http.NotFound(w, r)
		}
	})

	dir := t.TempDir()
	cfgText := fmt.Sprintf("layouts: .\npage_timeout: 20s\nservices:\n  team:\n    url: %s\n    timeout: 20s\npages:\n  - path: /bad/{n}\n    layout: p.html\n", team.URL)
	srv := composerIn(t, dir, map[string]string{"p.html": markupLayout, "inlay.yaml": cfgText})
	mux := http.NewServeMux()
	mux.Handle("/", srv)
	mux.HandleFunc("/raw/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.PathValue("n"))
		if err != nil || n < 0 || n >= len(issueBodies) {
			http.NotFound(w, r)
			return
		}
		page := strings.Replace(markupLayout, `<fragment id="bad" src="team:/bad/{n}"><p id="fallback">fallback</p></fragment>`, issueBodies[n].body, 1)
		page = strings.Replace(page, `<fragment id="other" src="team:/other"></fragment>`, `<p id="other">another team's box</p>`, 1)
		page = strings.Replace(page, `<fragment id="later" src="team:/later/{n}" async><p id="loading">loading</p></fragment>`, "", 1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close) // before the composer's own cleanup
	return hs.URL, func(n int) { close(gate(strconv.Itoa(n))) }
}

// TestBadFragmentBodiesCannotHideThePage (issue 14, finding 2): in real
// Chromium, after each bad body of the issue, the layout's tail (the box's
// sibling, another team's box, an async box filled by its swap script,
// the footer) is visible where the layout put it, and the bad box shows
// its fallback. The same bodies placed without Inlay break the page, which
// shows the check is what protects it.
func TestBadFragmentBodiesCannotHideThePage(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t, 120*time.Second)
	base, release := markupShop(t)
	for n, tc := range issueBodies {
		t.Run(tc.body, func(t *testing.T) {
			if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/raw/%d", base, n))); err != nil {
				t.Fatalf("raw page: %v", err)
			}
			if tc.blank {
				intact, err := chromedp.Run(ctx, chromedp.Evaluate[bool](rawTailInPlace))
				if err != nil || intact {
					t.Errorf("without Inlay, the tail is in place after %q (%v): the test would not see the harm", tc.body, err)
				}
			}

			// The page streams: the tail is there while the async box waits.
			ready := make(chan error, 1)
			go func() {
				ready <- chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/bad/%d", base, n)))
			}()
			waitFor(t, ctx, `!!document.querySelector('#footer') && !!document.querySelector('#loading')`)
			release(n)
			if err := <-ready; err != nil {
				t.Fatalf("page: %v", err)
			}
			waitFor(t, ctx, `!!document.querySelector('#async-content')`)
			intact, err := chromedp.Run(ctx, chromedp.Evaluate[bool](tailInPlace))
			if err != nil || !intact {
				html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.outerHTML`))
				t.Errorf("after %q the tail is not in place (%v):\n%s", tc.body, err, html)
			}
			fallback, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('#fallback') && document.querySelector('#fallback').checkVisibility()`))
			if err != nil || !fallback {
				t.Errorf("the refused box does not show its fallback (%v)", err)
			}
		})
	}
}
