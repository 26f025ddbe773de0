package transport

import (
	"cmp"
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/resolve"
)

// Transport carries the fragment fetches of one service over
// connections of its own.
//
// [New] picks the implementation: the lean HTTP/1.1 client ([H1Conns])
// for a plain-http service where the platform lets it read raw
// connections (Unix), and net/http's transport everywhere else (https,
// h2c, Windows, or a RoundTripper given for tests).
type Transport interface {
	// Fetch sends req and reads its whole answer on the caller's
	// goroutine.
	Fetch(ctx context.Context, req *fetch.Request) (*fetch.Response, error)
	// Start sends req now, on the caller's goroutine, and leaves its
	// answer to x's Wait, also on the caller's goroutine. It reports
	// false, and sends nothing, when this transport cannot read an answer
	// later on the caller's goroutine: net/http reads its answers on
	// goroutines of its own.
	Start(ctx context.Context, req *fetch.Request, x *Exchange) bool
	// CanStart reports whether Start would send req: a caller asks before
	// it takes a slot for the fetch.
	CanStart(req *fetch.Request) bool
	// Retire closes the transport's idle connections now, and the others
	// once their fetches have ended: the service moved or is gone.
	Retire()
	// Idle returns how many kept-alive connections wait for a fetch, when
	// the transport knows: net/http's does not say, and gives 0.
	Idle() int
}

// Config is what a [Transport] is made from.
type Config struct {
	// URL is the base URL of the service (or of one of its endpoints):
	// its host:port is the one internal address the dial policy lets the
	// transport reach.
	URL *url.URL
	// H2C speaks HTTP/2 without TLS to the service.
	H2C bool
	// MaxConns caps the connections to the service, idle or busy: the
	// service's concurrency limit. Zero means [DefaultMaxConns].
	MaxConns int
	// MaxBodyBytes caps a fragment body. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Budget bounds the bodies in flight across every transport that
	// shares it. Nil means no bound.
	Budget *fetch.Budget
	// Addr, when set, is the one address (ip:port) the transport
	// connects to, whatever the host of a request's URL, which stays its
	// Host header: one instance of a service whose name has several.
	// The dial policy lets it, and only it, through.
	Addr string
	// MaxConnAge retires a kept-alive connection once it is this old:
	// the lean client closes it when its fetch ends instead of keeping
	// it, and net/http's idle connections are closed every half of it,
	// so that a service behind one virtual IP rebalances. Zero means
	// never.
	MaxConnAge time.Duration
	// RoundTripper, when not nil, carries every request instead of
	// connections of the transport's own. Tests use it to reach in-memory
	// services.
	RoundTripper http.RoundTripper
	// Dial, when not nil, makes the transport's connections instead of a
	// net.Dialer, for the lean client and net/http's transport alike: the
	// transport is the one it would be without it. The dial policy still
	// applies (see [checkedDial]). Tests use it to reach in-memory
	// services over the default transport.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// DefaultMaxConns is the connection cap of a transport whose Config gives
// none: the concurrency limit's default ceiling.
const DefaultMaxConns = 2048

// New returns the transport of cfg's service.
func New(cfg Config) Transport {
	client := Client{MaxBodyBytes: cfg.MaxBodyBytes, Budget: cfg.Budget}
	if rawReads && cfg.RoundTripper == nil && !cfg.H2C && cfg.URL != nil && cfg.URL.Scheme == "http" {
		other := cfg
		other.MaxConnAge = 0 // the lean client ages its own connections; this pool is seldom used
		l := &lean{client: client, pool: NewPool(other)}
		l.client.Transport = l.pool // a URL that is not http://, which the lean client does not speak
		policy := cfg.policy()
		conns := NewH1Conns(policy, cmp.Or(cfg.MaxConns, DefaultMaxConns))
		conns.maxAge = cfg.MaxConnAge
		if cfg.Dial != nil {
			conns.dial = checkedDial(cfg.Dial, policy)
		}
		if cfg.Addr != "" {
			conns.dial = toAddr(conns.dial, cfg.Addr)
		}
		l.client.Conns = conns
		return l
	}
	s := &std{client: client, pool: NewPool(cfg)}
	s.client.Transport = s.pool
	return s
}

// Policy is the dial policy of a service at u: internal addresses are
// refused, except the service's own.
func Policy(u *url.URL) *DialPolicy {
	var allow []string
	if u != nil {
		allow = append(allow, resolve.HostPort(u))
	}
	return NewDialPolicy(allow)
}

// policy is the dial policy of cfg's transport: the instance's address
// when it has one, else the service's own.
func (cfg *Config) policy() *DialPolicy {
	if cfg.Addr != "" {
		return NewDialPolicy([]string{cfg.Addr})
	}
	return Policy(cfg.URL)
}

// toAddr makes dial connect to addr whatever address it is asked for.
func toAddr(dial func(ctx context.Context, network, addr string) (net.Conn, error), addr string) func(ctx context.Context, network, _ string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dial(ctx, network, addr)
	}
}

// checkedDial returns dial under policy. An address given as ip:port is
// checked before it is dialled; a connection that reached an IP address
// is checked on that address, after dial resolved the name, as a
// net.Dialer's Control is, and closed when the policy refuses it. A
// connection with no IP address (an in-memory pipe, a Unix socket)
// reached no address the policy guards.
func checkedDial(dial func(ctx context.Context, network, addr string) (net.Conn, error), policy *DialPolicy) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if _, err := netip.ParseAddrPort(addr); err == nil {
			if err := policy.Check(addr); err != nil {
				return nil, &net.OpError{Op: "dial", Net: network, Err: err}
			}
		}
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if a, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
			if err := policy.Check(a.String()); err != nil {
				conn.Close()
				return nil, &net.OpError{Op: "dial", Net: network, Addr: a, Err: err}
			}
		}
		return conn, nil
	}
}

// std is net/http's transport: portable, and the one https and h2c
// services use.
type std struct {
	client Client
	pool   *Pool
}

func (s *std) Fetch(ctx context.Context, req *fetch.Request) (*fetch.Response, error) {
	return s.client.Fetch(ctx, req)
}

func (s *std) Start(context.Context, *fetch.Request, *Exchange) bool { return false }

func (s *std) CanStart(*fetch.Request) bool { return false }

func (s *std) Retire() { s.pool.Retire() }

func (s *std) Idle() int { return 0 }

// lean is the lean HTTP/1.1 client of a plain-http service.
type lean struct {
	client Client
	pool   *Pool
}

func (l *lean) Fetch(ctx context.Context, req *fetch.Request) (*fetch.Response, error) {
	return l.client.Fetch(ctx, req)
}

func (l *lean) Start(ctx context.Context, req *fetch.Request, x *Exchange) bool {
	return x.start(ctx, &l.client, req)
}

func (l *lean) CanStart(req *fetch.Request) bool {
	_, ok := startTarget(req)
	return ok
}

func (l *lean) Idle() int { return l.client.Conns.Idle() }

func (l *lean) Retire() {
	l.pool.Retire()
	l.client.Conns.CloseIdleConnections()
}

// Pool is a net/http connection pool that can be retired: once it is,
// its idle connections are closed as soon as no request through it is
// running, so that a replaced pool leaves no connection behind. The
// gateway's requests to a service go through one.
type Pool struct {
	rt       http.RoundTripper
	inFlight atomic.Int64 // requests whose response body is not closed yet
	retired  atomic.Bool
	stop     chan struct{} // closed by Retire; nil without an age limit
}

// NewPool returns the pool of cfg's service: HTTP/1.1 or h2c, under a
// dial policy that refuses internal addresses other than the service's
// own, holding as many connections as the service's concurrency limit
// lets requests run, so that a burst reuses them instead of dialling
// anew, and never more, so that a hanging service holds no more than
// that.
func NewPool(cfg Config) *Pool {
	if cfg.RoundTripper != nil {
		return &Pool{rt: cfg.RoundTripper}
	}
	policy := cfg.policy()
	var t *http.Transport
	if cfg.H2C {
		t = policy.NewH2CTransport()
	} else {
		t = policy.NewTransport()
	}
	if cfg.Dial != nil {
		t.DialContext = checkedDial(cfg.Dial, policy)
	}
	if cfg.Addr != "" {
		t.DialContext = toAddr(t.DialContext, cfg.Addr)
	}
	ceiling := cmp.Or(cfg.MaxConns, DefaultMaxConns)
	t.MaxIdleConnsPerHost = ceiling
	t.MaxConnsPerHost = ceiling
	p := &Pool{rt: t}
	if cfg.MaxConnAge > 0 {
		p.stop = make(chan struct{})
		go p.retireOld(t, cfg.MaxConnAge)
	}
	return p
}

// retireOld closes the pool's idle connections every half of maxAge until
// the pool is retired: net/http keeps no connection's age, so a
// kept-alive connection lives at most about maxAge and a half before the
// next request dials anew, and a service behind one virtual IP
// rebalances.
func (p *Pool) retireOld(t *http.Transport, maxAge time.Duration) {
	tick := time.NewTicker(maxAge / 2)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			t.CloseIdleConnections()
		case <-p.stop:
			return
		}
	}
}

// RoundTrip sends r and counts it until its response body is closed.
func (p *Pool) RoundTrip(r *http.Request) (*http.Response, error) {
	p.inFlight.Add(1)
	resp, err := p.rt.RoundTrip(r)
	if err != nil {
		p.done()
		return nil, err
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		// An upgraded connection leaves the pool for good, and its body
		// must stay the connection itself for the proxy to use it.
		p.done()
		return resp, nil
	}
	resp.Body = &countedBody{ReadCloser: resp.Body, pool: p}
	return resp, nil
}

func (p *Pool) done() {
	if p.inFlight.Add(-1) == 0 && p.retired.Load() {
		p.closeIdle()
	}
}

// Retire marks the pool as replaced and closes what is idle now.
func (p *Pool) Retire() {
	if p.retired.Swap(true) {
		return
	}
	if p.stop != nil {
		close(p.stop)
	}
	p.closeIdle()
}

func (p *Pool) closeIdle() {
	if c, ok := p.rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// countedBody tells its pool when the response it belongs to is done.
type countedBody struct {
	io.ReadCloser
	pool *Pool
	once sync.Once
}

func (b *countedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.pool.done)
	return err
}
