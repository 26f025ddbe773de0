package layout

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestUnclosedElements(t *testing.T) {
	cases := []struct {
		name, layout string
		want         []string
	}{
		{"balanced", `<div><p>text<br><img src="x"></div><ul><li>a<li>b</ul>`, nil},
		{"unclosed div", "<main>\n  <div class=\"a\">\n</main>", []string{"l.html:2:3: <div> is never closed before </main>"}},
		{"unclosed at the end", "<section>", []string{"l.html:1:1: <section> is never closed: add </section>"}},
		{"stray end tag", "<div></span></div>", []string{"l.html:1:6: </span> closes no open <span>"}},
		{"raw text is not markup", "<script>if (a<div) {}</script><style>p>div{}</style>", nil},
		{"svg self-closing", `<svg><path d="M0"/></svg>`, nil},
		// The void elements are the tree builder's: obsolete ones too.
		{"obsolete void elements", `<div><basefont><bgsound><image src="x"><keygen><param></div>`, nil},
		{"optional end tags", `<table><caption>c<colgroup><col><thead><tr><th>a<tbody><tr><td>b<td>c</table>`, nil},
		{"fragments are the parser's", `<div><fragment src="shell:/a"><p>fallback</p></fragment></div>`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, problems := Parse("l.html", []byte(tc.layout), testServices(t))
			if l == nil {
				t.Fatalf("layout did not parse: %v", problems)
			}
			if len(l.Warnings) != len(tc.want) {
				t.Fatalf("got warnings %q, want %q", l.Warnings.Error(), tc.want)
			}
			for i, w := range tc.want {
				if got := l.Warnings[i].Error(); !strings.HasPrefix(got, w) {
					t.Errorf("warning %d: got %q, want prefix %q", i, got, w)
				}
			}
		})
	}
}

// TestLayoutsWarningsOncePerFile: a base layout's warning is reported
// once, in the base's file, however many pages are built on it.
func TestLayoutsWarningsOncePerFile(t *testing.T) {
	l, ps := loadTestLayouts(t, map[string]string{
		"base.html": "<main><slot name=\"main\"></slot></main>\n<aside>",
		"a.html":    `<layout base="base.html"><fill slot="main"><p>a</p></fill></layout>`,
		"b.html":    `<layout base="base.html"><fill slot="main"><div>b</fill></layout>`,
	})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	got := l.Warnings().Error()
	want := "layouts/b.html:1:44: <div> is never closed before </main>: add </div> where it should end\nlayouts/base.html:2:1: <aside> is never closed: add </aside> where it should end"
	if got != want {
		t.Errorf("warnings:\n%s\nwant\n%s", got, want)
	}
}

// TestWarningsOfABrokenFile (issue 25, finding 5): after a reload that
// finds a problem in a file, the warnings of that file as it now reads
// are listed with it, not the warnings of the last good version that
// serves meanwhile; a fixed warning goes.
func TestWarningsOfABrokenFile(t *testing.T) {
	fsys := fstest.MapFS{"p.html": &fstest.MapFile{Data: []byte("<main>\n<aside>\n</main>")}}
	l, err := Load(fsys, "layouts", testServices(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Warnings().Error(); !strings.HasPrefix(got, "layouts/p.html:2:1: <aside> is never closed") {
		t.Fatalf("warnings %q, want the unclosed aside", got)
	}
	fsys["p.html"] = &fstest.MapFile{Data: []byte("<main>\n<div>\n<fragment src=\"nope:/x\"></fragment></main>")}
	if ps := l.Reload(); len(ps) != 1 {
		t.Fatalf("reload problems %v, want one", ps)
	}
	if got := l.Warnings().Error(); !strings.HasPrefix(got, "layouts/p.html:2:1: <div> is never closed") || strings.Contains(got, "aside") {
		t.Errorf("warnings of the broken file %q, want its unclosed div and no longer the aside", got)
	}
	if old := l.Get("p.html"); old == nil || len(old.Warnings) != 1 || !strings.Contains(old.Warnings[0].Message, "<aside>") {
		t.Errorf("the last good version serving is not the one with the aside")
	}
}

// TestNoWarningsOfAnUnreadableFile: a file that cannot be read as markup
// at all (binary garbage, over the size cap) has its one problem and no
// warnings, not one "never closed" per byte run that looks like a tag.
func TestNoWarningsOfAnUnreadableFile(t *testing.T) {
	fsys := fstest.MapFS{"p.html": &fstest.MapFile{Data: []byte("<main></main>")}}
	l, err := Load(fsys, "layouts", testServices(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"not UTF-8": []byte("<main>\n<ab\xff\xfe>\n<cd\xfe>"),
		"too large": append([]byte("<main>\n<aside>\n"), make([]byte, MaxBytes)...),
	} {
		fsys["p.html"] = &fstest.MapFile{Data: data}
		if ps := l.Reload(); len(ps) != 1 {
			t.Errorf("%s: reload problems %v, want one", name, ps)
		}
		if ws := l.Warnings(); len(ws) != 0 {
			t.Errorf("%s: warnings %v, want none", name, ws)
		}
	}
}
