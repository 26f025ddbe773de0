package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inlayhq/inlay/cmd/inlay/demo"
	"github.com/inlayhq/inlay/teams/basket"
	"github.com/inlayhq/inlay/teams/search"
	"github.com/inlayhq/inlay/teams/shell"
	"github.com/inlayhq/inlay/teams/teamtest"
)

// stagingConfig writes a config of the demo shop whose shell and basket
// are the given (shared) services, and whose search service is nowhere:
// the developer runs it locally.
func stagingConfig(t *testing.T, shellURL, basketURL string) string {
	t.Helper()
	layouts, err := filepath.Abs("../../layouts")
	if err != nil {
		t.Fatal(err)
	}
	path, _ := teamtest.Shop{
		Extra:       "layouts: " + layouts + "\nerror_pages:\n  \"404\": not-found.html\n  \"5xx\": error.html\n",
		Services:    map[string]string{"shell": shellURL, "search": "http://127.0.0.1:1", "basket": basketURL},
		ServiceYAML: map[string]string{"basket": "    cookies: true\n"},
		Pages:       "  - path: /\n    layout: home.html\n  - path: /product/{sku}\n    layout: product.html",
	}.Write(t)
	return path
}

// TestDevServesALocalServiceInTheWholeShop runs `inlay dev` against real
// team services: the shell and basket of a shared shop, and a search
// service "on the developer's laptop" named with --service.
func TestDevServesALocalServiceInTheWholeShop(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	localSearch, stopSearch, err := demo.StartTeam(search.New(search.Config{Logger: logger}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopSearch)
	shellURL, stopShell, err := demo.StartTeam(shell.New(shell.Config{Logger: logger}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopShell)
	basketURL, stopBasket, err := demo.StartTeam(basket.New(basket.Config{CatalogURL: localSearch, Logger: logger}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopBasket)
	cfgPath := stagingConfig(t, shellURL, basketURL)

	var logs teamtest.Logs
	base := startInlay(t, "inlay dev", func(ctx context.Context, ready func(string)) error {
		return runDev(ctx, devOptions{
			ConfigPath: cfgPath,
			Listen:     "127.0.0.1:0",
			Services:   serviceOverrides{"search": localSearch},
			Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
			Ready:      ready,
		})
	})

	resp, body := teamtest.Get(t, base+"/product/boot-01")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("product page: status %d, want 200 from the local search service", resp.StatusCode)
	}
	for _, want := range []string{
		`data-testid="product-name">Chelsea Boot</h1>`, // the local search service
		`data-testid="shell-nav"`,                      // the shared shell
		`/-/static/inlay-dev.`,                         // dev mode: live reload
	} {
		if !strings.Contains(body, want) {
			t.Errorf("product page lacks %q", want)
		}
	}
	for _, want := range []string{"name=search url=" + localSearch + " source=local", "name=shell url=" + shellURL + " source=\"from the config\""} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("start-up log lacks %q:\n%s", want, logs.String())
		}
	}
}

func TestDevCommandLine(t *testing.T) {
	cfgPath := stagingConfig(t, "http://127.0.0.1:1", "http://127.0.0.1:1")
	cases := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"unknown service", []string{"dev", "--config", cfgPath, "--service", "serch=http://127.0.0.1:3000"}, 1, `the config has no service "serch" (it has: basket, search, shell)`},
		{"not NAME=URL", []string{"dev", "--config", cfgPath, "--service", "search"}, 2, "want NAME=URL"},
		{"bad URL", []string{"dev", "--config", cfgPath, "--service", "search=ftp://x"}, 1, `--service search: service "search": bad url`},
		{"port out of range", []string{"dev", "--config", cfgPath, "--service", "search=127.0.0.1:99999"}, 1, `--service search: service "search": bad url: url has port 99999, not one from 1 to 65535`},
		{"no host", []string{"dev", "--config", cfgPath, "--service", "search=:3000"}, 1, `--service search: service "search": bad url: url must be scheme://host[:port][/path]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := run(context.Background(), tc.args, &stdout, &stderr)
			if code != tc.wantCode || !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr.String(), tc.wantCode, tc.wantStderr)
			}
		})
	}
}

// TestDevWarnsWhenALocalServiceIsNotThere starts `inlay dev` with a
// --service URL where nothing listens, typed without its scheme as
// developers do: it is taken as http://, and the start-up log says that
// nothing answers there, naming the service.
func TestDevWarnsWhenALocalServiceIsNotThere(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	cfgPath := stagingConfig(t, "http://127.0.0.1:1", "http://127.0.0.1:1")
	overrides := serviceOverrides{}
	if err := overrides.Set("search=" + dead); err != nil {
		t.Fatal(err)
	}
	var logs teamtest.Logs
	startInlay(t, "inlay dev", func(ctx context.Context, ready func(string)) error {
		return runDev(ctx, devOptions{
			ConfigPath: cfgPath,
			Listen:     "127.0.0.1:0",
			Services:   overrides,
			Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
			Ready:      ready,
		})
	})
	for _, want := range []string{"level=WARN", "nothing answers at your local service's URL", "service=search", "url=http://" + dead} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("start-up log lacks %q:\n%s", want, logs.String())
		}
	}
}
