package main

import (
	"encoding/json"
	"log/slog"
	"sync"

	"github.com/inlayhq/inlay/composer/auth"
	"github.com/inlayhq/inlay/composer/config"
)

// liveAuth keeps one sign-in across config reloads: a reload that leaves
// the auth block, public_url and the shared tier as they are keeps the
// sessions and the keys of the process; one that changes them makes a new
// sign-in, and the old one is closed once the new composer serves.
type liveAuth struct {
	mu      sync.Mutex
	current *auth.Auth
	key     string
	retired []*auth.Auth
}

// get returns the sign-in of cfg, nil without an auth block.
func (l *liveAuth) get(cfg *config.Config, logger *slog.Logger) (*auth.Auth, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cfg.Auth == nil {
		if l.current != nil {
			l.retired, l.current, l.key = append(l.retired, l.current), nil, ""
		}
		return nil, nil
	}
	b, _ := json.Marshal(struct {
		Auth             *config.Auth
		PublicURL, Cache string
		Dev              bool
	}{cfg.Auth, cfg.PublicURL, cfg.Cache.Shared.URL, cfg.Dev})
	if l.current != nil && string(b) == l.key {
		return l.current, nil
	}
	a, err := auth.New(cfg, auth.Options{Logger: logger})
	if err != nil {
		return nil, err
	}
	if l.current != nil {
		l.retired = append(l.retired, l.current)
	}
	l.current, l.key = a, string(b)
	return a, nil
}

// retire closes the sign-ins no composer serves any more.
func (l *liveAuth) retire() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, a := range l.retired {
		a.Close()
	}
	l.retired = nil
}

// close closes every sign-in, at shutdown.
func (l *liveAuth) close() {
	l.retire()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.current != nil {
		l.current.Close()
		l.current = nil
	}
}
