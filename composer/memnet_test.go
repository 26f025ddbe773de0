package composer

// The in-memory network of the deterministic fault suite: each service's
// handler behind a real http.Server that accepts net.Pipe connections,
// dialled through fragments.EngineOptions.Dial. Everything in it blocks
// on channels, so that it runs inside a synctest bubble, where the clock
// moves only when every goroutine waits.

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/inlayhq/inlay/fragments"
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
		return fragments.EngineOptions{Dial: newMemNet(t, services).Dial}
	}
	return fragments.EngineOptions{Transport: memTransport(services)}
}

// memNet is an in-memory network of services, one listener each, at the
// host:port of its URL in a memShop: name.test:80.
type memNet struct {
	listeners map[string]*pipeListener
}

// newMemNet serves each handler with a real http.Server on a listener of
// its own. The servers are closed when the test ends, which ends every
// handler still waiting on its request's context.
func newMemNet(t *testing.T, services map[string]http.HandlerFunc) *memNet {
	t.Helper()
	n := &memNet{listeners: map[string]*pipeListener{}}
	for name, h := range services {
		addr := name + ".test:80"
		l := &pipeListener{addr: memAddr(addr), conns: make(chan net.Conn), done: make(chan struct{})}
		n.listeners[addr] = l
		// The servers' own logs are dropped: a connection the engine cut
		// is part of a test, not news.
		srv := &http.Server{Handler: h, ErrorLog: log.New(io.Discard, "", 0)}
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
// goes to its server, the other is returned. A name with no service is
// refused, as a real network refuses a port nothing listens on.
func (n *memNet) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	l := n.listeners[addr]
	if l == nil {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: memAddr(addr), Err: fmt.Errorf("no such service")}
	}
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		client.Close()
		server.Close()
		return nil, &net.OpError{Op: "dial", Net: network, Addr: l.addr, Err: net.ErrClosed}
	case <-ctx.Done():
		client.Close()
		server.Close()
		return nil, &net.OpError{Op: "dial", Net: network, Addr: l.addr, Err: ctx.Err()}
	}
}

// pipeListener is a net.Listener whose connections come from memNet.Dial.
type pipeListener struct {
	addr  memAddr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return l.addr }

// memAddr is a service's address on the in-memory network.
type memAddr string

func (memAddr) Network() string  { return "mem" }
func (a memAddr) String() string { return string(a) }
