package layout

import (
	"bytes"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/inlayhq/inlay/composer/config"
)

func testServices(t testing.TB) map[string]*config.Service {
	t.Helper()
	cfg, err := config.Parse("t.yaml", []byte(`
services:
  shell:
    url: http://127.0.0.1:9101
  search:
    url: http://127.0.0.1:9102/team
`))
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Services
}

func TestParseLayoutSlots(t *testing.T) {
	services := testServices(t)
	cases := []struct {
		name   string
		layout string
		chunks []string
		slots  []Slot // compared on ID, Primary, Async, Timeout, Inline, Line, Col
		urls   []string
	}{
		{
			name:   "no fragments",
			layout: "<p>static</p>",
			chunks: []string{"<p>static</p>"},
		},
		{
			name:   "self-closing and paired",
			layout: "<a>\n  <fragment src=\"shell:/h\"/>\n<b><fragment id=\"main\" src=\"search:/r?q={q}\" primary timeout=\"250ms\"></fragment></b>",
			chunks: []string{"<a>\n  ", "\n<b>", "</b>"},
			slots: []Slot{
				{ID: "shell-1", Line: 2, Col: 3},
				{ID: "main", Primary: true, Timeout: 250 * time.Millisecond, Line: 3, Col: 4},
			},
			urls: []string{"http://127.0.0.1:9101/h", "http://127.0.0.1:9102/team/r?q=V"},
		},
		{
			name:   "inline fallback and async",
			layout: `<fragment id="x" src="shell:/x" async><em>sorry</em></fragment>!`,
			chunks: []string{"", "!"},
			slots:  []Slot{{ID: "x", Async: true, Inline: []byte("<em>sorry</em>"), Line: 1, Col: 1}},
			urls:   []string{"http://127.0.0.1:9101/x"},
		},
		{
			name:   "placeholders in raw text are not slots",
			layout: `<script>var s = '<fragment src="shell:/no">';</script><textarea><fragment src="shell:/no"></textarea><!-- <fragment src="shell:/no"> -->`,
			chunks: []string{`<script>var s = '<fragment src="shell:/no">';</script><textarea><fragment src="shell:/no"></textarea><!-- <fragment src="shell:/no"> -->`},
		},
		{
			name:   "absolute src on a registered origin",
			layout: `<fragment src="http://127.0.0.1:9102/team/p/{sku}"></fragment>`,
			chunks: []string{"", ""},
			slots:  []Slot{{ID: "search-1", Line: 1, Col: 1}},
			urls:   []string{"http://127.0.0.1:9102/team/p/V"},
		},
		{
			name:   "upper-case tag and attributes",
			layout: `<FRAGMENT SRC="shell:/x" PRIMARY></FRAGMENT>`,
			chunks: []string{"", ""},
			slots:  []Slot{{ID: "shell-1", Primary: true, Line: 1, Col: 1}},
			urls:   []string{"http://127.0.0.1:9101/x"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, problems := Parse("l.html", []byte(tc.layout), services)
			if problems != nil {
				t.Fatalf("problems: %v", problems)
			}
			if len(l.chunks) != len(tc.chunks) {
				t.Fatalf("got %d chunks %q, want %q", len(l.chunks), l.chunks, tc.chunks)
			}
			for i := range tc.chunks {
				if string(l.chunks[i]) != tc.chunks[i] {
					t.Errorf("chunk %d: got %q, want %q", i, l.chunks[i], tc.chunks[i])
				}
			}
			if want := len(strings.Join(tc.chunks, "")); l.StaticBytes() != want {
				t.Errorf("StaticBytes: got %d, want %d (the chunks' length)", l.StaticBytes(), want)
			}
			if len(l.Slots) != len(tc.slots) {
				t.Fatalf("got %d slots, want %d", len(l.Slots), len(tc.slots))
			}
			for i, want := range tc.slots {
				got := l.Slots[i]
				if got.ID != want.ID || got.Primary != want.Primary || got.Async != want.Async || got.Timeout != want.Timeout ||
					!bytes.Equal(got.Inline, want.Inline) || got.Line != want.Line || got.Col != want.Col {
					t.Errorf("slot %d: got %+v, want %+v", i, *got, want)
				}
				if u := got.Src.URL(func(string) string { return "V" }); u != tc.urls[i] {
					t.Errorf("slot %d URL: got %q, want %q", i, u, tc.urls[i])
				}
			}
		})
	}
}

func TestParseLayoutProblems(t *testing.T) {
	services := testServices(t)
	cases := []struct {
		name, layout string
		want         []string // FILE:LINE:COL: message prefixes
	}{
		{"unknown service", `<fragment src="nope:/x"></fragment>`, []string{`l.html:1:1: src "nope:/x": unknown service "nope" (the config has: search, shell)`}},
		{"missing src", "\n\n  <fragment id=\"a\"></fragment>", []string{"l.html:3:3: <fragment> without src"}},
		{"two primaries", "<fragment id=\"a\" src=\"shell:/a\" primary></fragment>\n<fragment id=\"b\" src=\"shell:/b\" primary></fragment>",
			[]string{`l.html:2:1: second primary fragment "b" (the first, "a", is at 1:1)`}},
		{"unknown attribute", `<fragment src="shell:/a" tiemout="1s"></fragment>`, []string{`l.html:1:26: unknown attribute "tiemout"`}},
		{"bad timeout", `<fragment src="shell:/a" timeout="soon"></fragment>`, []string{`l.html:1:26: bad timeout "soon"`}},
		{"huge timeout", `<fragment src="shell:/a" timeout="2h"></fragment>`, []string{`l.html:1:26: timeout "2h" must be above 0`}},
		{"raw metadata host", `<fragment src="http://169.254.169.254/latest/meta-data/"></fragment>`, []string{"l.html:1:1: src \"http://169.254.169.254/latest/meta-data/\": http://169.254.169.254 is not the URL of a registered service"}},
		{"userinfo trick", `<fragment src="http://127.0.0.1:9101@169.254.169.254/"></fragment>`, []string{"l.html:1:1: src"}},
		{"file scheme", `<fragment src="file:///etc/passwd"></fragment>`, []string{"l.html:1:1: src"}},
		{"gopher scheme", `<fragment src="gopher://127.0.0.1:9101/"></fragment>`, []string{"l.html:1:1: src"}},
		{"decimal ip", `<fragment src="http://2130706433/"></fragment>`, []string{"l.html:1:1: src"}},
		{"crlf in src", "<fragment src=\"shell:/a\r\nHost: evil\"></fragment>", []string{"l.html:1:1: src"}},
		{"dot segments", `<fragment src="shell:/a/../admin"></fragment>`, []string{"l.html:1:1: src"}},
		{"protocol-relative path", `<fragment src="shell://evil/"></fragment>`, []string{"l.html:1:1: src"}},
		{"unclosed", "<p>\n<fragment src=\"shell:/a\">\n<p>", []string{"l.html:2:1: <fragment> is never closed"}},
		{"nested", `<fragment src="shell:/a"><fragment src="shell:/b"></fragment></fragment>`, []string{"l.html:1:1: <fragment> is never closed: <fragment> at 1:26 would be inside it", "l.html:1:62: </fragment> without"}},
		{"stray end", `<p></fragment>`, []string{"l.html:1:4: </fragment> without an opening <fragment>"}},
		{"duplicate id", `<fragment id="a" src="shell:/a"/><fragment id="a" src="shell:/b"/>`, []string{`l.html:1:34: fragment id "a" is used twice (first at 1:1)`}},
		{"primary async", `<fragment src="shell:/a" primary async/>`, []string{"l.html:1:1: a primary fragment cannot be async"}},
		{"bad fallback", `<fragment src="shell:/a" fallback-src="nope:/b"/>`, []string{`l.html:1:1: fallback-src: src "nope:/b": unknown service`}},
		{"bad param", `<fragment src="shell:/a/{bad name}"/>`, []string{"l.html:1:1: src"}},
		{"binary garbage", "<p>\xff\xfe</p>", []string{"l.html:1:4: layout is not UTF-8 text"}},
		{"nul byte", "<p>\n\x00</p>", []string{"l.html:2:1: layout contains a NUL byte"}},
		{"columns count characters", "<p>ÄÖÜ<fragment/></p>", []string{"l.html:1:7: <fragment> without src"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, problems := Parse("l.html", []byte(tc.layout), services)
			if l != nil {
				t.Fatalf("got a layout, want problems %q", tc.want)
			}
			if len(problems) != len(tc.want) {
				t.Fatalf("got problems %q, want %q", problems.Error(), tc.want)
			}
			for i, want := range tc.want {
				if got := problems[i].Error(); !strings.HasPrefix(got, want) {
					t.Errorf("problem %d: got %q, want prefix %q", i, got, want)
				}
			}
		})
	}
}

func TestParseLayoutRejectsHugeFiles(t *testing.T) {
	_, problems := Parse("big.html", bytes.Repeat([]byte("a"), MaxBytes+1), testServices(t))
	if len(problems) != 1 || !strings.Contains(problems[0].Error(), "more than the") {
		t.Fatalf("got %v, want one size problem", problems)
	}
}

// FuzzParse checks that the parser never panics, that a parsed layout
// gives back its input exactly, and that its slots are well formed.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`<fragment src="shell:/a" primary></fragment>`,
		`<html><body><fragment id="x" src="search:/p/{sku}?q={q}" timeout="1s" fallback-src="shell:/f" async>alt</fragment></body></html>`,
		`<esi:include src=/>`, `<fragment src=shell:/x`, `<fragment src="shell:/ x">`, `</>`, `<fragment><fragment></fragment>`,
		`<!--# include virtual="/x" -->`, `<script><fragment src="shell:/a"></script>`, `<fragment src="http://127.0.0.1:9101/a"/>`,
		"<fragment src=\"shell:/\xff\"/>", `<fragment src="shell:/{a}{b}"/>`, `<plaintext><fragment src="shell:/a">`,
	} {
		f.Add([]byte(seed))
	}
	services := testServices(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		l, problems := Parse("f.html", data, services)
		if l == nil {
			if len(problems) == 0 {
				t.Fatal("no layout and no problems")
			}
			for _, p := range problems {
				if p.Line < 1 || p.Col < 1 {
					t.Fatalf("problem without position: %v", p)
				}
			}
			return
		}
		if len(l.chunks) != len(l.Slots)+1 {
			t.Fatalf("%d chunks for %d slots", len(l.chunks), len(l.Slots))
		}
		primaries := 0
		for _, s := range l.Slots {
			if s.Src == nil || s.ID == "" {
				t.Fatalf("slot without src or id: %+v", s)
			}
			if s.Primary {
				primaries++
			}
			u := s.Src.URL(func(string) string { return "../x?y=z#w" })
			if !strings.HasPrefix(u, "http://127.0.0.1:9101/") && !strings.HasPrefix(u, "http://127.0.0.1:9102/team/") {
				t.Fatalf("URL %q leaves its service", u)
			}
		}
		if primaries > 1 {
			t.Fatalf("%d primaries", primaries)
		}
		// The same bytes, read one at a time, parse to the same layout.
		var whole bytes.Buffer
		if _, err := whole.ReadFrom(iotest.OneByteReader(bytes.NewReader(data))); err != nil {
			t.Fatal(err)
		}
		l2, _ := Parse("f.html", whole.Bytes(), services)
		if l2 == nil || len(l2.Slots) != len(l.Slots) {
			t.Fatal("parse is not stable")
		}
	})
}
