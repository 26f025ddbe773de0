// Command floor is the least a Go program on net/http does to compose the
// load benchmark's one-service page: it sends the four fragment requests
// on kept-alive connections, one after the other, reads the answers in
// order with http.ReadResponse, and streams the page as Inlay does: the
// head before the first wait, the rest at the end. No cache, breakers,
// limits, deadlines, markup checks, logs or metrics.
//
// It measures what Go's runtime and net/http's server cost on their own,
// beside nginx SSI and Inlay (docs/benchmarks.md, "The no-store page,
// fifth round"). Run the stub and the composer as two processes, so that
// the composer's CPU is its own:
//
//	go run ./cmd/loadbench/testdata/floor -stub 127.0.0.1:9301 &
//	go run ./cmd/loadbench/testdata/floor -listen 127.0.0.1:9500 -upstream 127.0.0.1:9301 &
//	wrk -t2 -c64 -d10s http://127.0.0.1:9500/
//
// and read the composer's CPU from /proc/PID/stat before and after.
//
// With -defaults, the composer also does per page what Inlay does by
// default and the floor skips, each as cheaply as a careful programmer
// would, with the libraries Inlay uses (defaults.go):
//
//   - a request id (12 random bytes in hex), sent to every fragment as
//     X-Request-Id and set on the page;
//   - the page's deadline (context.WithTimeout, 2 s) and each fetch's
//     (SetDeadline on the connection, 1 s or the page's if sooner);
//   - a lookup per fragment in a go-cache by service and URL: a miss, as
//     the answers are no-store;
//   - gobreaker v2 two-step breakers: the service's state read, and its
//     endpoint's Allow and done around every fetch;
//   - the answer's status (200) and Content-Type (text/html) checked, and
//     its body by contract.CheckMarkup;
//   - Prometheus histograms of the page's duration (route, status) and of
//     each fetch's (service, outcome), on a registry of their own;
//   - a JSON access-log line per page (slog's JSONHandler, to stdout
//     buffered and written every 200 ms as inlay serve does);
//   - the headers Inlay sets on a page: X-Request-Id, Cache-Control:
//     private, no-cache, X-Accel-Buffering: no, and Server-Timing for the
//     boxes read before the headers leave. Inlay sets no X-Content-Type-Options, Referrer-Policy
//     or Vary on a page, and a Content-Security-Policy only on one that
//     streams async boxes;
//   - the shopper's connection under inlay serve's timeouts (a request
//     head in 5 s, a request in 30 s, an answer in 60 s, 120 s idle:
//     net/http then sets the connection's deadlines around every
//     request), and the page's writes under Inlay's write deadline (10 s
//     from the page's start).
//
// With -cached, the composer fetches the four fragments once, as it
// starts, and serves the page stitched from them, from memory, ever after:
// the least a Go program on net/http does for a page whose fragments are
// all cached. It is the cached page's floor, as the bare composer is the
// no-store page's.
//
// -cpuprofile writes the composer's CPU profile when it is stopped by
// SIGINT or SIGTERM. -pprof serves net/http/pprof on a second address,
// for a runtime trace (/debug/pprof/trace) under load.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof" // served only with -pprof, on its own address
	"strings"
	"sync"
	"time"
)

// fragments are the page's boxes: path, body size and service time, as in
// the load benchmark's stub.
var fragments = []struct {
	path    string
	size    int
	latency time.Duration
}{
	{"/header", 2 << 10, 5 * time.Millisecond},
	{"/search", 4 << 10, 20 * time.Millisecond},
	{"/basket", 1 << 10, 10 * time.Millisecond},
	{"/footer", 1 << 10, 5 * time.Millisecond},
}

// around are the page's static parts, before, between and after the boxes.
var around = []string{
	"<!DOCTYPE html><html><head><title>bench</title></head><body>\n<header>",
	"</header>\n<main>", "\n", "</main>\n<footer>", "</footer>\n</body></html>\n",
}

func main() {
	stub := flag.String("stub", "", "serve the four fragments on this address")
	listen := flag.String("listen", "127.0.0.1:9500", "serve the page on this address")
	upstream := flag.String("upstream", "127.0.0.1:9301", "the fragments' address")
	defaults := flag.Bool("defaults", false, "also do Inlay's default per-page work: request id, page and fetch deadlines, a cache lookup, "+
		"breakers, status, Content-Type and markup checks, metrics, an access-log line to stdout, Inlay's page headers")
	cached := flag.Bool("cached", false, "fetch the fragments once, at start, and serve the page stitched from them ever after")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this `file` on SIGINT or SIGTERM")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this `address`")
	flag.Parse()
	if *pprofAddr != "" {
		go func() { log.Fatal(http.ListenAndServe(*pprofAddr, nil)) }()
	}
	if *cpuprofile != "" {
		profileUntilSignal(*cpuprofile)
	}
	if *stub != "" {
		log.Fatal(http.ListenAndServe(*stub, stubHandler()))
	}
	c := &composer{upstream: *upstream, idle: make(chan *conn, 4096)}
	for _, f := range fragments {
		c.requests = append(c.requests, []byte("GET "+f.path+" HTTP/1.1\r\nHost: "+*upstream+"\r\n\r\n"))
	}
	if *cached {
		page, err := stitch(*upstream)
		if err != nil {
			log.Fatal(err)
		}
		log.Fatal(http.ListenAndServe(*listen, page))
	}
	if *defaults {
		log.Fatal(serverWithDefaults(*listen, newWithDefaults(c, *upstream)).ListenAndServe())
	}
	log.Fatal(http.ListenAndServe(*listen, c))
}

func stubHandler() http.Handler {
	mux := http.NewServeMux()
	for _, f := range fragments {
		body := `<div class="fragment">` + strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", f.size/57) + "</div>"
		mux.HandleFunc(f.path, func(w http.ResponseWriter, _ *http.Request) {
			time.Sleep(f.latency)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			io.WriteString(w, body)
		})
	}
	return mux
}

// stitchedPage is the page stitched once: every request gets its bytes.
type stitchedPage []byte

func (p stitchedPage) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(p)
}

// stitch fetches the four fragments from upstream and returns the page
// stitched from them.
func stitch(upstream string) (stitchedPage, error) {
	var page bytes.Buffer
	for i, f := range fragments {
		page.WriteString(around[i])
		resp, err := http.Get("http://" + upstream + f.path)
		if err != nil {
			return nil, fmt.Errorf("fetching %s: %w", f.path, err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("fetching %s: %s", f.path, resp.Status)
		}
		_, err = page.ReadFrom(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", f.path, err)
		}
	}
	page.WriteString(around[len(fragments)])
	return page.Bytes(), nil
}

// conn is a kept-alive connection to the stub.
type conn struct {
	net.Conn
	br *bufio.Reader
}

// composer serves the page.
type composer struct {
	upstream string
	requests [][]byte
	idle     chan *conn
}

var pages = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (c *composer) get() (*conn, error) {
	select {
	case cn := <-c.idle:
		return cn, nil
	default:
	}
	nc, err := net.Dial("tcp", c.upstream)
	if err != nil {
		return nil, err
	}
	return &conn{Conn: nc, br: bufio.NewReader(nc)}, nil
}

func (c *composer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	var conns [4]*conn
	for i := range conns {
		cn, err := c.get()
		if err == nil {
			_, err = cn.Write(c.requests[i])
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conns[i] = cn
	}
	page := pages.Get().(*bytes.Buffer)
	defer pages.Put(page)
	page.Reset()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	for i, cn := range conns {
		page.WriteString(around[i])
		if i == 0 && cn.br.Buffered() == 0 {
			w.Write(page.Bytes()) // the head goes before the first wait
			w.(http.Flusher).Flush()
			page.Reset()
		}
		resp, err := http.ReadResponse(cn.br, nil)
		if err == nil {
			_, err = page.ReadFrom(resp.Body)
			resp.Body.Close()
		}
		if err != nil {
			cn.Close()
			continue
		}
		c.idle <- cn
	}
	page.WriteString(around[4])
	w.Write(page.Bytes())
}
