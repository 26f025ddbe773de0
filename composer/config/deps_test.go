package config_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoRedisClientInConfig checks that config, and the layout and lint
// packages built on it, do not link the Redis client: reading and checking
// a config needs no connection to the shared tier.
func TestNoRedisClientInConfig(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/inlayhq/inlay/composer/config",
		"github.com/inlayhq/inlay/composer/layout", "github.com/inlayhq/inlay/composer/lint").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for dep := range strings.FieldsSeq(string(out)) {
		if strings.Contains(dep, "rueidis") || dep == "github.com/inlayhq/inlay/fragments/shared" {
			t.Errorf("config, layout or lint depends on %s", dep)
		}
	}
}
