package composer

// The two ways the deterministic fault suite reaches its services: a
// RoundTripper, or in-memory connections (package memnet) under the
// transport the engine picks by default.

import (
	"net/http"
	"testing"
	"testing/synctest"

	"github.com/inlayhq/inlay/fragments"
	"github.com/inlayhq/inlay/internal/memnet"
)

// memWay is how a memShop's engine reaches its in-memory services.
type memWay struct {
	name string
	// conns reaches them over in-memory connections, under the transport
	// the engine picks by default (the lean HTTP/1.1 client on Unix);
	// otherwise memTransport carries every request as a RoundTripper.
	conns bool
}

// memWays are both ways: every test of the deterministic suite runs over
// each, so that the lean client is under it as much as net/http's
// request path is.
var memWays = []memWay{{name: "roundtripper"}, {name: "conns", conns: true}}

// memTest runs f once per memWay, each in a subtest of its own and a
// synctest bubble of its own.
func memTest(t *testing.T, f func(t *testing.T, way memWay)) {
	t.Helper()
	for _, way := range memWays {
		t.Run(way.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { f(t, way) })
		})
	}
}

// options returns the engine options that reach services this way.
func (w memWay) options(t *testing.T, services map[string]http.HandlerFunc) fragments.EngineOptions {
	t.Helper()
	if w.conns {
		byAddr := map[string]http.Handler{}
		for name, h := range services {
			byAddr[name+".test:80"] = h // the host:port of its URL in a memShop
		}
		return fragments.EngineOptions{Dial: memnet.New(t, byAddr).Dial}
	}
	return fragments.EngineOptions{Transport: memTransport(services)}
}
