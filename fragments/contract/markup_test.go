package contract

import (
	"bytes"
	"strings"
	"testing"

	"github.com/inlayhq/inlay/fragments/contract/htmlspec"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The bodies that blanked or displaced the rest of the page in
// Chromium, and their relatives: each must be refused.
var badBodies = []string{
	"<p>x</p><!--!>",     // <!--!> opens a comment, it does not close one
	"<template><p>x</p>", // the rest of the page would become template content
	"<select><option>x",  // the rest of the page would go into the select
	"<svg><![CDATA[x",    // CDATA in foreign content runs to ]]>
	"<p>x</p></body></html>",
	"<table><tr><td>x", // the rest of the page would be foster-parented
	"<p>x</p><!",       // a bogus comment runs to the next '>'
	"<!-- note",
	"<!-- a -- >",
	"<!--",
	"<!-",
	"<",
	"x </",
	"</",
	"<?php",
	"</ x",
	"<!DOCTYPE html",
	`<script>var s = "`,
	"<STYLE>p {",
	"<textarea>type",
	"<title>t",
	"<plaintext></plaintext>",
	"<noscript>",
	"<iframe>",
	"<xmp>",
	"<noembed>x",
	"<noframes>x",
	"<script><!--<script></script>", // double-escaped: </script> does not end it
	"<script><!--<script></script>--></script", // "</script" without '>' at the end
	`<a href="x`, // an attribute value left open
	"<a href='x",
	"<div",
	"<div class=x",
	"<div/>",        // not self-closing in HTML
	"<div hidden>x", // an open element would take in what follows
	"<details><summary>s</summary>x",
	"<dialog>x",
	"<object data=x.svg>",
	"<video>",
	"<svg><g>",
	"<svg><style><!--</style></svg>", // <style> in SVG is not raw text: <!-- opens a comment
	"<math><mtext></mtext>",
	"<math><annotation-xml><style><!--</style></annotation-xml></math>",
	"<svg><p>x</p></svg>", // a breakout: the browser ends the svg at <p>
	"</div>",              // closes the layout's element around the box
	"</template>",
	"</select>",
	"</table>",
	"<b><i>x</b>",        // <i> would be reopened around the rest of the page
	"<i><b hidden>x</i>", // and so would a hidden <b>
	"<b><div>x</b>",      // the adoption agency keeps the <div> open
	"<p hidden>x",
	"<li class=x>y",
	"<body hidden>",
	"<html hidden>",
	"<frameset>",
	"<div><table></div>", // </div> does not reach into a table
	"<select><style><!--</style></select>",
	"<select><textarea>",
	"<table><caption>x",
	"<marquee>x",
	"<tBodY><C></tBodY>", // a table part outside a table is dropped: <c> stays open
	"<td>x</td>",         // in the layout's own cell, it would close that cell
	"<ruBY><p></ruBY>",   // </ruby> stops at the special <p>: the ruby stays open
	"<span><li>x</span>",
}

// Bodies a careless but harmless team writes: each must pass.
var goodBodies = []string{
	"",
	"plain text",
	"a < b and c > d",
	"x </> y",
	"<p>open paragraph",
	"<p>one<p>two",
	"<ul><li>a<li>b</ul>",
	"<dl><dt>a<dd>b</dl>",
	"<li>loose item",
	`<script>let a = "</p>";</script><p>x</p>`,
	"<script>if (a<b && c-->d) {}</script>",
	"<script><!--</script>",
	"<script><!--<script></script>--></script>",
	"<script><!--> <script></script>",
	"<SCRIPT>x</SCRIPT >",
	"<!-- fine --><p>x</p>",
	"<!---->",
	"<!-->",
	"<!--->",
	"<!-- a --!>",
	"<!-- a ---->",
	"<!DOCTYPE html>",
	"<?xml version=1.0?>",
	"<![CDATA[ bogus in HTML ]]>",
	"<style>p{}</style>",
	"<style>a::after{content:\"</p>\"}</style>",
	"<textarea>a</textarea>",
	"<title>t</title>",
	`<img src="a.png" alt="a > b">`,
	`<a href='/x' title="it's">x</a>`,
	`<div data-x=a"b>x</div>`,
	`<input value="" disabled>`,
	"<br/><hr/>",
	"<table><tr><td>a<td>b<tr><td>c</table>",
	"<table><thead><tr><th>h</th></tr></thead><tbody><tr><td>d</td></tr></tbody></table>",
	"<select><option>a<option>b</select>",
	"<select><optgroup label=x><option>a</optgroup></select>",
	"<template><p>x</p></template>",
	`<svg viewBox="0 0 1 1"><title>icon</title><path d="M0 0"/></svg>`,
	"<svg><style><![CDATA[ a{} ]]></style></svg>",
	"<svg/>",
	"<svg><foreignObject><p>x</p></foreignObject></svg>",
	"<math><mi>x</mi></math>",
	"<details><summary>s</summary>x</details>",
	"<b><i>x</i></b>",
	"<div><p>x</div>",
	"<div><span>x</div>",
	"<p>x</p></p>",
	"</br>",
	"<p><div>x</div></p>",
	"<html><head></head><body><p>x</p>",
	"<my-widget data-x=1><span slot=a>x</span></my-widget>",
	"<ruby>漢<rp>(</rp><rt>kan</rt><rp>)</rp></ruby>",
}

func TestCheckMarkup(t *testing.T) {
	for _, body := range badBodies {
		if err := CheckMarkup([]byte(body)); err == nil {
			t.Errorf("CheckMarkup(%q) = nil, want an error", body)
		}
	}
	for _, body := range goodBodies {
		if err := CheckMarkup([]byte(body)); err != nil {
			t.Errorf("CheckMarkup(%q) = %v, want nil", body, err)
		}
	}
}

// The oracle agrees with the check on the tables: every good body keeps
// the tail in place, and every bad body the issue reports breaks it.
func TestTailOracle(t *testing.T) {
	for _, body := range goodBodies {
		if why := tailBroken(body); why != "" {
			t.Errorf("good body %q: %s", body, why)
		}
	}
	for _, body := range []string{"<p>x</p><!--!>", "<template><p>x</p>", "<select><option>x", "<svg><![CDATA[x", "<table><tr><td>x", "<p>x</p><!", "<div hidden>x", "<i><b hidden>x</i>", "<body hidden>"} {
		if tailBroken(body) == "" {
			t.Errorf("bad body %q: the oracle sees the tail in place", body)
		}
	}
}

// tailBroken places body in a box of a layout whose tail holds two
// markers, one beside the box and one after the box's parent, parses the
// page as a browser does, and says what is wrong with the markers: "" when
// both stand where the layout put them, in no construct that hides or
// swallows them.
func tailBroken(body string) string {
	page := `<!DOCTYPE html><html><head><title>t</title></head><body><main id=parent>` + body +
		`<span id=sibling>SIB</span></main><footer id=tail>TAIL</footer><script>s()</script></body></html>`
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		return "parse: " + err.Error()
	}
	var htmlEl, bodyEl, sibling, tail *html.Node
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch {
		case n.DataAtom == atom.Html:
			htmlEl = n
		case n.DataAtom == atom.Body && n.Namespace == "":
			bodyEl = n
		case attr(n, "id") == "sibling":
			sibling = n
		case attr(n, "id") == "tail":
			tail = n
		}
	}
	switch {
	case htmlEl == nil || len(htmlEl.Attr) > 0 || bodyEl == nil || len(bodyEl.Attr) > 0:
		return "the body changed <html> or <body>"
	case sibling == nil:
		return "the sibling marker is gone"
	case tail == nil:
		return "the tail marker is gone"
	case tail.Namespace != "" || tail.Parent != bodyEl:
		return "the tail marker is not a child of <body>"
	case !onlyText(tail, "TAIL"):
		return "the tail marker's text is wrapped or gone"
	case sibling.Namespace != "" || !onlyText(sibling, "SIB"):
		return "the sibling marker is foreign or its text is wrapped"
	}
	// Between the sibling and the box's parent, only a bare <p>, <li>, <dt>
	// or <dd> left open may stand.
	for n := sibling.Parent; ; n = n.Parent {
		if n == nil || n.Type != html.ElementNode {
			return "the sibling marker left the box's parent"
		}
		if attr(n, "id") == "parent" {
			if n.Parent != bodyEl {
				return "the box's parent moved"
			}
			break
		}
		switch n.DataAtom {
		case atom.P, atom.Li, atom.Dt, atom.Dd:
			if len(n.Attr) == 0 && n.Namespace == "" {
				continue
			}
		}
		return "the sibling marker is inside <" + n.Data + ">"
	}
	// The last script must still be a script.
	if last := bodyEl.LastChild; last == nil || last.DataAtom != atom.Script || !onlyText(last, "s()") {
		return "the page's last script is gone"
	}
	return ""
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key && a.Namespace == "" {
			return a.Val
		}
	}
	return ""
}

func onlyText(n *html.Node, text string) bool {
	c := n.FirstChild
	return c != nil && c.NextSibling == nil && c.Type == html.TextNode && c.Data == text
}

// FuzzCheckMarkup: whatever the check lets through keeps the tail marker
// outside any construct that could hide or swallow it.
func FuzzCheckMarkup(f *testing.F) {
	for _, body := range append(append([]string{}, badBodies...), goodBodies...) {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if len(body) > 4096 || bytes.ContainsAny([]byte(body), "\x00\r") {
			return // NUL and CR are rewritten before tokenizing
		}
		body = string(CleanBody([]byte(body))) // as the client does before the check
		if CheckMarkup([]byte(body)) != nil {
			return
		}
		if why := tailBroken(body); why != "" {
			t.Fatalf("CheckMarkup accepted %q, but %s", body, why)
		}
	})
}

// benchBody is a realistic fragment: a product list with an inline script.
var benchBody = []byte(strings.Repeat(`<div class="search-results"><h2>Results</h2><ul>`+
	`<li><a href="/product/a"><img src="/a.svg" alt="A"><span>Canvas Sneaker</span></a></li>`+
	`<li><a href="/product/b"><img src="/b.svg" alt="B"><span>Chelsea Boot</span></a></li>`+
	`</ul><!-- list --><script type="module">import x from "/x.js"</script></div>`, 16))

// BenchmarkCheckMarkup measures the refusing check, per body byte.
func BenchmarkCheckMarkup(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBody)))
	for b.Loop() {
		if err := CheckMarkup(benchBody); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBalanceMarkup measures the alternative: parsing the body as a
// fragment in the context of its box's parent and rendering it back,
// closed, as x/net/html does.
func BenchmarkBalanceMarkup(b *testing.B) {
	parent := &html.Node{Type: html.ElementNode, Data: "main", DataAtom: atom.Main}
	var out bytes.Buffer
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBody)))
	for b.Loop() {
		nodes, err := html.ParseFragment(bytes.NewReader(benchBody), parent)
		if err != nil {
			b.Fatal(err)
		}
		out.Reset()
		for _, n := range nodes {
			if err := html.Render(&out, n); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// The check knows an HTML element by the table's facts, and the
// integration points only inside SVG or MathML.
func TestLookupElement(t *testing.T) {
	cases := []struct {
		name string
		want element
	}{
		{"div", element{name: "div", a: atom.Div, flags: fSpecial | fClosesP | fBreakout | fScoped}},
		{"li", element{name: "li", a: atom.Li, flags: fSpecial | fOptional | fBreakout | fScoped | htmlspec.OptionalEnd}},
		{"title", element{name: "title", a: atom.Title, flags: fRawText | fSpecial}},
		{"svg", element{name: "svg", a: atom.Svg, flags: htmlspec.Foreign}},
		{"mi", element{}},
		{"desc", element{}},
		{"label", element{}},
		{"custom-element", element{}},
		{"", element{}},
	}
	for _, tc := range cases {
		if got := lookupElement([]byte(tc.name)); got != tc.want {
			t.Errorf("lookupElement(%q) = %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if got := foreignFlags(nsSVG, []byte("title")); got != fIntegration {
		t.Errorf("<title> in SVG: %b, want an integration point", got)
	}
	if got := foreignFlags(nsMath, []byte("title")); got != 0 {
		t.Errorf("<title> in MathML: %b, want none", got)
	}
	if got := foreignFlags(nsMath, []byte("mi")); got != fMathText {
		t.Errorf("<mi> in MathML: %b, want a text integration point", got)
	}
}
