package search

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestInitials(t *testing.T) {
	tests := map[string]string{
		"Canvas Sneaker":   "CS",
		"Six-panel Cap":    "SC",
		"Rib Socks 3-Pack": "RS",
		"tote":             "T",
		"Piqué Polo":       "PP",
		"  ":               "",
		"élan vital":       "ÉV",
	}
	for name, want := range tests {
		if got := initials(name); got != want {
			t.Errorf("initials(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestLuminance(t *testing.T) {
	if got := luminance("#000000"); got != 0 {
		t.Errorf("luminance(black) = %v", got)
	}
	if got := luminance("#ffffff"); got < 0.999 || got > 1.001 {
		t.Errorf("luminance(white) = %v", got)
	}
	if luminance("#023047") >= luminance("#ffb703") {
		t.Error("dark blue is not darker than amber")
	}
}

func TestProductSVG(t *testing.T) {
	tests := []struct {
		p              product
		wantBG, wantFG string
	}{
		{product{Name: "Down Parka", Color: "#023047"}, `fill="#023047"`, `fill="#ffffff"`},
		{product{Name: "Packable Rain Jacket", Color: "#ffb703"}, `fill="#ffb703"`, `fill="#1d2129"`},
		{product{Name: `A <b>&"x"`, Color: "bogus"}, `fill="#8d99ae"`, `fill="#1d2129"`}, // falls back to light grey
	}
	for _, tt := range tests {
		svg := string(productSVG(tt.p))
		if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
			t.Errorf("%q: SVG is not well-formed XML: %v\n%s", tt.p.Name, err, svg)
		}
		if !strings.Contains(svg, `<rect width="600" height="600" `+tt.wantBG+`/>`) {
			t.Errorf("%q: background is not %s:\n%s", tt.p.Name, tt.wantBG, svg)
		}
		if !strings.Contains(svg, tt.wantFG) {
			t.Errorf("%q: initials not drawn with %s:\n%s", tt.p.Name, tt.wantFG, svg)
		}
		if !strings.Contains(svg, ">"+initials(tt.p.Name)+"</text>") && initials(tt.p.Name) != "" {
			t.Errorf("%q: initials missing:\n%s", tt.p.Name, svg)
		}
	}
}
