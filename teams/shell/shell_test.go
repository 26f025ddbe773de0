package shell_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/inlayhq/inlay/teams/internal/fragtest"
	"github.com/inlayhq/inlay/teams/shell"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(shell.New(shell.Config{Logger: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFragments(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name      string
		path      string
		wantCache string
		want      []string // substrings of the body
		testIDs   []string // data-testid values that must appear once
	}{
		{
			name:      "header",
			path:      "/shell/fragments/header?q=red+shoes",
			wantCache: "public, max-age=60, stale-while-revalidate=300, stale-if-error=86400",
			want: []string{
				`<a class="shell-logo" href="/" data-testid="shell-logo">Inlay Shop</a>`,
				`href="/search?q=shoes"`, `href="/search?q=bags"`, `href="/search?q=jackets"`,
				`href="/basket"`,
				`<form class="shell-search" action="/search" method="get" role="search">`,
				`<input type="search" name="q" value="red shoes"`,
				`aria-label="Search products"`,
				`<button type="submit" data-testid="search-submit">Search</button>`,
			},
			testIDs: []string{"search-input", "search-submit", "shell-logo", "shell-nav"},
		},
		{
			name:      "header without query",
			path:      "/shell/fragments/header",
			wantCache: "public, max-age=60, stale-while-revalidate=300, stale-if-error=86400",
			want:      []string{`name="q" value=""`},
			testIDs:   []string{"search-input", "search-submit"},
		},
		{
			name:      "header-static",
			path:      "/shell/fragments/header-static",
			wantCache: "public, max-age=3600, stale-while-revalidate=3600, stale-if-error=604800",
			want:      []string{`href="/"`, `href="/search"`, "Inlay Shop"},
			testIDs:   []string{"shell-logo"},
		},
		{
			name:      "footer",
			path:      "/shell/fragments/footer",
			wantCache: "public, max-age=300, stale-while-revalidate=600, stale-if-error=86400",
			want:      []string{`href="/search"`, `href="/basket"`, "fictional"},
			testIDs:   []string{"shell-footer"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := fragtest.Get(t, nil, srv.URL+tt.path)
			fragtest.CheckFragment(t, srv.URL, r, "shell", http.StatusOK, tt.wantCache)
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
		})
	}
}

func TestHeaderStaticHasNoSearchForm(t *testing.T) {
	r := fragtest.Get(t, nil, newServer(t).URL+"/shell/fragments/header-static?q=x")
	if strings.Contains(r.Body, "<form") {
		t.Errorf("static header has a form:\n%s", r.Body)
	}
}

func TestHeaderQuery(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name, q      string
		want, reject []string
	}{
		{
			name:   "escapes markup",
			q:      `"><script>alert(1)</script>`,
			want:   []string{`value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`},
			reject: []string{"<script>"},
		},
		{
			name: "marks the current category",
			q:    "jackets",
			want: []string{`href="/search?q=jackets" aria-current="page"`},
		},
		{
			name:   "marks nothing for other searches",
			q:      "jacket",
			reject: []string{"aria-current"},
		},
		{
			name: "cuts very long queries",
			q:    strings.Repeat("é", 150),
			want: []string{`value="` + strings.Repeat("é", 100) + `"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/shell/fragments/header", nil)
			v := req.URL.Query()
			v.Set("q", tt.q)
			req.URL.RawQuery = v.Encode()
			r := fragtest.Do(t, http.DefaultClient, req)
			if r.StatusCode != http.StatusOK {
				t.Fatalf("status = %d", r.StatusCode)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.Body, w) {
					t.Errorf("body lacks %q:\n%s", w, r.Body)
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

func TestStylesheet(t *testing.T) {
	srv := newServer(t)
	r := fragtest.Get(t, nil, srv.URL+"/shell/static/shell.css")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status = %d", r.StatusCode)
	}
	if got := r.Header.Get("Cache-Control"); got != "public, max-age=300, stale-if-error=86400" {
		t.Errorf("Cache-Control without v = %q, want public, max-age=300, stale-if-error=86400", got)
	}
	// The frame and base styles are the shop's (Inlay's static/shop.css):
	// the shell's own stylesheet adds the polish of its header and footer.
	for _, sel := range []string{".shell-nav__link:hover", ".shell-search input:focus"} {
		if !strings.Contains(r.Body, sel) {
			t.Errorf("shell.css does not style %s", sel)
		}
	}
	if strings.Contains(r.Body, "body {") {
		t.Errorf("shell.css sets the page's base styles, which the shop's stylesheet owns")
	}
	if r := fragtest.Get(t, nil, srv.URL+"/shell/static/other.css"); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown static file: status = %d, want 404", r.StatusCode)
	}
}

func TestOnlyUnderPrefix(t *testing.T) {
	srv := newServer(t)
	for _, path := range []string{"/fragments/header", "/static/shell.css", "/shell/fragments/nope"} {
		if r := fragtest.Get(t, nil, srv.URL+path); r.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status = %d, want 404", path, r.StatusCode)
		}
	}
}
