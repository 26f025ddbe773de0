package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/fragments"
	"github.com/inlayhq/inlay/fragments/shared"
)

// purgeTimeout bounds one purge, from the admin listener or from a shell.
const purgeTimeout = 10 * time.Second

// purgeResult is the JSON answer of a purge.
type purgeResult struct {
	Purged int    `json:"purged"`
	Error  string `json:"error,omitempty"`
}

// purgeHandler serves POST /-/purge?tag=NAME (repeatable) on the admin
// listener: it drops every cached response tagged NAME (in its
// Surrogate-Key header) from the shared tier and every replica's
// in-process tier, or from this replica's alone without a shared tier.
func purgeHandler(engine *fragments.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		tags := r.URL.Query()["tag"]
		if len(tags) == 0 {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(purgeResult{Error: "name at least one tag: POST /-/purge?tag=NAME"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), purgeTimeout)
		defer cancel()
		n, err := engine.Purge(ctx, tags...)
		switch {
		case errors.Is(err, fragments.ErrBadTag):
			w.WriteHeader(http.StatusBadRequest)
		case err != nil:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		res := purgeResult{Purged: n}
		if err != nil {
			res.Error = err.Error()
		}
		json.NewEncoder(w).Encode(res)
	})
}

// purgeCommand runs inlay purge: with a shared tier in the config, it
// purges through the tier directly (which tells every replica); without,
// it asks the replica at the config's admin address.
func purgeCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("purge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "inlay.yaml", "config `file`")
	var tags []string
	fs.Func("tag", "drop every cached fragment whose Surrogate-Key lists `NAME` (repeatable)", func(s string) error {
		tags = append(tags, s)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if len(tags) == 0 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "inlay purge: usage: inlay purge --config FILE --tag NAME [--tag NAME...]")
		return 2
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "inlay purge: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, purgeTimeout)
	defer cancel()
	var n int
	if sc := cfg.Cache.Shared; sc.Enabled() {
		n, err = purgeShared(ctx, sc, tags)
	} else {
		n, err = purgeAdmin(ctx, cfg, tags)
	}
	if err != nil {
		fmt.Fprintf(stderr, "inlay purge: %v\n", err)
		return 1
	}
	json.NewEncoder(stdout).Encode(purgeResult{Purged: n})
	return 0
}

// purgeShared purges tags through the shared tier.
func purgeShared(ctx context.Context, sc config.SharedCache, tags []string) (int, error) {
	quiet := slog.New(slog.DiscardHandler) // the error below says it all
	st, err := shared.New(shared.Config{URL: sc.URL, Timeout: sc.CallTimeout(), Logger: quiet})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	if !st.Healthy() {
		return 0, fmt.Errorf("shared cache tier at %s: %w", sc.RedactedURL(), shared.ErrUnavailable)
	}
	n, err := st.Purge(ctx, tags...)
	if err != nil {
		return n, fmt.Errorf("shared cache tier at %s: %w", sc.RedactedURL(), err)
	}
	return n, nil
}

// purgeAdmin asks the replica at the config's admin address to purge tags
// from its in-process tier.
func purgeAdmin(ctx context.Context, cfg *config.Config, tags []string) (int, error) {
	if cfg.Admin == "" {
		return 0, fmt.Errorf("%s has neither cache.shared.url nor admin: there is nothing to purge through", cfg.File)
	}
	host, port, err := net.SplitHostPort(cfg.Admin)
	if err != nil {
		return 0, fmt.Errorf("admin address %q: %w", cfg.Admin, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	q := url.Values{"tag": tags}
	u := "http://" + net.JoinHostPort(host, port) + "/-/purge?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("asking the replica at %s: %w", cfg.Admin, err)
	}
	defer resp.Body.Close()
	var res purgeResult
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&res); err != nil {
		return 0, fmt.Errorf("asking the replica at %s: status %d, answer not JSON: %w", cfg.Admin, resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK {
		return res.Purged, fmt.Errorf("asking the replica at %s: status %d: %s", cfg.Admin, resp.StatusCode, strings.TrimSpace(res.Error))
	}
	return res.Purged, nil
}
