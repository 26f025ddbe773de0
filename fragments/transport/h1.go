package transport

import (
	"bufio"
	"cmp"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/inlayhq/inlay/fragments/contract"
	"github.com/inlayhq/inlay/fragments/fetch"
)

// H1Conns is a lean HTTP/1.1 client for the fragments of one plain-http
// service: the round trip runs on the fetching goroutine, over a pool of
// kept-alive connections, with one deadline per fetch set on the
// connection itself. net/http's Transport gives every connection a read
// and a write goroutine and every request a context with a timer, which
// on the miss path cost more CPU than the fetch; this client has neither.
// Requests are written by hand (a GET has no body, so little can go
// wrong), and answers are read by readHead, with http.ReadResponse's
// checks and a few allocations per answer, chunked and gzip bodies
// included.
//
// It speaks HTTP/1.1 over TCP only: https and h2c services keep
// net/http's transports, and so do gateway routes. The engine uses it on
// Unix, where it reads raw connections (h1_unix.go); elsewhere every
// service goes through net/http.
type H1Conns struct {
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	maxIdle int           // per host
	maxAge  time.Duration // a connection this old is not kept; zero: no limit

	mu      sync.Mutex           // protects idle and retired
	idle    map[string][]*h1Conn // by host:port, most recently used last
	retired bool
}

// h1Conn is one kept-alive connection. Its buffers are taken from pools
// for one fetch and given back when it ends: an idle connection holds
// none, so a pool of hundreds of connections, most of them idle between
// two pages, holds buffers only for the fetches in flight.
type h1Conn struct {
	addr   string // host:port
	conn   net.Conn
	limit  headerLimit
	br     *bufio.Reader // during a fetch
	idleAt time.Time
	born   time.Time // when it was dialled
	reused bool
	gz     *gzip.Reader // kept for the next gzip body on this connection

	// raw is conn's, when it has one: reads through it can tell when
	// they are about to wait for the service.
	raw syscall.RawConn
	// blocked reports that a read of the fetch waited for the service,
	// so that the time the fetch took is the service's.
	blocked bool
	// late makes reads take what is here and fail rather than wait: the
	// fetch's deadline passed before its answer was read.
	late bool

	// ctx is the fetch's context; stop, once a read had to wait, stops
	// the context's cut of the connection.
	ctx  context.Context
	stop func() bool

	rawRead  func(fd uintptr) bool // readFD, bound once
	lateRead func(fd uintptr)      // readFD for a read that must not wait, bound once
	cut      func()                // cuts the connection's deadline short, bound once
	rb       []byte                // the buffer of the raw read in progress
	rn       int                   // what it read
	rerr     error                 // and its error
}

// newH1Conn wraps a dialled connection.
func newH1Conn(addr string, nc net.Conn) *h1Conn {
	c := &h1Conn{addr: addr, conn: nc, born: time.Now()}
	c.cut = func() { nc.SetDeadline(aLongTimeAgo) }
	c.limit = headerLimit{r: c, n: -1}
	if sc, ok := nc.(syscall.Conn); ok && rawReads {
		if raw, err := sc.SyscallConn(); err == nil {
			c.raw = raw
			c.rawRead = c.readFD
			c.lateRead = func(fd uintptr) { c.readFD(fd) }
		}
	}
	return c
}

// Read reads from the connection. Through the raw connection, a read
// that finds nothing notes that it waited, and then waits for the service as
// net.Conn.Read would, deadlines included; a late read does not wait.
func (c *h1Conn) Read(b []byte) (int, error) {
	if c.raw == nil {
		return c.conn.Read(b)
	}
	c.rb = b
	var err error
	if c.late {
		err = c.raw.Control(c.lateRead)
	} else {
		err = c.raw.Read(c.rawRead)
	}
	n, rerr := c.rn, c.rerr
	c.rb, c.rn, c.rerr = nil, 0, nil
	if err != nil {
		return 0, &net.OpError{Op: "read", Net: "tcp", Addr: c.conn.RemoteAddr(), Err: err}
	}
	return n, rerr
}

// watch makes the fetch's context ending cut the connection's deadline
// short, from now until the fetch ends. It is called once a read has to
// wait: an answer already here needs no watch, and a page reads most of
// its answers after they came.
func (c *h1Conn) watch() {
	if c.stop == nil && c.ctx != nil {
		if oc, ok := c.ctx.(onCanceler); ok {
			c.stop = oc.OnCancel(c.cut)
		} else {
			c.stop = context.AfterFunc(c.ctx, c.cut)
		}
	}
}

// onCanceler is a fetch's context that says itself when it is canceled,
// at less cost than context.AfterFunc: a page's, whose fetches share one
// watch of the shopper's request. OnCancel runs f once the context is
// canceled, but not when its deadline passes: the connection's deadline,
// which the fetch sets no later than the context's (fetchDeadline),
// covers that. stop is as AfterFunc's.
type onCanceler interface {
	OnCancel(f func()) (stop func() bool)
}

// h1ReadBufferSize is a connection's read buffer during a fetch: a
// fragment's headers and most small bodies fit.
const h1ReadBufferSize = 4 << 10

var (
	h1Readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, h1ReadBufferSize) }}
	h1Writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 1<<10) }}
)

// takeReader gives the connection a read buffer for one fetch.
func (c *h1Conn) takeReader() {
	c.br = h1Readers.Get().(*bufio.Reader)
	c.br.Reset(&c.limit)
}

// releaseReader gives the read buffer back, and reports whether it held
// nothing more than the answer: a connection with bytes left over is out
// of step with the service and is not reused.
func (c *h1Conn) releaseReader() (clean bool) {
	if c.br == nil {
		return true
	}
	clean = c.br.Buffered() == 0
	c.br.Reset(nil)
	h1Readers.Put(c.br)
	c.br = nil
	return clean
}

// Limits of the lean client.
const (
	// h1IdleTimeout is how long an idle connection is kept.
	h1IdleTimeout = 90 * time.Second
	// h1MaxHeaderBytes caps a response's headers, as
	// http.Transport.MaxResponseHeaderBytes does in NewTransport.
	h1MaxHeaderBytes = 64 << 10
)

// NewH1Conns returns a lean client that dials with policy's checks and
// keeps up to maxIdle idle connections per host (zero means
// DefaultMaxConns). A nil policy dials any address.
func NewH1Conns(policy *DialPolicy, maxIdle int) *H1Conns {
	return &H1Conns{dial: newDialer(policy).DialContext, maxIdle: cmp.Or(maxIdle, DefaultMaxConns), idle: map[string][]*h1Conn{}}
}

// errRetry marks a failure on a reused connection before any byte of the
// answer came: the service closed the idle connection, and the GET may be
// sent again on a new one, as net/http does.
var errRetry = errors.New("kept-alive connection closed by the service")

// fetch performs one GET of req before deadline and reads the whole answer
// with the client's checks (see Client.Fetch). ctx ending aborts it.
func (p *H1Conns) fetch(ctx context.Context, c *Client, req *fetch.Request, deadline time.Time) (*fetch.Response, error) {
	u, ok := parseTarget(req.URL)
	if !ok {
		return nil, &fetch.Error{Kind: fetch.KindConnect, ID: req.ID, Service: req.Service, Err: fmt.Errorf("fragment URL %q: not an http:// URL", req.URL)}
	}
	addr := u.addr
	for attempt := 0; ; attempt++ {
		// Once a kept-alive connection was found closed, the others kept
		// with it may be too: the second attempt dials a new one.
		var conn *h1Conn
		var err error
		if attempt == 0 {
			conn, err = p.get(ctx, addr, deadline)
		} else {
			conn, err = p.dialConn(ctx, addr, deadline)
		}
		if err != nil {
			return nil, c.fail(ctx, req, deadline, fetch.KindConnect, err)
		}
		resp, err := p.roundTrip(ctx, c, conn, u, req, deadline)
		switch {
		case !errors.Is(err, errRetry):
			return resp, err
		case attempt > 0 || ctx.Err() != nil:
			return nil, c.fail(ctx, req, deadline, fetch.KindConnect, err)
		}
	}
}

// roundTrip sends req on conn and reads the answer. The connection goes
// back to the pool only when the answer was read whole and the service
// keeps it alive.
func (p *H1Conns) roundTrip(ctx context.Context, c *Client, conn *h1Conn, u target, req *fetch.Request, deadline time.Time) (*fetch.Response, error) {
	x := &h1Exchange{p: p, c: c, conn: conn, u: u, req: req, ctx: ctx, deadline: deadline}
	defer x.close()
	if err := x.send(); err != nil {
		return nil, err
	}
	return x.receive()
}

// h1Exchange is one GET on one connection: sent, then received, then
// closed. roundTrip runs the three in a row; an [Exchange] runs them
// apart, so that a page sends all its requests before it reads an answer.
type h1Exchange struct {
	p        *H1Conns
	c        *Client
	conn     *h1Conn
	u        target
	req      *fetch.Request
	ctx      context.Context
	deadline time.Time
	keep     bool // the answer was read whole: the connection may serve another fetch
}

// send writes the request under the fetch's deadline. The shopper leaving
// (or the page's deadline) cuts the connection's deadline short, which
// ends a wait for the answer at once: see [h1Conn.watch].
func (x *h1Exchange) send() error {
	conn := x.conn
	conn.blocked = false
	conn.conn.SetDeadline(x.deadline)
	conn.ctx = x.ctx
	if conn.raw == nil {
		conn.watch()
	}
	bw := h1Writers.Get().(*bufio.Writer)
	bw.Reset(conn.conn)
	err := writeRequest(bw, x.u, x.req)
	bw.Reset(nil)
	h1Writers.Put(bw)
	if err != nil {
		if conn.reused {
			return errRetry
		}
		return x.c.fail(x.ctx, x.req, x.deadline, fetch.KindConnect, err)
	}
	return nil
}

// receive reads the answer whole, with the client's checks. An answer
// read after its deadline passed is taken as far as it is already here,
// and nothing more is waited for.
func (x *h1Exchange) receive() (resp *fetch.Response, err error) {
	conn, c, req, ctx, deadline := x.conn, x.c, x.req, x.ctx, x.deadline
	if ctx.Err() != nil {
		return nil, c.fail(ctx, req, deadline, fetch.KindConnect, ctx.Err())
	}
	conn.late = !deadline.IsZero() && !time.Now().Before(deadline)
	if conn.br == nil { // Ready may have taken it, and read the first of the answer
		conn.takeReader()
		conn.limit.n = h1MaxHeaderBytes + int64(conn.br.Size())
	}
	h, err := readHead(conn.br)
	for err == nil && h.status < 200 && h.status != http.StatusSwitchingProtocols {
		h, err = readHead(conn.br) // 103 Early Hints and the like: the answer follows
	}
	if err != nil {
		if conn.reused && conn.br.Buffered() == 0 && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err)) {
			return nil, errRetry
		}
		kind := fetch.KindConnect // the service dropped the connection, or never answered
		if errors.Is(err, ErrMalformedHead) {
			kind = fetch.KindBody // it answered, in a way that cannot be read
		}
		return nil, c.fail(ctx, req, deadline, kind, err)
	}
	conn.limit.n = -1
	if h.status == http.StatusSwitchingProtocols {
		return nil, &fetch.Error{Kind: fetch.KindStatus, ID: req.ID, Service: req.Service, Status: h.status, Err: errors.New("the service switched protocols")}
	}
	raw := h.body(conn.br)
	if contract.Failed(h.status) {
		x.keep = !h.close && drain(raw)
		return nil, &fetch.Error{Kind: fetch.KindStatus, ID: req.ID, Service: req.Service, Status: h.status}
	}
	if h.status == http.StatusOK && !contract.IsHTML(h.header.Get("Content-Type")) {
		x.keep = !h.close && drain(raw)
		return nil, &fetch.Error{Kind: fetch.KindContentType, ID: req.ID, Service: req.Service,
			Err: fmt.Errorf("content type %q, want text/html", h.header.Get("Content-Type"))}
	}
	body, length, gzipped := raw, h.length, false
	if _, coded := h.header["Content-Encoding"]; coded && h.length != 0 {
		layers, err := gzipLayers(h.header)
		if err != nil {
			return nil, c.fail(ctx, req, deadline, fetch.KindBody, err)
		}
		if layers > 0 {
			body, conn.gz, err = inflate(raw, layers, c.maxBody(), conn.gz)
			if err != nil {
				return nil, c.bodyFailure(ctx, req, deadline, err)
			}
			length, gzipped = -1, true
			h.header.Del("Content-Length") // the coded body's
		}
		h.header.Del("Content-Encoding")
	}
	b, reserved, err := c.Budget.Read(body, length, c.maxBody())
	if err != nil {
		return nil, c.bodyFailure(ctx, req, deadline, err)
	}
	// The body was read to its end: the connection is reusable unless the
	// service says otherwise or the body ended with it. A gzip stream can
	// end before the body that carries it does: what follows is drained.
	x.keep = !h.close && (!gzipped || drain(raw))
	return c.finish(req, h.status, h.header, b, reserved)
}

// close ends the exchange: the connection goes back to the pool when its
// answer was read whole, nothing follows it, its deadline was not cut and
// the service keeps it alive; otherwise it is closed.
func (x *h1Exchange) close() {
	if stop := x.conn.stop; stop != nil && !stop() {
		x.keep = false // the deadline was cut: the connection is spent
	}
	x.conn.ctx, x.conn.stop, x.conn.late = nil, nil, false
	if clean := x.conn.releaseReader(); x.keep && clean {
		x.p.put(x.conn)
	} else {
		x.conn.conn.Close()
	}
}

// target is where a GET goes: the address to connect to, the Host
// header and the request target.
type target struct {
	addr, host, uri string
}

// parseTarget splits an http:// URL into its target, or reports that it
// is not one. URLs of the characters that url.Parse and RequestURI give
// back as they are, as the layouts' fragment URLs are, are split in
// place without an allocation; the others go through url.Parse.
func parseTarget(raw string) (target, bool) {
	if t, ok := quickTarget(raw); ok {
		return t, true
	}
	return urlTarget(raw)
}

// urlTarget is parseTarget by url.Parse alone: any URL it takes, and what
// quickTarget must agree with.
func urlTarget(raw string) (target, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return target{}, false
	}
	t := target{addr: u.Host, host: u.Host, uri: u.RequestURI()}
	if u.Port() == "" {
		t.addr = net.JoinHostPort(u.Hostname(), "80")
	}
	return t, true
}

// quickTarget is parseTarget for URLs of the plainest form:
// http://name[:port][/path][?query], with a host name or IPv4 address,
// a path of unreserved and sub-delimiter characters and a query of
// printable ASCII, no percent-escape and no fragment. ok is false for
// anything else, which parseTarget leaves to url.Parse.
func quickTarget(raw string) (t target, ok bool) {
	rest, ok := strings.CutPrefix(raw, "http://")
	if !ok {
		return target{}, false
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	host, uri := rest[:end], rest[end:]
	colon := -1
	for i := 0; i < len(host); i++ {
		switch c := host[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.':
		case c == ':' && colon < 0:
			colon = i
		default:
			return target{}, false
		}
	}
	switch {
	case colon == 0 || host == "":
		return target{}, false
	case colon < 0:
		t.addr = host + ":80"
	default:
		port := host[colon+1:]
		if port == "" || strings.Trim(port, "0123456789") != "" {
			return target{}, false
		}
		t.addr = host
	}
	query := false
	for i := 0; i < len(uri); i++ {
		c := uri[i]
		switch {
		case c <= ' ' || c >= 0x7f || c == '#' || c == '%':
			return target{}, false
		case query:
		case c == '?':
			query = true
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("-._~!$&'()*+,;=:@/", c) >= 0:
		default:
			return target{}, false
		}
	}
	if uri == "" || uri[0] == '?' {
		uri = "/" + uri
	}
	return target{addr: t.addr, host: host, uri: uri}, true
}

// writeRequest writes a GET of u for req.
func writeRequest(w *bufio.Writer, u target, req *fetch.Request) error {
	w.WriteString("GET ")
	w.WriteString(u.uri)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(u.host)
	w.WriteString("\r\n")
	agent, encoding := false, false
	for _, fields := range req.FieldLists() {
		for _, f := range fields {
			switch f.Name {
			case "Host", "Connection", "Content-Length", "Transfer-Encoding":
				continue // the client's own
			case "User-Agent":
				agent = true
			case "Accept-Encoding":
				encoding = true
			}
			for _, v := range f.Values {
				if !validFieldValue(v) {
					continue
				}
				w.WriteString(f.Name)
				w.WriteString(": ")
				w.WriteString(v)
				w.WriteString("\r\n")
			}
		}
	}
	if !agent {
		w.WriteString("User-Agent: Go-http-client/1.1\r\n")
	}
	if !encoding {
		// The one coding Inlay decodes (gzipLayers).
		w.WriteString("Accept-Encoding: gzip\r\n")
	}
	w.WriteString("\r\n")
	return w.Flush()
}

// validFieldValue reports whether v may be sent as a header value: no
// line breaks or other control characters but tab.
func validFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// drain reads what is left of a response body that is no longer wanted,
// up to a little, so that its connection can be reused, and reports
// whether it could be.
func drain(body io.Reader) bool {
	_, err := io.CopyN(io.Discard, body, 4<<10)
	return err == io.EOF
}

// get returns an idle connection to addr, or dials a new one.
func (p *H1Conns) get(ctx context.Context, addr string, deadline time.Time) (*h1Conn, error) {
	if c := p.idleConn(addr, time.Now()); c != nil {
		return c, nil
	}
	return p.dialConn(ctx, addr, deadline)
}

// dialConn dials a new connection to addr before deadline.
func (p *H1Conns) dialConn(ctx context.Context, addr string, deadline time.Time) (*h1Conn, error) {
	dctx := ctx
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		dctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	nc, err := p.dial(dctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return newH1Conn(addr, nc), nil
}

// idleConn returns an idle connection to addr that is neither idle too
// long nor too old at now, or nil when there is none.
func (p *H1Conns) idleConn(addr string, now time.Time) *h1Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	for idle := p.idle[addr]; len(idle) > 0; idle = p.idle[addr] {
		c := idle[len(idle)-1]
		p.idle[addr] = idle[:len(idle)-1]
		if now.Sub(c.idleAt) < h1IdleTimeout && (p.maxAge <= 0 || now.Sub(c.born) < p.maxAge) {
			c.reused = true
			return c
		}
		c.conn.Close()
	}
	return nil
}

// put keeps a connection for the next fetch, or closes it when the pool is
// full or retired.
func (p *H1Conns) put(c *h1Conn) {
	// The deadline stays: nothing reads an idle connection, and the next
	// fetch sets its own.
	c.idleAt = time.Now()
	p.mu.Lock()
	if p.retired || len(p.idle[c.addr]) >= p.maxIdle || p.maxAge > 0 && c.idleAt.Sub(c.born) >= p.maxAge {
		p.mu.Unlock()
		c.conn.Close()
		return
	}
	p.idle[c.addr] = append(p.idle[c.addr], c)
	p.mu.Unlock()
}

// Idle returns how many idle connections the pool keeps.
func (p *H1Conns) Idle() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, conns := range p.idle {
		n += len(conns)
	}
	return n
}

// CloseIdleConnections closes the idle connections. Connections in use
// are closed when their fetch ends.
func (p *H1Conns) CloseIdleConnections() {
	p.mu.Lock()
	idle := p.idle
	p.idle = map[string][]*h1Conn{}
	p.retired = true
	p.mu.Unlock()
	for _, conns := range idle {
		for _, c := range conns {
			c.conn.Close()
		}
	}
}

// headerLimit fails reads past n bytes while n is not negative: the
// response headers' cap.
type headerLimit struct {
	r io.Reader
	n int64
}

func (l *headerLimit) Read(b []byte) (int, error) {
	if l.n < 0 {
		return l.r.Read(b)
	}
	if l.n == 0 {
		return 0, fmt.Errorf("response headers over %d bytes", h1MaxHeaderBytes)
	}
	if int64(len(b)) > l.n {
		b = b[:l.n]
	}
	n, err := l.r.Read(b)
	l.n -= int64(n)
	return n, err
}

// aLongTimeAgo is a deadline that has passed: setting it ends blocked
// reads and writes at once.
var aLongTimeAgo = time.Unix(1, 0)

// isReset reports a connection reset or broken pipe.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
