package fragments

import "testing"

func TestCheckMarkup(t *testing.T) {
	cases := []struct {
		body string
		ok   bool
	}{
		{"plain text", true},
		{"<p>open paragraph", true}, // the browser closes ordinary elements at the box's parent
		{`<script>let a = "</p>";</script><p>x</p>`, true},
		{"<!-- fine --><p>x</p>", true},
		{"<!---->", true},
		{"<style>p{}</style>", true},
		{"<textarea>a</textarea>", true},
		{`<script>var s = "`, false},
		{"<STYLE>p {", false},
		{"<!-- note", false},
		{"<textarea>type", false},
		{"<title>t", false},
		{"<plaintext></plaintext>", false},
		{"<noscript>", false},
		{"<iframe>", false},
		{"<xmp>", false},
	}
	for _, tc := range cases {
		err := checkMarkup([]byte(tc.body))
		if (err == nil) != tc.ok {
			t.Errorf("checkMarkup(%q) = %v, want ok=%v", tc.body, err, tc.ok)
		}
	}
}

func BenchmarkCheckMarkup(b *testing.B) {
	body := []byte(`<div class="search-results"><h2>Results</h2><ul>` +
		`<li><a href="/product/a"><img src="/a.svg" alt="A"><span>Canvas Sneaker</span></a></li>` +
		`<li><a href="/product/b"><img src="/b.svg" alt="B"><span>Chelsea Boot</span></a></li>` +
		`</ul><script type="module">import x from "/x.js"</script></div>`)
	b.ReportAllocs()
	for b.Loop() {
		if err := checkMarkup(body); err != nil {
			b.Fatal(err)
		}
	}
}
