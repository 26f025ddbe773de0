package contract

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// parseAssetsTests are the cases of TestParseAssets and the seeds of
// FuzzParseAssets. Each entry of links is one Link header line.
var parseAssetsTests = []struct {
	name  string
	links []string
	want  []Asset
}{
	{"stylesheet", []string{`</a.css>; rel=stylesheet`}, []Asset{{Stylesheet, "/a.css"}}},
	{"absolute https, quoted rel", []string{`<https://cdn.example/a.css>; rel="stylesheet"`}, []Asset{{Stylesheet, "https://cdn.example/a.css"}}},
	{"absolute http", []string{`<http://cdn.example/a.css>; rel=stylesheet`}, []Asset{{Stylesheet, "http://cdn.example/a.css"}}},
	{"modulepreload", []string{`</m.js>; rel=modulepreload`}, []Asset{{ModuleScript, "/m.js"}}},
	{"fragment-script", []string{`</s.js>; rel=fragment-script`}, []Asset{{Script, "/s.js"}}},
	{"script", []string{`</s.js>; rel=script`}, []Asset{{Script, "/s.js"}}},
	{"rel is case-insensitive", []string{`</a.css>; REL=StyleSheet`}, []Asset{{Stylesheet, "/a.css"}}},
	{"other params around rel", []string{`</a.css>; as=style; rel=stylesheet; crossorigin`}, []Asset{{Stylesheet, "/a.css"}}},
	{"spaces around the parts", []string{`  < /a.css > ;  rel = stylesheet  `}, []Asset{{Stylesheet, "/a.css"}}},
	{"query and fragment kept", []string{`</a.css?v=1&x=%20#top>; rel=stylesheet`}, []Asset{{Stylesheet, "/a.css?v=1&x=%20#top"}}},
	{
		"several links in one line",
		[]string{`</a.css>; rel=stylesheet, </m.js>; rel=modulepreload, </s.js>; rel=script`},
		[]Asset{{Stylesheet, "/a.css"}, {ModuleScript, "/m.js"}, {Script, "/s.js"}},
	},
	{
		"several lines",
		[]string{`</a.css>; rel=stylesheet`, `</b.css>; rel=stylesheet, </m.js>; rel=modulepreload`, `</s.js>; rel=fragment-script`},
		[]Asset{{Stylesheet, "/a.css"}, {Stylesheet, "/b.css"}, {ModuleScript, "/m.js"}, {Script, "/s.js"}},
	},
	{
		"comma inside the target",
		[]string{`</fonts/a,b.css>; rel=stylesheet, </c.css>; rel=stylesheet`},
		[]Asset{{Stylesheet, "/fonts/a,b.css"}, {Stylesheet, "/c.css"}},
	},
	{"rel list", []string{`</a.css>; rel="preload stylesheet"`}, []Asset{{Stylesheet, "/a.css"}}},
	{
		"ignored links among kept ones",
		[]string{`<javascript:alert(1)>; rel=script, </ok.js>; rel=script, </p.css>; rel=preload`},
		[]Asset{{Script, "/ok.js"}},
	},
	{"preload alone", []string{`</a.css>; rel=preload`}, nil},
	{"preload as style", []string{`</a.css>; rel=preload; as=style`}, nil},
	{"no rel", []string{`</a.css>; as=style`}, nil},
	{"javascript URL", []string{`<javascript:alert(1)>; rel=script`}, nil},
	{"data URL", []string{`<data:text/css,body{}>; rel=stylesheet`}, nil},
	{"protocol-relative", []string{`<//evil.example/x.css>; rel=stylesheet`}, nil},
	{"relative without slash", []string{`<a.css>; rel=stylesheet`}, nil},
	{"other scheme", []string{`<ftp://cdn.example/a.css>; rel=stylesheet`}, nil},
	{"double quote in target", []string{`</a".css>; rel=stylesheet`}, nil},
	{"single quote in target", []string{`</a'.css>; rel=stylesheet`}, nil},
	{"space in target", []string{`</a b.css>; rel=stylesheet`}, nil},
	{"tab in target", []string{"</a\tb.css>; rel=stylesheet"}, nil},
	{"less-than in target", []string{`</a<b.css>; rel=stylesheet`}, nil},
	{"greater-than in target", []string{`</a>b.css>; rel=stylesheet`}, nil},
	{"backslash in target", []string{`</\evil.example/x.css>; rel=stylesheet`}, nil},
	{"control character in target", []string{"</a\x00.css>; rel=stylesheet"}, nil},
	{"DEL in target", []string{"</a\x7f.css>; rel=stylesheet"}, nil},
	{"empty target", []string{`<>; rel=stylesheet`}, nil},
	{"target too long", []string{"</" + strings.Repeat("a", 2048) + ">; rel=stylesheet"}, nil},
	{"no angle brackets", []string{`/a.css; rel=stylesheet`}, nil},
	{"unterminated target", []string{`</a.css; rel=stylesheet`}, nil},
	{"empty header line", []string{""}, nil},
	{"only separators", []string{" , ,, "}, nil},
	{"no Link header", nil, nil},
}

func TestParseAssets(t *testing.T) {
	for _, tc := range parseAssetsTests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, line := range tc.links {
				h.Add("Link", line)
			}
			got := ParseAssets(h)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseAssets(%q):\ngot  %+v\nwant %+v", tc.links, got, tc.want)
			}
		})
	}
}

// FuzzParseAssets feeds Link header lines separated by newlines. Whatever
// they hold, ParseAssets must not panic and every asset it returns must be
// safe to put in an attribute and load from the page's own origin or over
// http(s).
func FuzzParseAssets(f *testing.F) {
	for _, tc := range parseAssetsTests {
		f.Add(strings.Join(tc.links, "\n"))
	}
	f.Fuzz(func(t *testing.T, links string) {
		h := http.Header{"Link": strings.Split(links, "\n")}
		for _, a := range ParseAssets(h) {
			if a.Kind != Stylesheet && a.Kind != ModuleScript && a.Kind != Script {
				t.Errorf("asset %q: got kind %d, want Stylesheet, ModuleScript or Script", a.URL, a.Kind)
			}
			u := a.URL
			local := strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//")
			if !local && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				t.Errorf("asset URL %q: want a path starting with one /, or http:// or https://", u)
			}
			for i := 0; i < len(u); i++ {
				if c := u[i]; c <= ' ' || c == 0x7f || strings.IndexByte(`"'<>\`, c) >= 0 {
					t.Errorf("asset URL %q: byte %#02x at %d, want no quote, angle bracket, backslash, space or control character", u, c, i)
				}
			}
			if !strings.Contains(links, u) {
				t.Errorf("asset URL %q does not appear in the header %q: it must be exactly as declared", u, links)
			}
		}
	})
}
