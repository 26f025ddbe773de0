package main

import (
	"io"
	"log/slog"
	"testing"

	"github.com/inlayhq/inlay/composer/config"
)

// A config reload that leaves sign-in as it is keeps the same sign-in,
// and with it the sessions of the process; one that changes it makes a
// new one.
func TestSignInSurvivesAConfigReload(t *testing.T) {
	parse := func(authExtra, top string) *config.Config {
		cfg, err := config.Parse("inlay.yaml", []byte(top+"dev: true\npublic_url: http://127.0.0.1:8080\nauth:\n  issuer: http://127.0.0.1:9104\n  client_id: inlay\n"+authExtra+"services:\n  shell:\n    url: http://127.0.0.1:9101\n"))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	var l liveAuth
	defer l.close()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	first, err := l.get(parse("", ""), logger)
	if err != nil || first == nil {
		t.Fatal(err)
	}
	again, _ := l.get(parse("", "page_timeout: 3s\n"), logger)
	if again != first {
		t.Error("an unchanged auth block made a new sign-in: the process's sessions would be lost")
	}
	changed, _ := l.get(parse("  claims: [name]\n", ""), logger)
	if changed == first || changed == nil {
		t.Error("a changed auth block kept the old sign-in")
	}
	if len(l.retired) != 1 {
		t.Errorf("%d sign-ins to close, want 1", len(l.retired))
	}
	l.retire()
}
