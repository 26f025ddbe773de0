package composer

// The markup a page stream writes around the fragments: asset tags, async
// boxes and the debug view's marks. Each tag is made once, as the
// constant bytes on either side of its one value, so that writing it
// builds no string.

// tag is markup with one value in it: open, the value, then close. When
// nonce is set, the page's CSP nonce attribute goes between mid and close.
type tag struct {
	open, mid, close []byte
	nonce            bool
}

var (
	stylesheetTag   = tag{open: []byte(`<link rel="stylesheet" href="`), close: []byte(`">`)}
	moduleScriptTag = tag{open: []byte(`<script type="module" src="`), mid: []byte(`"`), close: []byte(`></script>`), nonce: true}
	scriptTag       = tag{open: []byte(`<script src="`), mid: []byte(`" defer`), close: []byte(`></script>`), nonce: true}

	nonceOpen = []byte(` nonce="`)
	quote     = []byte(`"`)

	// An async box's placeholder: <inlay-slot id="inlay-p-N"
	// data-fragment="ID" style="...">, then the placeholder markup, then
	// </inlay-slot>.
	placeholderTag      = tag{open: []byte(`<inlay-slot id="inlay-p-`), close: []byte(`" data-fragment="`)}
	placeholderContents = []byte(`" style="display:contents">`)
	placeholderSized    = []byte(`" style="display:block;min-height:`)
	placeholderSizedEnd = []byte(`">`)
	placeholderEnd      = []byte(`</inlay-slot>`)

	// noscriptPlaceholders lets sized placeholders shrink to their inline
	// fallback when JavaScript is off: the content that follows can never
	// be swapped in, and a reserved empty block would stay for good. With
	// JavaScript on, a browser does not parse it.
	noscriptPlaceholders = []byte(`<noscript><style>inlay-slot{min-height:0!important;animation:none!important;background:none!important}</style></noscript>`)

	// An async box's content, after the page: <template id="inlay-t-N">,
	// the content, </template><script>, the swap function once per page,
	// then inlaySwap(N)</script>.
	templateTag   = tag{open: []byte(`<template id="inlay-t-`), close: []byte(`">`)}
	swapScriptTag = tag{open: []byte(`</template><script`), close: []byte(`>`), nonce: true}
	swapCallTag   = tag{open: []byte(`inlaySwap(`), close: []byte(`)</script>`)}

	// swapScript moves an async box's content from its <template> into the
	// place of its placeholder, then removes the template and itself, so
	// the final document is the one in-order streaming would have made.
	swapScript = []byte(`function inlaySwap(i){var d=document,t=d.getElementById("inlay-t-"+i),p=d.getElementById("inlay-p-"+i);if(t&&p)p.replaceWith(t.content);if(t)t.remove();d.currentScript.remove()}`)

	// The debug view's marks around a box: comments, which take no space
	// and match no CSS selector.
	debugOpenTag  = tag{open: []byte(`<!--inlay-debug:`), close: []byte(`-->`)}
	debugCloseTag = tag{open: []byte(`<!--/inlay-debug:`), close: []byte(`-->`)}
)
