package contract

import (
	"net/http"
	"strings"
)

// AssetKind says how an asset is put on the page.
type AssetKind uint8

// The kinds of asset a fragment can declare.
const (
	// Stylesheet is declared with rel=stylesheet and placed as
	// <link rel="stylesheet">.
	Stylesheet AssetKind = iota + 1
	// ModuleScript is declared with rel=modulepreload and placed as
	// <script type="module">.
	ModuleScript
	// Script is declared with rel=script (or Tailor's rel=fragment-script)
	// and placed as a deferred classic <script>.
	Script
)

// Asset is a stylesheet or script that a fragment needs on the page.
type Asset struct {
	Kind AssetKind
	// URL is the asset's address exactly as the fragment declared it.
	URL string
}

// ParseAssets reads the assets declared in Link headers, in order. Links
// with other relations, empty targets, or targets that are neither relative
// nor http(s) are ignored.
func ParseAssets(h http.Header) []Asset {
	var assets []Asset
	for _, line := range h.Values("Link") {
		for line != "" {
			var link string
			link, line = nextLink(line)
			if a, ok := parseLink(link); ok {
				assets = append(assets, a)
			}
		}
	}
	return assets
}

// nextLink splits off the first link-value of a Link header. A comma inside
// the <target> does not end the link.
func nextLink(s string) (link, rest string) {
	inTarget := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<':
			inTarget = true
		case '>':
			inTarget = false
		case ',':
			if !inTarget {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

func parseLink(link string) (Asset, bool) {
	link = strings.TrimSpace(link)
	if !strings.HasPrefix(link, "<") {
		return Asset{}, false
	}
	end := strings.IndexByte(link, '>')
	if end < 0 {
		return Asset{}, false
	}
	target := strings.TrimSpace(link[1:end])
	if !safeAssetURL(target) {
		return Asset{}, false
	}
	// Only ";"-separated params may follow the target (RFC 8288): anything
	// else means the target held a '>' and is not what was declared.
	params := strings.TrimLeft(link[end+1:], " \t")
	if !strings.HasPrefix(params, ";") {
		return Asset{}, false
	}
	var kind AssetKind
	for _, param := range strings.Split(params, ";") {
		name, value, ok := strings.Cut(strings.TrimSpace(param), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "rel") {
			continue
		}
		for _, rel := range strings.Fields(strings.ToLower(strings.Trim(strings.TrimSpace(value), `"`))) {
			switch rel {
			case "stylesheet":
				kind = Stylesheet
			case "modulepreload":
				kind = ModuleScript
			case "script", "fragment-script":
				kind = Script
			}
		}
	}
	if kind == 0 {
		return Asset{}, false
	}
	return Asset{Kind: kind, URL: target}, true
}

// safeAssetURL accepts a path on the page's own origin or an http(s) URL,
// and nothing with control characters, quotes or angle brackets in it.
func safeAssetURL(u string) bool {
	if u == "" || len(u) > 2048 {
		return false
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c <= ' ' || c == 0x7f || c == '"' || c == '\'' || c == '<' || c == '>' || c == '\\' {
			return false
		}
	}
	switch {
	case strings.HasPrefix(u, "//"):
		return false
	case strings.HasPrefix(u, "/"):
		return true
	case strings.HasPrefix(u, "https://"), strings.HasPrefix(u, "http://"):
		return true
	}
	return false
}
