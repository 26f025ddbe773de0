package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/inlayhq/inlay/fragments/contract"
	gocache "github.com/patrickmn/go-cache"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
)

// Inlay's defaults (composer/config, fragments/guard, composer/metrics).
const (
	pageTimeout     = 2 * time.Second  // config.DefaultPageTimeout
	fragmentTimeout = time.Second      // config.DefaultServiceTimeout
	writeIdle       = 10 * time.Second // composer.DefaultWriteIdleTimeout
	service         = "bench"
	route           = "/"
)

var (
	latencyBuckets  = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	htmlContentType = []string{"text/html; charset=utf-8"}[:1:1]
	privateNoCache  = []string{"private, no-cache"}[:1:1]
	noBuffering     = []string{"no"}[:1:1]
)

// withDefaults is the composer doing Inlay's default per-page work too.
type withDefaults struct {
	*composer
	keys      []string // the fragments' cache keys: service and URL
	heads     []string // the fragments' requests, up to the request id
	cache     *gocache.Cache
	svc       *gobreaker.TwoStepCircuitBreaker[any]   // the service's breaker, asked while not closed
	endpoints []*gobreaker.TwoStepCircuitBreaker[any] // each path's own, asked on every fetch
	pageOK    prometheus.Observer                     // the histograms' children, found once
	fragOK    prometheus.Observer
	fragBad   prometheus.Observer
	log       *slog.Logger
}

func newWithDefaults(c *composer, upstream string) *withDefaults {
	d := &withDefaults{composer: c, cache: gocache.New(gocache.NoExpiration, 0), svc: newBreaker(service)}
	for _, f := range fragments {
		d.keys = append(d.keys, contract.PrimaryKey(service, "http://"+upstream+f.path))
		d.endpoints = append(d.endpoints, newBreaker(f.path))
		d.heads = append(d.heads, "GET "+f.path+" HTTP/1.1\r\nHost: "+upstream+"\r\nX-Request-Id: ")
	}
	pageDur := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "page_duration_seconds", Help: "Page time.", Buckets: latencyBuckets}, []string{"route", "status"})
	fragDur := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "fragment_duration_seconds", Help: "Fetch time.", Buckets: latencyBuckets}, []string{"service", "outcome"})
	prometheus.NewRegistry().MustRegister(pageDur, fragDur)
	d.pageOK, d.fragOK, d.fragBad = pageDur.WithLabelValues(route, "200"), fragDur.WithLabelValues(service, "ok"), fragDur.WithLabelValues(service, "error")
	d.log = slog.New(slog.NewJSONHandler(newLogWriter(), nil))
	return d
}

// serverWithDefaults serves h on addr with the timeouts of inlay serve's
// shopper-facing server (cmd/inlay's newHTTPServer).
func serverWithDefaults(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
}

// newBreaker has Inlay's default settings: it opens at 50 % failures over
// 20 fetches or more within a 10 s window rolled by the second.
func newBreaker(name string) *gobreaker.TwoStepCircuitBreaker[any] {
	return gobreaker.NewTwoStepCircuitBreaker[any](gobreaker.Settings{
		Name: name, MaxRequests: 1, Interval: 10 * time.Second, BucketPeriod: time.Second, Timeout: 10 * time.Second,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.Requests >= 20 && 2*c.TotalFailures >= c.Requests },
	})
}

// logWriter buffers the access log and writes it out every 200 ms, as
// inlay serve does: one write per batch of lines, not one per page.
type logWriter struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func newLogWriter() *logWriter {
	lw := &logWriter{w: bufio.NewWriterSize(os.Stdout, 64<<10)}
	go func() {
		for range time.Tick(200 * time.Millisecond) {
			lw.mu.Lock()
			lw.w.Flush()
			lw.mu.Unlock()
		}
	}()
	return lw
}

func (lw *logWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.w.Write(p)
}

func (d *withDefaults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	started := time.Now()
	var idb [12]byte // composer's requestID: 12 random bytes in hex
	rand.Read(idb[:])
	id := hex.EncodeToString(idb[:])
	ctx, cancel := context.WithTimeout(r.Context(), pageTimeout)
	defer cancel()
	pageDeadline, _ := ctx.Deadline()
	http.NewResponseController(w).SetWriteDeadline(started.Add(writeIdle)) // as Inlay's page does when it starts
	h := w.Header()
	h["X-Request-Id"], h["Content-Type"], h["Cache-Control"], h["X-Accel-Buffering"] = []string{id}, htmlContentType, privateNoCache, noBuffering

	var conns [4]*conn
	var dones [4]func(error)
	var sent [4]time.Time
	req := make([]byte, 0, 128)
	for i := range fragments {
		d.cache.Get(d.keys[i]) // a miss, always: the answers are no-store, and nothing is stored
		var err error
		if d.svc.State() != gobreaker.StateClosed {
			err = gobreaker.ErrOpenState
		} else if dones[i], err = d.endpoints[i].Allow(); err == nil {
			conns[i], err = d.get()
		}
		if err == nil {
			sent[i] = time.Now()
			conns[i].SetDeadline(sent[i].Add(min(fragmentTimeout, pageDeadline.Sub(sent[i]))))
			req = append(append(append(req[:0], d.heads[i]...), id...), "\r\n\r\n"...)
			_, err = conns[i].Write(req)
		}
		if err != nil {
			for _, done := range dones[:i+1] {
				if done != nil {
					done(err)
				}
			}
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
	}
	page := pages.Get().(*bytes.Buffer)
	defer pages.Put(page)
	page.Reset()
	var ttfb time.Duration
	var timing []byte // Server-Timing, of the boxes read before the headers leave
	for i, cn := range conns {
		page.WriteString(around[i])
		if i == 0 && cn.br.Buffered() == 0 {
			ttfb = time.Since(started)
			w.Write(page.Bytes()) // the head goes before the first wait, with no box timed yet
			w.(http.Flusher).Flush()
			page.Reset()
		}
		at := page.Len()
		resp, err := http.ReadResponse(cn.br, nil)
		if err == nil {
			_, err = page.ReadFrom(resp.Body)
			resp.Body.Close()
		}
		dur := time.Since(sent[i])
		if err == nil {
			d.idle <- cn
			if resp.StatusCode >= 500 {
				err = errFailed // only a 5xx counts against the breaker: a 4xx or a bad body is an answer
			}
		} else {
			cn.Close()
		}
		dones[i](err)
		obs := d.fragOK
		if err != nil || resp.StatusCode != http.StatusOK || !contract.IsHTML(resp.Header.Get("Content-Type")) ||
			contract.CheckMarkup(page.Bytes()[at:]) != nil {
			page.Truncate(at) // the box's fallback: nothing
			obs = d.fragBad
		}
		obs.Observe(dur.Seconds())
		if ttfb == 0 {
			timing = strconv.AppendFloat(append(append(timing, fragments[i].path[1:]...), ";dur="...), ms(dur), 'f', -1, 64)
			timing = append(append(append(timing, `;desc="miss `...), d.endpoints[i].State().String()...), `", `...)
		}
	}
	page.WriteString(around[4])
	if ttfb == 0 {
		h["Server-Timing"] = []string{string(timing[:len(timing)-2])}
		ttfb = time.Since(started)
	}
	w.Write(page.Bytes())
	total := time.Since(started)
	d.pageOK.Observe(total.Seconds())
	d.log.LogAttrs(ctx, slog.LevelInfo, "page",
		slog.String("request_id", id), slog.String("route", route), slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", http.StatusOK), slog.Int64("duration_us", total.Microseconds()), slog.Int64("ttfb_us", ttfb.Microseconds()))
}

// errFailed is a fragment's 5xx, for its breaker.
var errFailed = errors.New("fragment failed")

// ms is a duration in milliseconds, as Server-Timing's dur gives it.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// profileUntilSignal profiles the CPU until SIGINT or SIGTERM, then
// writes the profile to path and exits.
func profileUntilSignal(path string) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatal(err)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-stop
		pprof.StopCPUProfile()
		f.Close()
		os.Exit(0)
	}()
}
