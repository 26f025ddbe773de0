package layout

import (
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/inlayhq/inlay/composer/config"
)

// render concatenates a layout's chunks with each slot shown as [id].
func render(l *Layout) string {
	var b strings.Builder
	for i, s := range l.Slots {
		b.Write(l.chunks[i])
		b.WriteString("[" + s.ID + "]")
	}
	b.Write(l.chunks[len(l.Slots)])
	return b.String()
}

func loadTestLayouts(t *testing.T, files map[string]string) (*Folder, config.Problems) {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	l, err := Load(fsys, "layouts", testServices(t))
	if err != nil {
		ps, ok := err.(config.Problems)
		if !ok {
			t.Fatalf("Load: %v", err)
		}
		return nil, ps
	}
	return l, nil
}

const baseLayout = `<html><head><title><slot name="title">Shop</slot></title></head><body>
<fragment id="header" src="shell:/header"/>
<main><slot name="main"><p>nothing here</p></slot></main>
<template><slot name="wc">web component slot</slot></template>
</body></html>`

func TestLayoutInheritance(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		page  string
		want  string
	}{
		{
			name:  "fills replace slots, unfilled slots show defaults",
			files: map[string]string{"base.html": baseLayout, "p.html": `<layout base="base.html"><fill slot="main"><fragment id="product" src="search:/p/{sku}" primary></fragment></fill></layout>`},
			page:  "p.html",
			want: `<html><head><title>Shop</title></head><body>
[header]
<main>[product]</main>
<template><slot name="wc">web component slot</slot></template>
</body></html>`,
		},
		{
			name:  "a base used as a page shows its defaults",
			files: map[string]string{"base.html": baseLayout},
			page:  "base.html",
			want: `<html><head><title>Shop</title></head><body>
[header]
<main><p>nothing here</p></main>
<template><slot name="wc">web component slot</slot></template>
</body></html>`,
		},
		{
			name: "three levels: a fill declares a slot for the next layout",
			files: map[string]string{
				"base.html":    baseLayout,
				"twocol.html":  `<layout base="base.html"><fill slot="main"><div class="cols"><slot name="left"/><slot name="right">R</slot></div></fill></layout>`,
				"product.html": "<!-- a product page -->\n<layout base=\"twocol.html\">\n  <fill slot=\"left\">L<fragment id=\"x\" src=\"shell:/x\"/></fill>\n  <fill slot=\"title\">Boots</fill>\n</layout>\n",
			},
			page: "product.html",
			want: `<html><head><title>Boots</title></head><body>
[header]
<main><div class="cols">L[x]R</div></main>
<template><slot name="wc">web component slot</slot></template>
</body></html>`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, problems := loadTestLayouts(t, tc.files)
			if problems != nil {
				t.Fatalf("problems: %v", problems)
			}
			if got := render(l.Get(tc.page)); got != tc.want {
				t.Errorf("page:\ngot  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestInheritedSlotsKeepTheirOwnPositions(t *testing.T) {
	l, problems := loadTestLayouts(t, map[string]string{
		"base.html": baseLayout,
		"p.html":    "<layout base=\"base.html\">\n<fill slot=\"main\">\n  <fragment id=\"p\" src=\"search:/p\" primary/>\n</fill>\n</layout>",
	})
	if problems != nil {
		t.Fatal(problems)
	}
	slots := l.Get("p.html").Slots
	if got := [2]string{slots[0].File + ":" + itoa(slots[0].Line), slots[1].File + ":" + itoa(slots[1].Line)}; got != [2]string{"layouts/base.html:2", "layouts/p.html:3"} {
		t.Errorf("slot positions %v", got)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestLayoutInheritanceProblems(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"unknown base", map[string]string{"p.html": "\n<layout base=\"nope.html\"></layout>"}, []string{`layouts/p.html:2:1: base layout "nope.html" not found`}},
		{"cycle", map[string]string{"a.html": `<layout base="b.html"></layout>`, "b.html": `<layout base="a.html"></layout>`},
			[]string{"layouts/a.html:1:1: layout cycle: a.html → b.html → a.html", "layouts/a.html:1:1: base layout \"b.html\" has problems"}},
		{"unknown slot", map[string]string{"base.html": baseLayout, "p.html": "<layout base=\"base.html\">\n  <fill slot=\"mian\">x</fill></layout>"},
			[]string{`layouts/p.html:2:3: fill "mian": base.html has no slot "mian" (it has: title, main)`}},
		{"content outside fills", map[string]string{"base.html": baseLayout, "p.html": `<layout base="base.html"><p>lost</p></layout>`},
			[]string{"layouts/p.html:1:26: <p> outside <fill>"}},
		{"fragment error inside a fill points at the fill's file", map[string]string{"base.html": baseLayout, "p.html": "<layout base=\"base.html\"><fill slot=\"main\">\n\n   <fragment src=\"nope:/x\"/></fill></layout>"},
			[]string{`layouts/p.html:3:4: src "nope:/x": unknown service "nope"`}},
		{"unclosed fragment in a fill is reported in the fill's file", map[string]string{
			"base.html": "<main><slot name=\"main\"></slot></main>\n<footer><fragment id=\"footer\" src=\"shell:/f\"></fragment></footer>",
			"home.html": "<layout base=\"base.html\">\n<fill slot=\"main\">\n\n\n    <fragment id=\"x\" src=\"shell:/a\">\n</fill></layout>"},
			[]string{"layouts/home.html:5:5: <fragment> is never closed in its file"}},
		{"slot without name", map[string]string{"base.html": `<slot>x</slot>`, "p.html": `<layout base="base.html"></layout>`},
			[]string{"layouts/base.html:1:1: <slot> without name", "layouts/p.html:1:1: base layout"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, problems := loadTestLayouts(t, tc.files)
			if len(problems) < len(tc.want) {
				t.Fatalf("got problems %q, want %q", problems.Error(), tc.want)
			}
			if strings.Contains(tc.name, "reported in the fill's file") {
				for _, p := range problems {
					if p.File != "layouts/home.html" {
						t.Errorf("problem reported in %s, want every one in layouts/home.html: %s", p.File, p)
					}
				}
			}
			for _, w := range tc.want {
				found := false
				for _, p := range problems {
					found = found || strings.HasPrefix(p.Error(), w)
				}
				if !found {
					t.Errorf("no problem starting %q in:\n%s", w, problems.Error())
				}
			}
		})
	}
}

func TestESIMapsOntoFragments(t *testing.T) {
	l, problems := Parse("esi.html", []byte(`<body>`+
		`<esi:include src="shell:/header" alt="shell:/header-static" onerror="continue"/>`+
		`<esi:remove><a href="/fallback">no ESI</a></esi:remove>`+
		`<!--esi <esi:include src="http://127.0.0.1:9102/team/recos"></esi:include> -->`+
		`</body>`), testServices(t))
	if problems != nil {
		t.Fatal(problems)
	}
	if got, want := render(l), `<body>[esi-1] [esi-2] </body>`; got != want {
		t.Errorf("page: got %q, want %q", got, want)
	}
	if l.Slots[0].Fallback == nil || l.Slots[0].Fallback.Raw != "shell:/header-static" {
		t.Errorf("alt did not become the fallback: %+v", l.Slots[0])
	}
	if u := l.Slots[1].Src.URL(nil); u != "http://127.0.0.1:9102/team/recos" {
		t.Errorf("esi src URL %q", u)
	}
}

func TestESIProblems(t *testing.T) {
	cases := []struct{ layout, want string }{
		{`<esi:include src="http://169.254.169.254/"/>`, `e.html:1:1: src "http://169.254.169.254/"`},
		{`<esi:include src="shell:/a" onerror="abort"/>`, `e.html:1:1: onerror="abort": only onerror="continue"`},
		{`<esi:include/>`, "e.html:1:1: <esi:include> without src"},
		{`<esi:choose></esi:choose>`, "e.html:1:1: <esi:choose> is not supported"},
		{"<p>\n<esi:remove>x", "e.html:2:1: <esi:remove> is never closed"},
		{"<!--esi <p>", "e.html:1:1: <!--esi is never closed"},
	}
	for _, tc := range cases {
		_, problems := Parse("e.html", []byte(tc.layout), testServices(t))
		if len(problems) == 0 || !strings.HasPrefix(problems[0].Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.layout, problems, tc.want)
		}
	}
}
