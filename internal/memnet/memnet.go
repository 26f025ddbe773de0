// Package memnet is an in-memory network for tests: each service's
// handler behind a real http.Server that accepts net.Pipe connections,
// reached through [Net.Dial] (fragments.EngineOptions.Dial). Everything
// in it blocks on channels, so that it runs inside a testing/synctest
// bubble, where the clock moves only when every goroutine waits.
package memnet

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"testing"
)

// Net is an in-memory network of services, one listener each, at the
// address it is served at.
type Net struct {
	mu        sync.Mutex
	listeners map[string]*listener
	servers   map[string]*http.Server
}

// New serves each handler, keyed by its address (host:port), with a real
// http.Server on a listener of its own. The servers are closed when the
// test ends, which ends every handler still waiting on its request's
// context.
func New(t testing.TB, services map[string]http.Handler) *Net {
	t.Helper()
	n := &Net{listeners: map[string]*listener{}, servers: map[string]*http.Server{}}
	for addr, h := range services {
		l := &listener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
		n.listeners[addr] = l
		// The servers' own logs are dropped: a connection the client cut
		// is part of a test, not news.
		srv := &http.Server{Handler: h, ErrorLog: log.New(io.Discard, "", 0)}
		n.servers[addr] = srv
		served := make(chan struct{})
		go func() {
			defer close(served)
			srv.Serve(l)
		}()
		t.Cleanup(func() {
			srv.Close()
			<-served
		})
	}
	return n
}

// Dial connects to the service listening at addr: one end of a net.Pipe
// goes to its server, the other is returned. An address where nothing
// listens is refused, as a real network refuses a closed port.
func (n *Net) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	n.mu.Lock()
	l := n.listeners[addr]
	n.mu.Unlock()
	if l == nil {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: Addr(addr), Err: fmt.Errorf("connection refused: nothing listens at %s", addr)}
	}
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		client.Close()
		server.Close()
		return nil, &net.OpError{Op: "dial", Net: network, Addr: Addr(addr), Err: fmt.Errorf("connection refused: %w", net.ErrClosed)}
	case <-ctx.Done():
		client.Close()
		server.Close()
		return nil, &net.OpError{Op: "dial", Net: network, Addr: Addr(addr), Err: ctx.Err()}
	}
}

// Stop stops the listener at addr: new connections are refused, as if
// the instance there was killed. Connections already made stay until
// their server closes them.
func (n *Net) Stop(addr string) {
	n.mu.Lock()
	l := n.listeners[addr]
	delete(n.listeners, addr)
	n.mu.Unlock()
	if l != nil {
		l.Close()
	}
}

// Kill stops the service at addr as a crash would: new connections are
// refused, and every open one is closed, with its requests unanswered.
func (n *Net) Kill(addr string) {
	n.mu.Lock()
	srv := n.servers[addr]
	n.mu.Unlock()
	n.Stop(addr)
	if srv != nil {
		srv.Close()
	}
}

// listener is a net.Listener whose connections come from Net.Dial.
type listener struct {
	addr  string
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *listener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *listener) Addr() net.Addr { return Addr(l.addr) }

// Addr is an address on the in-memory network.
type Addr string

// Network returns "mem".
func (Addr) Network() string { return "mem" }

// String returns the address.
func (a Addr) String() string { return string(a) }
