package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/inlayhq/inlay/teams/teamtest"
)

func TestParseSharedCacheProblems(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       string
	}{
		{"shared url scheme", "cache:\n  shared:\n    url: http://valkey:6379\nservices:\n  a:\n    url: http://x\n", `c.yaml:3:10: cache shared url must be redis:// or rediss://, got "http://valkey:6379"`},
		{"shared url without host", "cache:\n  shared:\n    url: redis:///0\nservices:\n  a:\n    url: http://x\n", `c.yaml:3:10: cache shared url "redis:///0" has no host`},
		{"shared url bad database", "cache:\n  shared:\n    url: redis://valkey/cache\nservices:\n  a:\n    url: http://x\n", `c.yaml:3:10: cache shared url "redis://valkey/cache": the path names a database number`},
		{"shared url password redacted", "cache:\n  shared:\n    url: valkey://:hunter2@valkey\nservices:\n  a:\n    url: http://x\n", `c.yaml:3:10: cache shared url must be redis:// or rediss://, got "valkey://:xxxxx@valkey"`},
		{"shared url unparsable", "cache:\n  shared:\n    url: \"redis://:hunter2@[::1\"\nservices:\n  a:\n    url: http://x\n", `c.yaml:3:10: cache shared url does not parse`},
		{"shared timeout", "cache:\n  shared:\n    url: redis://valkey\n    timeout: 20\nservices:\n  a:\n    url: http://x\n", `c.yaml:4:14: cache shared timeout: bad duration`},
		{"shared timeout too long", "cache:\n  shared:\n    url: redis://valkey\n    timeout: 2s\nservices:\n  a:\n    url: http://x\n", `c.yaml:4:14: cache shared timeout: must be at most 1s`},
		{"shared unknown key", "cache:\n  shared:\n    addr: valkey:6379\nservices:\n  a:\n    url: http://x\n", `c.yaml:3:5: unknown field "addr"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tc.yaml))
			ps, ok := err.(Problems)
			if !ok || len(ps) != 1 {
				t.Fatalf("got error %v (%T), want one problem", err, err)
			}
			if got := ps[0].Error(); !strings.HasPrefix(got, tc.want) {
				t.Errorf("got %q, want prefix %q", got, tc.want)
			}
			if strings.Contains(ps[0].Error(), "hunter2") {
				t.Errorf("the problem shows the password: %q", ps[0].Error())
			}
		})
	}
}

func TestParseSharedCache(t *testing.T) {
	cases := []struct {
		name, yaml  string
		enabled     bool
		timeout     time.Duration
		redactedURL string
	}{
		{"absent", "services:\n  a:\n    url: http://x\n", false, DefaultSharedTimeout, ""},
		{"url only", "cache:\n  shared:\n    url: redis://127.0.0.1:6379/0\nservices:\n  a:\n    url: http://x\n", true, DefaultSharedTimeout, "redis://127.0.0.1:6379/0"},
		{"tls, password, timeout", "cache:\n  shared:\n    url: rediss://inlay:hunter2@valkey:6380\n    timeout: 50ms\nservices:\n  a:\n    url: http://x\n", true, 50 * time.Millisecond, "rediss://inlay:xxxxx@valkey:6380"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("c.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			sc := c.Cache.Shared
			if sc.Enabled() != tc.enabled || sc.CallTimeout() != tc.timeout || sc.RedactedURL() != tc.redactedURL {
				t.Errorf("got enabled %t, timeout %v, url %q; want %t, %v, %q", sc.Enabled(), sc.CallTimeout(), sc.RedactedURL(), tc.enabled, tc.timeout, tc.redactedURL)
			}
		})
	}
}

// TestSharedCachePasswordNeverPrinted: printing or logging a config, in
// whole or in part, shows the shared tier's URL redacted.
func TestSharedCachePasswordNeverPrinted(t *testing.T) {
	c, err := Parse("c.yaml", []byte("cache:\n  shared:\n    url: redis://:hunter2@valkey:6379/0\nservices:\n  a:\n    url: http://x\n"))
	if err != nil {
		t.Fatal(err)
	}
	var logged teamtest.Logs
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "cache", c.Cache, "shared", c.Cache.Shared)
	var text teamtest.Logs
	slog.New(slog.NewTextHandler(&text, nil)).Info("config", "cache", c.Cache, "shared", c.Cache.Shared)
	asJSON, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"slog text": text.String(),
		"json":      string(asJSON),
		"%v":        fmt.Sprintf("%v", c),
		"%+v":       fmt.Sprintf("%+v", *c),
		"cache %v":  fmt.Sprintf("%v", c.Cache),
		"slog":      logged.String(),
	} {
		if strings.Contains(text, "hunter2") {
			t.Errorf("%s shows the password: %s", name, text)
		}
		if !strings.Contains(text, "redis://:xxxxx@valkey:6379/0") {
			t.Errorf("%s does not show the redacted URL: %s", name, text)
		}
	}
}
