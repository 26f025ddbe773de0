package search

import (
	"regexp"
	"slices"
	"testing"

	"github.com/inlayhq/inlay/teams/internal/teamkit"
)

func skus(ps []product) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.SKU
	}
	return out
}

func TestCatalogData(t *testing.T) {
	if n := len(products); n < 30 || n > 40 {
		t.Errorf("catalogue has %d products, want about 36", n)
	}
	hexRE := regexp.MustCompile(`^#[0-9a-f]{6}$`)
	seen := map[string]bool{}
	featured := 0
	for _, p := range products {
		if !teamkit.ValidSKU(p.SKU) {
			t.Errorf("%q: invalid SKU", p.SKU)
		}
		if seen[p.SKU] {
			t.Errorf("%q: duplicate SKU", p.SKU)
		}
		seen[p.SKU] = true
		if p.Name == "" || p.Description == "" || p.Category == "" {
			t.Errorf("%q: missing name, description or category", p.SKU)
		}
		if p.PriceCents <= 0 {
			t.Errorf("%q: price %d", p.SKU, p.PriceCents)
		}
		if !hexRE.MatchString(p.Color) {
			t.Errorf("%q: colour %q is not #rrggbb", p.SKU, p.Color)
		}
		if p.Featured {
			featured++
		}
	}
	if featured != 8 {
		t.Errorf("%d featured products, want 8", featured)
	}
}

// A search for a category name finds exactly that category, which the
// shell's navigation relies on.
func TestSearchByCategory(t *testing.T) {
	c := newCatalog(products)
	byCategory := map[string][]string{}
	for _, p := range products {
		byCategory[p.Category] = append(byCategory[p.Category], p.SKU)
	}
	for _, cat := range []string{"shoes", "bags", "jackets", "shirts", "trousers", "accessories"} {
		want := byCategory[cat]
		if len(want) == 0 {
			t.Errorf("no products in category %q", cat)
			continue
		}
		if got := skus(c.Search(cat)); !slices.Equal(got, want) {
			t.Errorf("Search(%q) = %q, want %q", cat, got, want)
		}
	}
}

func TestSearch(t *testing.T) {
	c := newCatalog(products)
	all := skus(products)
	tests := []struct {
		q    string
		want []string
	}{
		{"sneaker", []string{"sneaker-01", "sneaker-02"}},
		{"SNEAKER", []string{"sneaker-01", "sneaker-02"}},
		{"leather sneaker", []string{"sneaker-02"}},
		{"  Sneaker   LEATHER ", []string{"sneaker-02"}},
		{"merino", []string{"beanie-01"}},
		{"parka", []string{"parka-01"}},
		{"waterproof", []string{"backpack-01", "rain-jacket-01"}},
		{"shoes waterproof", []string{}},
		{"xyzzy", []string{}},
		{"", all},
		{"   ", all},
	}
	for _, tt := range tests {
		if got := skus(c.Search(tt.q)); !slices.Equal(got, tt.want) {
			t.Errorf("Search(%q) = %q, want %q", tt.q, got, tt.want)
		}
	}
}

func TestGet(t *testing.T) {
	c := newCatalog(products)
	if p, ok := c.Get("boot-01"); !ok || p.Name != "Chelsea Boot" || p.PriceCents != 13990 {
		t.Errorf("Get(boot-01) = %+v, %v", p, ok)
	}
	for _, sku := range []string{"", "nope", "BOOT-01"} {
		if _, ok := c.Get(sku); ok {
			t.Errorf("Get(%q) found a product", sku)
		}
	}
}
