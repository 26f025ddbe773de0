package lint_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/composer/lint"
	"github.com/inlayhq/inlay/teams/teamtest"
)

const shopConfig = `layouts: layouts
page_timeout: 2s
services:
  search:
    url: http://127.0.0.1:9102
    timeout: 500ms
pages:
  - path: /product/{sku}
    layout: product.html
public_url: https://shop.example
`

// layout wraps fragments in a page.
func layout(fragments string) string {
	return "<!DOCTYPE html>\n<html lang=\"en\">\n<body>\n" + fragments + "\n</body>\n</html>\n"
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		layout  string
		want    []string // "severity: message part", in order
		summary string
	}{
		{
			name:    "clean",
			config:  shopConfig,
			layout:  layout(`<fragment id="product" src="search:/p/{sku}" primary></fragment>`),
			summary: "1 layout, 1 page, 1 fragment checked",
		},
		{
			name:   "no fallback",
			config: shopConfig,
			layout: layout(`<fragment id="product" src="search:/p/{sku}" primary></fragment>
<fragment id="related" src="search:/r/{sku}" timeout="250ms"></fragment>`),
			want:    []string{`warning: fragment "related" has no fallback`},
			summary: "1 layout, 1 page, 2 fragments checked",
		},
		{
			name:   "timeout past the page deadline, sorted by line",
			config: shopConfig,
			layout: layout(`<fragment id="product" src="search:/p/{sku}" primary timeout="3s"></fragment>
<fragment id="related" src="search:/r/{sku}" timeout="250ms"></fragment>`),
			want: []string{
				`warning: fragment "product" waits up to 3s (its timeout), longer than the 2s timeout of page "/product/{sku}"`,
				`warning: fragment "related" has no fallback`,
			},
			summary: "1 layout, 1 page, 2 fragments checked",
		},
		{
			// Issue 25, finding 5: the warnings of a broken file are not
			// held back by its errors.
			name:   "an error and an unclosed div in the same file",
			config: shopConfig,
			layout: layout(`<div class="promo">
<fragment id="product" src="nowhere:/p/{sku}" primary></fragment>`),
			want:    []string{`warning: <div> is never closed`, `error: `},
			summary: "1 layout, 1 page, 0 fragments checked",
		},
		{
			name:    "neither public_url nor hosts (S5)",
			config:  strings.Replace(shopConfig, "public_url: https://shop.example\n", "", 1),
			layout:  layout(`<fragment id="product" src="search:/p/{sku}" primary></fragment>`),
			want:    []string{`warning: neither public_url nor hosts is set`},
			summary: "1 layout, 1 page, 1 fragment checked",
		},
		{
			name:    "unknown service",
			config:  shopConfig,
			layout:  layout(`<fragment id="product" src="nowhere:/p/{sku}" primary></fragment>`),
			want:    []string{`error: `},
			summary: "1 layout, 1 page, 0 fragments checked",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, _ := teamtest.Shop{Extra: tt.config, Layouts: map[string]string{"layouts/product.html": tt.layout}}.Write(t)
			problems, summary, err := lint.Check(path)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if len(problems) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(problems), len(tt.want), problems)
			}
			for i, p := range problems {
				got := p.Severity + ": " + p.Message
				if !strings.HasPrefix(got, tt.want[i]) && !strings.Contains(got, strings.TrimPrefix(tt.want[i], p.Severity+": ")) {
					t.Errorf("problem %d: %q, want %q", i, got, tt.want[i])
				}
				if !strings.HasPrefix(tt.want[i], p.Severity+": ") {
					t.Errorf("problem %d: severity %q, want %q", i, p.Severity, tt.want[i])
				}
			}
			if summary.String() != tt.summary {
				t.Errorf("summary %q, want %q", summary, tt.summary)
			}
		})
	}
}

func TestCheckUnreadableConfig(t *testing.T) {
	if _, _, err := lint.Check(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Fatal("Check of a missing config: no error")
	}
}

func TestReport(t *testing.T) {
	rep := lint.NewReport(nil)
	if rep.Problems == nil || rep.Errors != 0 || rep.Warnings != 0 {
		t.Errorf("NewReport(nil) = %+v, want an empty list and no counts", rep)
	}
	rep = lint.NewReport([]config.Problem{{Severity: config.SeverityError}, {Severity: config.SeverityWarning}, {Severity: config.SeverityWarning}})
	if rep.Errors != 1 || rep.Warnings != 2 {
		t.Errorf("counts %d errors, %d warnings, want 1 and 2", rep.Errors, rep.Warnings)
	}
	if got, want := lint.Tally(1, 2), "1 error, 2 warnings"; got != want {
		t.Errorf("Tally(1, 2) = %q, want %q", got, want)
	}
	p := config.Problem{File: "a.html", Line: 3, Col: 5, Severity: config.SeverityWarning, Message: "m"}
	if got, want := p.Error(), "a.html:3:5: warning: m"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
