package basket_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/inlayhq/inlay/teams/teamtest"

	"github.com/inlayhq/inlay/teams/basket"
	"github.com/inlayhq/inlay/teams/internal/fragtest"
	"github.com/inlayhq/inlay/teams/search"
)

var quiet = slog.New(slog.DiscardHandler)

// newCatalog starts a real search service and returns its URL and a
// counter of the product API requests it served.
func newCatalog(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	h := search.New(search.Config{Logger: quiet})
	srv := teamtest.New(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/search/api/products/") {
			calls.Add(1)
		}
		h.ServeHTTP(w, r)
	})
	return srv.URL, &calls
}

func newBasket(t *testing.T, cfg basket.Config) string {
	t.Helper()
	cfg.Logger = quiet
	srv := httptest.NewServer(basket.New(cfg))
	t.Cleanup(srv.Close)
	return srv.URL
}

// shopper is a browser: it keeps cookies and does not follow redirects.
type shopper struct {
	t      *testing.T
	base   string
	client *http.Client
}

func newShopper(t *testing.T, base string) *shopper {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &shopper{t: t, base: base, client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (s *shopper) get(path string) fragtest.Response {
	s.t.Helper()
	return fragtest.Get(s.t, s.client, s.base+path)
}

// post submits form to path, asking for JSON when asJSON is set.
func (s *shopper) post(path string, form url.Values, asJSON bool) fragtest.Response {
	s.t.Helper()
	req, err := http.NewRequestWithContext(s.t.Context(), http.MethodPost, s.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if asJSON {
		req.Header.Set("Accept", "application/json")
	}
	return fragtest.Do(s.t, s.client, req)
}

// add posts to the add API and expects a 303 to wantLocation.
func (s *shopper) add(form url.Values, wantLocation string) fragtest.Response {
	s.t.Helper()
	r := s.post("/basket/api/add", form, false)
	if r.StatusCode != http.StatusSeeOther {
		s.t.Fatalf("add %v: status = %d, want 303; body %q", form, r.StatusCode, r.Body)
	}
	if got := r.Header.Get("Location"); got != wantLocation {
		s.t.Errorf("add %v: Location = %q, want %q", form, got, wantLocation)
	}
	return r
}

var countRE = regexp.MustCompile(`data-testid="basket-count">(\d+)</span>`)

// count reads the mini basket.
func (s *shopper) count() string {
	s.t.Helper()
	r := s.get("/basket/fragments/mini")
	m := countRE.FindStringSubmatch(r.Body)
	if m == nil {
		s.t.Fatalf("no count in mini basket %q", r.Body)
	}
	return m[1]
}

var cookieRE = regexp.MustCompile(`^inlay_basket=[0-9a-f]{32}; Path=/; HttpOnly; SameSite=Lax$`)

func TestBasketFlow(t *testing.T) {
	catalog, _ := newCatalog(t)
	s := newShopper(t, newBasket(t, basket.Config{CatalogURL: catalog}))

	if got := s.count(); got != "0" {
		t.Errorf("count before adding = %s, want 0", got)
	}
	if r := s.get("/basket/fragments/page"); fragtest.CountTestID(r.Body, "basket-empty") != 1 || strings.Contains(r.Body, "basket-line") {
		t.Errorf("page before adding is not empty:\n%s", r.Body)
	}

	first := s.add(url.Values{"sku": {"sneaker-01"}, "return": {"/product/sneaker-01"}}, "/product/sneaker-01")
	if got := first.Header.Values("Set-Cookie"); len(got) != 1 || !cookieRE.MatchString(got[0]) {
		t.Errorf("first add: Set-Cookie = %q, want inlay_basket=<32 hex>; Path=/; HttpOnly; SameSite=Lax", got)
	}
	second := s.add(url.Values{"sku": {"sneaker-01"}, "return": {"/product/sneaker-01"}}, "/product/sneaker-01")
	if got := second.Header.Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("second add set a cookie again: %q", got)
	}
	if got := s.count(); got != "2" {
		t.Errorf("count after adding twice = %s, want 2", got)
	}

	page := s.get("/basket/fragments/page")
	for _, want := range []string{
		`<h1 class="basket-page__title">Your basket</h1>`,
		`data-testid="basket-line-name">Canvas Sneaker</a>`,
		`data-testid="basket-line-qty">2</span>`,
		`data-testid="basket-line-price">€49.90</span>`,
		`data-testid="basket-line-total">€99.80</span>`,
		`data-testid="basket-total">€99.80</strong>`,
		`action="/basket/api/remove"`,
		`name="sku" value="sneaker-01"`,
	} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("basket page lacks %q:\n%s", want, page.Body)
		}
	}
	if n := fragtest.CountTestID(page.Body, "basket-line"); n != 1 {
		t.Errorf("%d basket lines, want 1", n)
	}

	s.add(url.Values{"sku": {"boot-01"}, "qty": {"3"}}, "/basket")
	if got := s.count(); got != "5" {
		t.Errorf("count = %s, want 5", got)
	}
	page = s.get("/basket/fragments/page")
	if n := fragtest.CountTestID(page.Body, "basket-line"); n != 2 {
		t.Errorf("%d basket lines, want 2", n)
	}
	if !strings.Contains(page.Body, `data-testid="basket-total">€519.50<`) { // 2 × 49.90 + 3 × 139.90
		t.Errorf("total is not €519.50:\n%s", page.Body)
	}

	for _, sku := range []string{"sneaker-01", "boot-01"} {
		r := s.post("/basket/api/remove", url.Values{"sku": {sku}}, false)
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/basket" {
			t.Errorf("remove %s: status %d, Location %q; want 303 to /basket", sku, r.StatusCode, r.Header.Get("Location"))
		}
	}
	if got := s.count(); got != "0" {
		t.Errorf("count after removing all = %s, want 0", got)
	}
	page = s.get("/basket/fragments/page")
	if fragtest.CountTestID(page.Body, "basket-empty") != 1 || !strings.Contains(page.Body, `href="/search"`) {
		t.Errorf("page after removing all is not the empty state:\n%s", page.Body)
	}

	// Another shopper, without the cookie, has an empty basket.
	if got := newShopper(t, s.base).count(); got != "0" {
		t.Errorf("count without cookie = %s, want 0", got)
	}
}

func TestBasketsAreSeparate(t *testing.T) {
	catalog, _ := newCatalog(t)
	base := newBasket(t, basket.Config{CatalogURL: catalog})
	a, b := newShopper(t, base), newShopper(t, base)
	a.add(url.Values{"sku": {"tote-01"}}, "/basket")
	b.add(url.Values{"sku": {"tote-01"}, "qty": {"4"}}, "/basket")
	if ca, cb := a.count(), b.count(); ca != "1" || cb != "4" {
		t.Errorf("counts = %s, %s; want 1, 4", ca, cb)
	}
}

// TestBadRequests: a JSON client gets the status and the message; a
// browser's form post is sent back (303) to the page it came from, with
// the failure's code for the add-to-basket box to show, never elsewhere.
func TestBadRequests(t *testing.T) {
	catalog, _ := newCatalog(t)
	base := newBasket(t, basket.Config{CatalogURL: catalog})
	tests := []struct {
		name string
		path string
		form url.Values
		want string // in the JSON answer
		code string // in the Location of the form post
	}{
		{"missing sku", "/basket/api/add", url.Values{}, "invalid sku", "invalid-sku"},
		{"uppercase sku", "/basket/api/add", url.Values{"sku": {"Sneaker-01"}}, "invalid sku", "invalid-sku"},
		{"sku with slash", "/basket/api/add", url.Values{"sku": {"../admin"}}, "invalid sku", "invalid-sku"},
		{"sku too long", "/basket/api/add", url.Values{"sku": {strings.Repeat("a", 33)}}, "invalid sku", "invalid-sku"},
		{"unknown product", "/basket/api/add", url.Values{"sku": {"no-such-product"}}, "unknown product", "unknown-product"},
		{"qty zero", "/basket/api/add", url.Values{"sku": {"tote-01"}, "qty": {"0"}}, "invalid qty", "invalid-qty"},
		{"qty too big", "/basket/api/add", url.Values{"sku": {"tote-01"}, "qty": {"100"}}, "invalid qty", "invalid-qty"},
		{"qty not a number", "/basket/api/add", url.Values{"sku": {"tote-01"}, "qty": {"two"}}, "invalid qty", "invalid-qty"},
		{"remove without sku", "/basket/api/remove", url.Values{}, "invalid sku", "invalid-sku"},
		{"remove bad sku", "/basket/api/remove", url.Values{"sku": {"a b"}}, "invalid sku", "invalid-sku"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newShopper(t, base)
			r := s.post(tt.path, tt.form, true)
			if r.StatusCode != http.StatusBadRequest {
				t.Errorf("JSON: status = %d, want 400", r.StatusCode)
			}
			if !strings.Contains(r.Body, tt.want) {
				t.Errorf("JSON: body = %q, want it to mention %q", r.Body, tt.want)
			}
			form := url.Values{"return": {"/product/tote-01?colour=red"}}
			for k, v := range tt.form {
				form[k] = v
			}
			r = s.post(tt.path, form, false)
			if r.StatusCode != http.StatusSeeOther {
				t.Errorf("form: status = %d, want 303", r.StatusCode)
			}
			if got, want := r.Header.Get("Location"), "/product/tote-01?basket_error="+tt.code+"&colour=red"; got != want {
				t.Errorf("form: Location = %q, want %q", got, want)
			}
			if c := r.Header.Get("Set-Cookie"); c != "" {
				t.Errorf("a failed request set a cookie: %q", c)
			}
		})
	}
}

// TestBadRequestGoesBackToTheReferer: without a return field, a failed
// form post goes back to its Referer when that is this site's page, and
// to /basket otherwise.
func TestBadRequestGoesBackToTheReferer(t *testing.T) {
	base := newBasket(t, basket.Config{})
	for _, tc := range []struct{ referer, want string }{
		{base + "/product/tote-01", "/product/tote-01?basket_error=invalid-sku"},
		{"https://evil.test/product/tote-01", "/basket?basket_error=invalid-sku"},
		{base + "//evil.test/x", "/basket?basket_error=invalid-sku"},
		{"", "/basket?basket_error=invalid-sku"},
	} {
		req, _ := http.NewRequest(http.MethodPost, base+"/basket/api/add", strings.NewReader("sku=Bad"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Referer", tc.referer)
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || got != tc.want {
			t.Errorf("Referer %q: %d %q, want 303 %q", tc.referer, resp.StatusCode, got, tc.want)
		}
	}
}

func TestOpenRedirects(t *testing.T) {
	catalog, _ := newCatalog(t)
	s := newShopper(t, newBasket(t, basket.Config{CatalogURL: catalog}))
	tests := []struct {
		ret, want string
	}{
		{"/product/tote-01", "/product/tote-01"},
		{"/search?q=bags", "/search?q=bags"},
		{"", "/basket"},
		{"//evil.example", "/basket"},
		{"https://evil.example", "/basket"},
		{`/\evil.example`, "/basket"},
		{"/\t/evil.example", "/basket"},
		{"javascript:alert(1)", "/basket"},
		{"/ok\r\nX-Injected: 1", "/basket"},
	}
	for _, tt := range tests {
		t.Run(tt.ret, func(t *testing.T) {
			r := s.add(url.Values{"sku": {"tote-01"}, "return": {tt.ret}}, tt.want)
			if r.Header.Get("X-Injected") != "" {
				t.Error("header injected")
			}
			rm := s.post("/basket/api/remove", url.Values{"sku": {"tote-01"}, "return": {tt.ret}}, false)
			if got := rm.Header.Get("Location"); rm.StatusCode != http.StatusSeeOther || got != tt.want {
				t.Errorf("remove: status %d, Location %q; want 303 to %q", rm.StatusCode, got, tt.want)
			}
		})
	}
}

func TestJSONMode(t *testing.T) {
	catalog, _ := newCatalog(t)
	s := newShopper(t, newBasket(t, basket.Config{CatalogURL: catalog}))
	tests := []struct {
		name       string
		path       string
		form       url.Values
		wantStatus int
		want       map[string]any
	}{
		{"add", "/basket/api/add", url.Values{"sku": {"cap-01"}, "return": {"/x"}}, 200, map[string]any{"count": 1.0}},
		{"add more", "/basket/api/add", url.Values{"sku": {"cap-01"}, "qty": {"2"}}, 200, map[string]any{"count": 3.0}},
		{"add another", "/basket/api/add", url.Values{"sku": {"belt-01"}}, 200, map[string]any{"count": 4.0}},
		{"remove", "/basket/api/remove", url.Values{"sku": {"cap-01"}}, 200, map[string]any{"count": 1.0}},
		{"bad sku", "/basket/api/add", url.Values{"sku": {"NOPE"}}, 400, map[string]any{"error": "invalid sku"}},
		{"unknown product", "/basket/api/add", url.Values{"sku": {"nope"}}, 400, map[string]any{"error": "unknown product"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.post(tt.path, tt.form, true)
			if r.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", r.StatusCode, tt.wantStatus)
			}
			if got := r.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			if loc := r.Header.Get("Location"); loc != "" {
				t.Errorf("JSON answer redirects to %q", loc)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
				t.Fatalf("body %q: %v", r.Body, err)
			}
			if len(got) != len(tt.want) {
				t.Errorf("body = %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
	if got := s.count(); got != "1" {
		t.Errorf("count = %s, want 1", got)
	}
}

func TestFragments(t *testing.T) {
	catalog, _ := newCatalog(t)
	base := newBasket(t, basket.Config{CatalogURL: catalog})
	s := newShopper(t, base)
	s.add(url.Values{"sku": {"jeans-01"}}, "/basket")

	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantCache  string
		want       []string
		testIDs    []string
	}{
		{
			name: "mini", path: "/basket/fragments/mini", wantStatus: 200, wantCache: "private, no-store",
			want: []string{`<a class="basket-mini" href="/basket" data-testid="mini-basket">Basket <span class="basket-mini__count" data-testid="basket-count">1</span></a>`},
		},
		{
			name: "add form", path: "/basket/fragments/add?sku=jeans-01", wantStatus: 200, wantCache: "public, max-age=300, stale-while-revalidate=300, stale-if-error=86400",
			want: []string{
				`<form class="basket-add" method="post" action="/basket/api/add">`,
				`<input type="hidden" name="sku" value="jeans-01">`,
				`<input type="hidden" name="return" value="/product/jeans-01">`,
				`<button type="submit" class="basket-add__button" data-testid="add-to-basket">Add to basket</button>`,
			},
			testIDs: []string{"add-to-basket"},
		},
		{
			name: "add form without sku", path: "/basket/fragments/add", wantStatus: 400, wantCache: "public, max-age=300, stale-while-revalidate=300, stale-if-error=86400",
			testIDs: []string{"basket-error"},
		},
		{
			name: "add form with bad sku", path: "/basket/fragments/add?sku=%22%3E%3Cscript%3E", wantStatus: 400, wantCache: "public, max-age=300, stale-while-revalidate=300, stale-if-error=86400",
			testIDs: []string{"basket-error"},
		},
		{
			name: "page", path: "/basket/fragments/page", wantStatus: 200, wantCache: "private, no-store",
			want:    []string{"Selvedge Jeans", "€109.90", `src="/search/static/img/jeans-01.svg"`, `href="/product/jeans-01"`},
			testIDs: []string{"basket-line", "basket-total", "basket-page"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.get(tt.path)
			fragtest.CheckFragment(t, base, r, "basket", tt.wantStatus, tt.wantCache)
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
			if strings.Contains(r.Body, "<script") {
				t.Errorf("unescaped markup:\n%s", r.Body)
			}
			if c := r.Header.Get("Set-Cookie"); c != "" {
				t.Errorf("a fragment set a cookie: %q", c)
			}
		})
	}
}

func TestWithoutCatalog(t *testing.T) {
	s := newShopper(t, newBasket(t, basket.Config{}))
	s.add(url.Values{"sku": {"anything-9"}, "qty": {"2"}}, "/basket")
	page := s.get("/basket/fragments/page").Body
	for _, want := range []string{
		`data-testid="basket-line-name">anything-9</a>`,
		`data-testid="basket-line-qty">2</span>`,
		`data-testid="basket-line-price">—</span>`,
		`data-testid="basket-total">—</strong>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "€") || strings.Contains(page, "<img") {
		t.Errorf("page shows a price or an image without a catalogue:\n%s", page)
	}
	if r := s.post("/basket/api/add", url.Values{"sku": {"Not-Valid"}}, true); r.StatusCode != http.StatusBadRequest {
		t.Errorf("malformed sku without catalogue: status = %d, want 400", r.StatusCode)
	}
}

func TestCatalogUnavailable(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // nothing listens on its address any more
	s := newShopper(t, newBasket(t, basket.Config{CatalogURL: down.URL}))
	r := s.post("/basket/api/add", url.Values{"sku": {"tote-01"}}, true)
	if r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", r.StatusCode)
	}
	if c := r.Header.Get("Set-Cookie"); c != "" {
		t.Errorf("a failed add set a cookie: %q", c)
	}
}

func TestCatalogCached(t *testing.T) {
	catalog, calls := newCatalog(t)
	s := newShopper(t, newBasket(t, basket.Config{CatalogURL: catalog + "/"}))
	for range 3 {
		s.add(url.Values{"sku": {"scarf-01"}}, "/basket")
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("catalogue asked %d times for one product, want 1", got)
	}
	if got := s.count(); got != "3" {
		t.Errorf("count = %s, want 3", got)
	}
}

func TestStaleCookieGetsNewBasket(t *testing.T) {
	catalog, _ := newCatalog(t)
	base := newBasket(t, basket.Config{CatalogURL: catalog})
	stale := "0123456789abcdef0123456789abcdef"
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/basket/api/add", strings.NewReader("sku=tote-01"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "inlay_basket", Value: stale})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r := fragtest.Do(t, client, req)
	c := r.Header.Get("Set-Cookie")
	if !cookieRE.MatchString(c) || strings.Contains(c, stale) {
		t.Errorf("Set-Cookie = %q, want a fresh basket id", c)
	}
}

func TestMaxBaskets(t *testing.T) {
	catalog, _ := newCatalog(t)
	base := newBasket(t, basket.Config{CatalogURL: catalog, MaxBaskets: 2})
	a, b, c := newShopper(t, base), newShopper(t, base), newShopper(t, base)
	a.add(url.Values{"sku": {"tote-01"}}, "/basket")
	b.add(url.Values{"sku": {"tote-01"}}, "/basket")
	a.count() // a is used again; b is now the least recently used
	c.add(url.Values{"sku": {"tote-01"}}, "/basket")
	if ga, gb, gc := a.count(), b.count(), c.count(); ga != "1" || gb != "0" || gc != "1" {
		t.Errorf("counts = %s, %s, %s; want 1, 0, 1 (b evicted)", ga, gb, gc)
	}
}

func TestStylesheet(t *testing.T) {
	r := fragtest.Get(t, nil, newBasket(t, basket.Config{})+"/basket/static/basket.css")
	if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("status = %d, Content-Type = %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
	for _, sel := range []string{".basket-mini", ".basket-add__button", ".basket-line", ".basket-empty"} {
		if !strings.Contains(r.Body, sel) {
			t.Errorf("basket.css does not style %s", sel)
		}
	}
}

// TestAddFormShowsTheFailure: the add-to-basket box says why the last add
// failed, for the codes the API sends back, and nothing for any other.
func TestAddFormShowsTheFailure(t *testing.T) {
	base := newBasket(t, basket.Config{})
	for _, tc := range []struct{ code, want string }{
		{"unknown-product", "Could not add to the basket: unknown product."},
		{"basket-full", "Could not add to the basket: basket is full"},
		{"<script>", ""},
		{"", ""},
	} {
		r := fragtest.Get(t, nil, base+"/basket/fragments/add?sku=tote-01&error="+url.QueryEscape(tc.code))
		has := strings.Contains(r.Body, `data-testid="basket-message"`)
		if has != (tc.want != "") || !strings.Contains(r.Body, tc.want) {
			t.Errorf("error=%q: body %q, want message %q", tc.code, r.Body, tc.want)
		}
		if !strings.Contains(r.Body, `data-testid="add-to-basket"`) {
			t.Errorf("error=%q: no add button", tc.code)
		}
	}
}
