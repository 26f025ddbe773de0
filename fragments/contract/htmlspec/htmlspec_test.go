package htmlspec

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// names is every element the table knows, and ordinary ones beside them.
func names() []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.name)
	}
	out = append(out, "span", "label", "section", "ruby", "sub", "var", "abbr", "canvas", "video", "custom-element")
	slices.Sort(out)
	return slices.Compact(out)
}

// has reports whether the element named n has flag f.
func has(n string, f Flags) bool {
	_, flags := Lookup([]byte(n))
	return flags&f != 0
}

// parse parses markup as the body of a no-quirks document with
// x/net/html, which implements the spec's tree builder, and returns the
// first element named n in the body (img for image), or nil when the tree
// builder dropped it.
func parse(t *testing.T, markup, n string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader("<!DOCTYPE html><html><body>" + markup))
	if err != nil {
		t.Fatal(err)
	}
	if n == "image" {
		n = "img"
	}
	var body, found *html.Node
	for node := range doc.Descendants() {
		if node.DataAtom == atom.Body && body == nil {
			body = node
		}
	}
	for node := range body.Descendants() {
		if node.Type == html.ElementNode && node.Data == n && found == nil {
			found = node
		}
	}
	return found
}

// The facts the tree builder shows are checked against x/net/html's.
func TestFlagsMatchTheTreeBuilder(t *testing.T) {
	// The tree builder drops these start tags in a body: a frame outside a
	// frameset, table parts outside a table, a second html, head or body.
	dropped := []string{"body", "caption", "col", "colgroup", "frame", "frameset", "head", "html", "tbody", "td", "tfoot", "th", "thead", "tr"}
	for _, n := range names() {
		// Void: <n>x leaves x outside the element.
		el := parse(t, "<"+n+">x", n)
		if el == nil {
			if !slices.Contains(dropped, n) {
				t.Errorf("<%s> was dropped from a body", n)
			}
			if n == "frame" || n == "col" {
				if !has(n, Void) {
					t.Errorf("%s: not Void", n)
				}
			}
			continue
		}
		// (A table's text goes before it: it is checked with a row.)
		if n == "table" {
			el = parse(t, "<table><tr>", n)
		}
		if got, want := has(n, Void), el.FirstChild == nil; got != want {
			t.Errorf("%s: Void is %t, the tree builder says %t", n, got, want)
		}
		// RawText, ScriptData, Plaintext: <n><b> is text.
		el = parse(t, "<"+n+"><b>x</b>", n)
		text := el.FirstChild != nil && el.FirstChild.Type == html.TextNode && strings.HasPrefix(el.FirstChild.Data, "<b>")
		if got := has(n, RawText|ScriptData|Plaintext); got != text {
			t.Errorf("%s: RawText, ScriptData or Plaintext is %t, the tree builder says %t", n, got, text)
		}
		// ClosesP: <p><n> does not put n inside the p. <li>, <dd> and <dt>
		// close it too, as the last step of their own rules.
		el = parse(t, "<p><"+n+">", n)
		closes := el.Parent.DataAtom != atom.P && !slices.Contains([]string{"li", "dd", "dt"}, n)
		if got := has(n, ClosesP); got != closes {
			t.Errorf("%s: ClosesP is %t, the tree builder says %t", n, got, closes)
		}
		// Breakout: <svg><n> is an HTML element outside the svg.
		if n != "svg" && n != "math" {
			el = parse(t, "<svg><"+n+" color=red>", n)
			out := el != nil && el.Namespace == "" && el.Parent.DataAtom != atom.Svg
			if got := has(n, Breakout); got != out {
				t.Errorf("%s: Breakout is %t, the tree builder says %t", n, got, out)
			}
		}
	}
}

// The facts stated as lists in the HTML Standard are checked against them.
func TestFlagsMatchTheStandard(t *testing.T) {
	lists := []struct {
		flag Flags
		spec string
	}{
		// §13.2.4.3 The list of active formatting elements.
		{Formatting, "a b big code em font i nobr s small strike strong tt u"},
		// §13.2.4.3 The special category, HTML namespace.
		{Special, "address applet area article aside base basefont bgsound blockquote body br button caption center " +
			"col colgroup dd details dir div dl dt embed fieldset figcaption figure footer form frame frameset " +
			"h1 h2 h3 h4 h5 h6 head header hgroup hr html iframe img input keygen li link listing main marquee " +
			"menu meta nav noembed noframes noscript object ol p param plaintext pre script search section " +
			"select source style summary table tbody td template textarea tfoot th thead title tr track ul wbr xmp"},
		// §13.2.4.2 Has an element in scope, HTML namespace.
		{ScopeBoundary, "applet caption html table td th marquee object template"},
		// §13.2.6.3 Generate implied end tags.
		{ImpliedEnd, "dd dt li optgroup option p rb rp rt rtc"},
		// §13.1.2.4 Optional tags: the end tags that may be omitted.
		{OptionalEnd, "html head body li dt dd p rt rp optgroup option colgroup caption thead tbody tfoot tr td th"},
		// §13.1.2.6 and §13.2.5: raw text, escapable raw text and script data.
		{RawText, "style xmp iframe noembed noframes noscript textarea title"},
		{ScriptData, "script"},
		// §13.2.6.5 HTML integration points and MathML text integration points.
		{SVGIntegration, "foreignobject desc title"},
		{MathMLText, "mi mo mn ms mtext"},
		{Foreign, "svg math"},
		// §4.9 Tabular data: the elements that live only in a table.
		{TablePart, "caption colgroup col tbody thead tfoot tr td th"},
	}
	for _, l := range lists {
		want := strings.Fields(l.spec)
		for _, n := range names() {
			if got := has(n, l.flag); got != slices.Contains(want, n) {
				t.Errorf("%s: flag %b is %t, the Standard's list says %t", n, l.flag, got, !got)
			}
		}
		for _, n := range want {
			if a, _ := Lookup([]byte(n)); a == 0 || a != atom.Lookup([]byte(n)) {
				t.Errorf("%s: Lookup gives atom %v, x/net/html/atom %v", n, a, atom.Lookup([]byte(n)))
			}
		}
	}
}

func TestLookup(t *testing.T) {
	cases := []struct {
		name string
		want Flags
	}{
		{"br", Void | Special | Breakout},
		{"p", Special | ImpliedEnd | OptionalEnd | ClosesP | Breakout | ScopedEnd},
		{"title", RawText | Special | SVGIntegration},
		{"span", Breakout},
		{"label", 0},
		{"custom-element", 0},
		{"", 0},
		{"DIV", 0}, // names are looked up lower case
	}
	for _, tc := range cases {
		if _, got := Lookup([]byte(tc.name)); got != tc.want {
			t.Errorf("Lookup(%q) = %b, want %b", tc.name, got, tc.want)
		}
	}
	if Of(0) != 0 || Of(atom.Label) != 0 || Of(atom.P) != Special|ImpliedEnd|OptionalEnd|ClosesP|Breakout|ScopedEnd {
		t.Errorf("Of(0), Of(label), Of(p) = %b, %b, %b", Of(0), Of(atom.Label), Of(atom.P))
	}
	for _, e := range entries {
		if a, f := Lookup([]byte(e.name)); a != e.a || f != Of(e.a) || f == 0 {
			t.Errorf("%s: Lookup gives %b, Of %b", e.a, f, Of(e.a))
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	tags := [][]byte{[]byte("div"), []byte("li"), []byte("a"), []byte("img"), []byte("span"), []byte("custom-element")}
	for b.Loop() {
		for _, n := range tags {
			Lookup(n)
		}
	}
}
