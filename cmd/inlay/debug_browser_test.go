package main

import (
	"strings"
	"testing"
	"time"
)

// boxRects lists every element of the page's body with its position and
// size, leaving out what takes no space (scripts, styles, links,
// templates) and the debug view's own layer.
const boxRects = `[...document.body.querySelectorAll('*')]
	.filter(e => !e.closest('[data-inlay-debug-layer], [data-inlay-debug-summary], script, style, link, template, noscript'))
	.map(e => { const r = e.getBoundingClientRect();
		return e.tagName + (e.id ? '#' + e.id : '') + (e.dataset.testid ? '[' + e.dataset.testid + ']' : '') +
			' ' + [r.x, r.y + scrollY, r.width, r.height].map(v => v.toFixed(1)).join(','); })`

// TestDebugViewMovesNoBox compares the position of every element of the
// demo's product page with and without the debug view, and checks that
// every box has a label, shown whole.
func TestDebugViewMovesNoBox(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t, 60*time.Second)
	base, _ := demoTeams(t)
	for _, path := range []string{"/product/boot-01", "/"} {
		navigate(t, ctx, base+path) // warms the cache: both loads then compose from the same copies
		navigate(t, ctx, base+path)
		plain := evalJS[[]string](t, ctx, boxRects)
		navigate(t, ctx, base+path+"?inlay-debug=1")
		waitFor(t, ctx, `document.documentElement.hasAttribute('data-inlay-debug-ready')`)
		debug := evalJS[[]string](t, ctx, boxRects)
		if len(plain) != len(debug) {
			t.Errorf("%s: %d elements without the debug view, %d with it", path, len(plain), len(debug))
		}
		for i := range min(len(plain), len(debug)) {
			if plain[i] != debug[i] {
				t.Errorf("%s: the debug view moves %s to %s", path, plain[i], debug[i])
			}
		}
		if evalJS[bool](t, ctx, `document.documentElement.scrollWidth > document.documentElement.clientWidth`) {
			t.Errorf("%s: the debug view makes the page scroll sideways", path)
		}
		labels := evalJS[[]string](t, ctx, `[...document.querySelectorAll('.inlay-debug-outline')].map(o => o.dataset.fragment)`)
		if len(labels) < 4 {
			t.Errorf("%s: debug view labels %q, want every box", path, labels)
		}
		cut := evalJS[[]string](t, ctx, `[...document.querySelectorAll('.inlay-debug-label')].filter(l => {
			const r = l.getBoundingClientRect();
			return l.scrollWidth > l.clientWidth + 1 || r.left < 0 || r.right > document.documentElement.clientWidth || r.top + scrollY < 0;
		}).map(l => l.textContent)`)
		if len(cut) > 0 {
			t.Errorf("%s: labels cut or off the page: %q", path, cut)
		}
		facts := evalJS[string](t, ctx, `document.querySelector('.inlay-debug-label[data-fragment="header"]').textContent`)
		for _, want := range []string{"header · shell · 200 · ", " · cache hit"} {
			if !strings.Contains(facts, want) {
				t.Errorf("%s: header label %q lacks %q", path, facts, want)
			}
		}
	}
}
