package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/inlayhq/inlay/fragments/shared/redisurl"
)

// SharedCache configures the cache's shared tier, one Valkey or Redis (7+)
// server for every replica: one origin fetch per cold key across the
// fleet, stale copies that survive restarts, and purge by tag.
type SharedCache struct {
	// URL locates the server: redis://[user:password@]host[:port][/db], or
	// rediss:// for TLS. Empty means no shared tier. The password never
	// appears in logs; see SharedCache.RedactedURL.
	URL string `yaml:"url"`
	// Timeout bounds each call to the server; past it the call counts as
	// failed and the page goes on without the tier. Zero means 20ms.
	Timeout Duration `yaml:"timeout"`
}

// DefaultSharedTimeout is the shared tier's deadline per call.
const DefaultSharedTimeout = 20 * time.Millisecond

// Enabled reports whether a shared tier is configured.
func (s SharedCache) Enabled() bool { return s.URL != "" }

// CallTimeout returns Timeout or its default.
func (s SharedCache) CallTimeout() time.Duration {
	if s.Timeout > 0 {
		return time.Duration(s.Timeout)
	}
	return DefaultSharedTimeout
}

// RedactedURL returns URL with its password, if any, replaced by xxxxx,
// for logs and for showing the config.
func (s SharedCache) RedactedURL() string { return redisurl.Redacted(s.URL) }

// String formats the settings with the URL redacted, so that printing a
// Config (%v, %+v) never shows the password.
func (s SharedCache) String() string {
	return fmt.Sprintf("{url: %s, timeout: %v}", s.RedactedURL(), s.CallTimeout())
}

// MarshalJSON writes the settings with the URL redacted, as slog's JSON
// handler does for a Cache.
func (s SharedCache) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		URL     string `json:"url,omitempty"`
		Timeout string `json:"timeout"`
	}{s.RedactedURL(), s.CallTimeout().String()})
}

// LogValue logs the settings with the URL redacted.
func (s SharedCache) LogValue() slog.Value {
	return slog.GroupValue(slog.String("url", s.RedactedURL()), slog.Duration("timeout", s.CallTimeout()))
}
