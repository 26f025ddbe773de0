package search_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/inlayhq/inlay/teams/internal/fragtest"
	"github.com/inlayhq/inlay/teams/search"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(search.New(search.Config{Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	return srv
}

var tileRE = regexp.MustCompile(`<a class="search-tile" href="/product/([a-z0-9-]+)" data-testid="product-tile"`)

// tiles returns the SKUs of the product tiles in body, checking that each
// tile links to its product page and shows its image.
func tiles(t *testing.T, body string) []string {
	t.Helper()
	out := []string{}
	for _, m := range tileRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
		if !strings.Contains(body, `src="/search/static/img/`+m[1]+`.svg"`) {
			t.Errorf("tile %s has no image", m[1])
		}
	}
	if n := fragtest.CountTestID(body, "product-tile"); n != len(out) {
		t.Errorf("%d product-tile elements, %d recognised tiles", n, len(out))
	}
	return out
}

func TestFragments(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantTiles  []string // nil: don't check
		want       []string
		reject     []string
		testIDs    []string
	}{
		{
			name:       "results",
			path:       "/search/fragments/results?q=sneaker",
			wantStatus: 200,
			wantTiles:  []string{"sneaker-01", "sneaker-02"},
			want:       []string{"Results for “sneaker”", "2 products", "Canvas Sneaker", "€49.90", "Leather Court Sneaker", "€89.90"},
			reject:     []string{`data-testid="no-results"`},
		},
		{
			name:       "results for several terms",
			path:       "/search/fragments/results?q=Leather+SNEAKER",
			wantStatus: 200,
			wantTiles:  []string{"sneaker-02"},
			want:       []string{"1 product<"},
		},
		{
			name:       "results for a category",
			path:       "/search/fragments/results?q=bags",
			wantStatus: 200,
			wantTiles:  []string{"tote-01", "backpack-01", "messenger-01", "duffel-01", "crossbody-01", "beltbag-01"},
		},
		{
			name:       "no results",
			path:       "/search/fragments/results?q=xyzzy+plugh",
			wantStatus: 200,
			wantTiles:  []string{},
			want:       []string{"No products found", "xyzzy plugh", `href="/search"`},
			testIDs:    []string{"no-results"},
		},
		{
			name:       "all products",
			path:       "/search/fragments/results",
			wantStatus: 200,
			want:       []string{"All products", "36 products"},
		},
		{
			name:       "product",
			path:       "/search/fragments/product/boot-01",
			wantStatus: 200,
			want: []string{
				`<h1 class="search-product__name" data-testid="product-name">Chelsea Boot</h1>`,
				"€139.90", "Suede ankle boot", `src="/search/static/img/boot-01.svg"`,
			},
			testIDs: []string{"product-detail", "product-name"},
		},
		{
			name:       "unknown product",
			path:       "/search/fragments/product/no-such-thing",
			wantStatus: 404,
			want:       []string{"Product not found"},
			testIDs:    []string{"product-not-found"},
		},
		{
			name:       "malformed product",
			path:       "/search/fragments/product/Boot-01",
			wantStatus: 404,
			testIDs:    []string{"product-not-found"},
		},
		{
			name:       "featured",
			path:       "/search/fragments/featured",
			wantStatus: 200,
			wantTiles:  []string{"sneaker-01", "boot-01", "tote-01", "backpack-01", "denim-jacket-01", "oxford-01", "jeans-01", "beanie-01"},
			want:       []string{"<h2", "Featured products"},
			testIDs:    []string{"featured"},
		},
		{
			name:       "more products row",
			path:       "/search/fragments/more",
			wantStatus: 200,
			wantTiles:  []string{"sneaker-01", "boot-01", "tote-01", "backpack-01", "denim-jacket-01", "oxford-01", "jeans-01", "beanie-01"},
			want:       []string{`class="search-grid search-grid--row"`, "More products"},
			testIDs:    []string{"more-products"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fragtest.Get(t, nil, srv.URL+tt.path)
			fragtest.CheckFragment(t, srv.URL, r, "search", tt.wantStatus, "public, max-age=60, stale-while-revalidate=60, stale-if-error=3600")
			if tt.wantTiles != nil {
				if got := tiles(t, r.Body); !slices.Equal(got, tt.wantTiles) {
					t.Errorf("tiles = %q, want %q", got, tt.wantTiles)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(r.Body, w) {
					t.Errorf("body lacks %q:\n%s", w, r.Body)
				}
			}
			for _, id := range tt.testIDs {
				if n := fragtest.CountTestID(r.Body, id); n != 1 {
					t.Errorf("data-testid=%q appears %d times, want 1", id, n)
				}
			}
			for _, w := range tt.reject {
				if strings.Contains(r.Body, w) {
					t.Errorf("body contains %q:\n%s", w, r.Body)
				}
			}
		})
	}
}

func TestResultsEscapeQuery(t *testing.T) {
	r := fragtest.Get(t, nil, newServer(t).URL+"/search/fragments/results?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
	if strings.Contains(r.Body, "<script>") || !strings.Contains(r.Body, "&lt;script&gt;") {
		t.Errorf("query not escaped:\n%s", r.Body)
	}
}

func TestProductAPI(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		sku        string
		wantStatus int
		wantBody   map[string]any
	}{
		{"sneaker-01", 200, map[string]any{"sku": "sneaker-01", "name": "Canvas Sneaker", "price_cents": 4990.0, "category": "shoes"}},
		{"parka-01", 200, map[string]any{"sku": "parka-01", "name": "Down Parka", "price_cents": 21990.0, "category": "jackets"}},
		{"nope", 404, map[string]any{"error": "product not found"}},
	}
	for _, tt := range tests {
		t.Run(tt.sku, func(t *testing.T) {
			r := fragtest.Get(t, nil, srv.URL+"/search/api/products/"+tt.sku)
			if r.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", r.StatusCode, tt.wantStatus)
			}
			if got := r.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
				t.Fatalf("body %q: %v", r.Body, err)
			}
			if len(got) != len(tt.wantBody) {
				t.Errorf("body = %v, want %v", got, tt.wantBody)
			}
			for k, v := range tt.wantBody {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

func TestImages(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		path       string
		wantStatus int
	}{
		{"/search/static/img/sneaker-01.svg", 200},
		{"/search/static/img/beanie-01.svg", 200},
		{"/search/static/img/nope.svg", 404},
		{"/search/static/img/sneaker-01.png", 404},
		{"/search/static/img/sneaker-01", 404},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := fragtest.Get(t, nil, srv.URL+tt.path)
			if r.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", r.StatusCode, tt.wantStatus)
			}
			if tt.wantStatus != 200 {
				return
			}
			if got := r.Header.Get("Content-Type"); got != "image/svg+xml" {
				t.Errorf("Content-Type = %q, want image/svg+xml", got)
			}
			if got := r.Header.Get("Cache-Control"); got != "public, max-age=86400, stale-if-error=604800" {
				t.Errorf("Cache-Control = %q, want public, max-age=86400, stale-if-error=604800", got)
			}
			if !strings.HasPrefix(r.Body, "<svg ") || !strings.HasSuffix(strings.TrimSpace(r.Body), "</svg>") {
				t.Errorf("not an SVG document:\n%s", r.Body)
			}
		})
	}
	// Each product gets its own colour.
	a := fragtest.Get(t, nil, srv.URL+"/search/static/img/sneaker-01.svg").Body
	b := fragtest.Get(t, nil, srv.URL+"/search/static/img/parka-01.svg").Body
	if !strings.Contains(a, `fill="#e4572e"`) || !strings.Contains(b, `fill="#023047"`) {
		t.Error("images are not drawn in their products' colours")
	}
}

func TestStylesheet(t *testing.T) {
	r := fragtest.Get(t, nil, newServer(t).URL+"/search/static/search.css")
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("status = %d, Content-Type = %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
	if got := r.Header.Get("Cache-Control"); got != "public, max-age=300, stale-if-error=86400" {
		t.Errorf("Cache-Control without v = %q, want public, max-age=300, stale-if-error=86400", got)
	}
	for _, sel := range []string{".search-grid", ".search-tile", ".search-product", ".search-empty"} {
		if !strings.Contains(r.Body, sel) {
			t.Errorf("search.css does not style %s", sel)
		}
	}
}
