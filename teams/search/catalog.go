package search

import (
	"net/url"
	"strconv"
	"strings"
)

// product is one article of the catalogue.
type product struct {
	SKU         string
	Name        string
	Category    string
	PriceCents  int64
	Description string
	Color       string // image background, "#rrggbb"
	Featured    bool   // shown on the home page
}

// catalog is a read-only, searchable list of products.
type catalog struct {
	products []product
	bySKU    map[string]int
	text     []string // lowercase name, category and description, per product
}

// newCatalog indexes products, keeping their order.
func newCatalog(products []product) *catalog {
	c := &catalog{
		products: products,
		bySKU:    make(map[string]int, len(products)),
		text:     make([]string, len(products)),
	}
	for i, p := range products {
		c.bySKU[p.SKU] = i
		c.text[i] = strings.ToLower(p.Name + "\n" + p.Category + "\n" + p.Description)
	}
	return c
}

// Get returns the product with the given SKU.
func (c *catalog) Get(sku string) (product, bool) {
	i, ok := c.bySKU[sku]
	if !ok {
		return product{}, false
	}
	return c.products[i], true
}

// Search returns the products, in catalogue order, whose name, category or
// description contains every whitespace-separated term of q, ignoring case.
// A q without terms matches every product.
func (c *catalog) Search(q string) []product {
	terms := strings.Fields(strings.ToLower(q))
	out := []product{}
	for i, p := range c.products {
		if containsAll(c.text[i], terms) {
			out = append(out, p)
		}
	}
	return out
}

// Featured returns the products marked as featured, in catalogue order.
func (c *catalog) Featured() []product {
	out := []product{}
	for _, p := range c.products {
		if p.Featured {
			out = append(out, p)
		}
	}
	return out
}

func containsAll(text string, terms []string) bool {
	for _, t := range terms {
		if !strings.Contains(text, t) {
			return false
		}
	}
	return true
}

// categoryLabel is the display form of a category, e.g. "Shoes".
func categoryLabel(category string) string {
	if category == "" {
		return ""
	}
	return strings.ToUpper(category[:1]) + category[1:]
}

// productURL is the URL of a product's page in the composed shop.
func productURL(sku string) string {
	return "/product/" + sku
}

// categoryURL is the URL of the search page for a category.
func categoryURL(category string) string {
	return "/search?q=" + url.QueryEscape(category)
}

// countLabel is "1 product" or "N products".
func countLabel(n int) string {
	if n == 1 {
		return "1 product"
	}
	return strconv.Itoa(n) + " products"
}
