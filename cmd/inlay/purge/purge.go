package purge

import (
	"context"
	"encoding/json"
	"errors"
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
	"github.com/inlayhq/inlay/fragments/cache"
	"github.com/inlayhq/inlay/fragments/shared"
)

// Timeout bounds one purge, from the admin listener or from a shell.
const Timeout = 10 * time.Second

// Result is the JSON answer of a purge.
type Result struct {
	// Purged is how many cached responses were dropped.
	Purged int `json:"purged"`
	// Error says why the purge failed, when it did.
	Error string `json:"error,omitempty"`
}

// Handler serves POST /-/purge?tag=NAME (repeatable) on the admin
// listener: it drops every cached response tagged NAME (in its
// Surrogate-Key header) from the shared tier and every replica's
// in-process tier, or from this replica's alone without a shared tier.
func Handler(engine *fragments.Engine) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		tags := r.URL.Query()["tag"]
		if len(tags) == 0 {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(Result{Error: "name at least one tag: POST /-/purge?tag=NAME"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), Timeout)
		defer cancel()
		n, err := engine.Purge(ctx, tags...)
		switch {
		case errors.Is(err, cache.ErrBadTag):
			w.WriteHeader(http.StatusBadRequest)
		case err != nil:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		res := Result{Purged: n}
		if err != nil {
			res.Error = err.Error()
		}
		json.NewEncoder(w).Encode(res)
	})
}

// Tags drops every cached response tagged with one of tags: through the
// shared tier directly when cfg has one (which tells every replica), else
// by asking the replica at cfg's admin address. It returns how many
// responses were dropped.
func Tags(ctx context.Context, cfg *config.Config, tags ...string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	if sc := cfg.Cache.Shared; sc.Enabled() {
		return Shared(ctx, sc, tags)
	}
	return Admin(ctx, cfg, tags)
}

// Shared purges tags through the shared tier.
func Shared(ctx context.Context, sc config.SharedCache, tags []string) (int, error) {
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

// Admin asks the replica at the config's admin address to purge tags
// from its in-process tier, with the config's admin token (see
// config.ReadAdminToken: $INLAY_ADMIN_TOKEN, admin_token_file or
// admin_token) when there is one.
func Admin(ctx context.Context, cfg *config.Config, tags []string) (int, error) {
	if cfg.Admin == "" {
		return 0, fmt.Errorf("%s has neither cache.shared.url nor admin: there is nothing to purge through", cfg.File)
	}
	token, err := cfg.ReadAdminToken()
	if err != nil {
		return 0, err
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
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("asking the replica at %s: %w", cfg.Admin, err)
	}
	defer resp.Body.Close()
	var res Result
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&res); err != nil {
		return 0, fmt.Errorf("asking the replica at %s: status %d, answer not JSON: %w", cfg.Admin, resp.StatusCode, err)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return 0, fmt.Errorf("asking the replica at %s: status 401: the admin token is missing or wrong; give it in $%s or the config's admin_token_file", cfg.Admin, config.AdminTokenEnv)
	}
	if resp.StatusCode != http.StatusOK {
		return res.Purged, fmt.Errorf("asking the replica at %s: status %d: %s", cfg.Admin, resp.StatusCode, strings.TrimSpace(res.Error))
	}
	return res.Purged, nil
}
