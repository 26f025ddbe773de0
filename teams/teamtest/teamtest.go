// Package teamtest holds what Inlay's tests need around the servers they
// start: a stand-in team service (a real HTTP server on loopback whose
// answer the test sets and changes while it runs, and which counts the
// requests that reached it) and a log sink the servers can share. Only
// tests import it.
package teamtest

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// Team is a stand-in team service. It is closed when the test ends.
type Team struct {
	*httptest.Server
	// Fetches counts the requests that reached the team.
	Fetches atomic.Int64

	mu     sync.Mutex // protects handle
	handle http.HandlerFunc
}

// New starts a team that answers with h.
func New(t testing.TB, h http.HandlerFunc) *Team {
	t.Helper()
	team := &Team{handle: h}
	team.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		team.Fetches.Add(1)
		team.mu.Lock()
		h := team.handle
		team.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(team.Close)
	return team
}

// Set makes the team answer with h from now on.
func (team *Team) Set(h http.HandlerFunc) {
	team.mu.Lock()
	defer team.mu.Unlock()
	team.handle = h
}
