package teamtest_test

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/teams/teamtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// shop is a shop with every section set.
var shop = teamtest.Shop{
	Services: map[string]string{
		"search":         "http://127.0.0.1:9102",
		"basket-cookies": "http://127.0.0.1:9103",
		"shell":          "http://127.0.0.1:9101",
	},
	ServiceTimeout: "2s",
	ServiceYAML: map[string]string{
		"shell":  "    timeout: 500ms\n",
		"search": "    max_concurrent: 4\n",
	},
	Pages:   "  - path: /\n    layout: home.html\n  - path: /product/{sku}\n    layout: product.html",
	Gateway: "  - prefix: /basket/api/\n    service: basket-cookies",
	Extra:   "page_timeout: 3s\n",
	Layouts: map[string]string{
		"home.html":           `<fragment src="shell:/header" primary></fragment>`,
		"product.html":        `<fragment src="search:/p/{sku}" primary></fragment>`,
		"partials/aside.html": `<aside></aside>`,
	},
}

func TestShopYAML(t *testing.T) {
	tests := []struct {
		name string
		shop teamtest.Shop
	}{
		{"full", shop},
		{"whole config as extra", teamtest.Shop{Extra: "services:\n  a:\n    url: http://127.0.0.1:1\n"}},
		{"no service timeout", teamtest.Shop{Services: map[string]string{"a": "http://127.0.0.1:1"}, Pages: "  - path: /\n    layout: p.html\n"}},
		{"empty", teamtest.Shop{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			golden := filepath.Join("testdata", strings.ReplaceAll(tc.name, " ", "-")+".yaml")
			got := tc.shop.YAML()
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("YAML:\n%s\nwant (%s):\n%s", got, golden, want)
			}
		})
	}
}

func TestShopParses(t *testing.T) {
	cfg, fsys := teamtest.Parse(t, shop, config.Parse)
	if n := len(cfg.Services); n != 3 {
		t.Errorf("services: got %d, want 3", n)
	}
	if got := cfg.Services["shell"].Timeout.String(); got != "500ms" {
		t.Errorf("shell timeout: got %s, want its own 500ms", got)
	}
	if got := cfg.Services["search"].Timeout.String(); got != "2s" {
		t.Errorf("search timeout: got %s, want the shop's 2s", got)
	}
	if n := len(cfg.Pages); n != 2 {
		t.Errorf("pages: got %d, want 2", n)
	}
	b, err := fs.ReadFile(fsys, "partials/aside.html")
	if err != nil || string(b) != "<aside></aside>" {
		t.Errorf("layout partials/aside.html: %q, %v", b, err)
	}
}

func TestShopWrite(t *testing.T) {
	path, dir := shop.Write(t)
	if filepath.Dir(path) != dir {
		t.Errorf("config %s is not in the layouts folder %s", path, dir)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("loading the written config: %v", err)
	}
	if cfg.LayoutsDir() != dir {
		t.Errorf("LayoutsDir: got %s, want %s", cfg.LayoutsDir(), dir)
	}
	for name, want := range shop.Layouts {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil || string(got) != want {
			t.Errorf("layout %s: got %q, %v; want %q", name, got, err, want)
		}
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != shop.YAML() {
		t.Errorf("config file: got %q, %v; want the shop's YAML", got, err)
	}
}

func TestWriteFileFailsTheTest(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	teamtest.WriteFile(t, blocker, "x")
	ft := &fatalRecorder{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil && r != errFatal {
				panic(r)
			}
		}()
		teamtest.WriteFile(ft, filepath.Join(blocker, "under", "a.html"), "y")
	}()
	if !strings.Contains(ft.msg, "making the folder of") {
		t.Errorf("got %q, want the test failed on the folder", ft.msg)
	}
}

var errFatal = errors.New("fatal")

// fatalRecorder records a Fatalf instead of ending the test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(errFatal)
}
