package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// fragmentSpec is one fragment of the benchmark page and the team service
// that serves it.
type fragmentSpec struct {
	Name    string
	Size    int           // body bytes
	Latency time.Duration // simulated service time
	Primary bool
}

// fragmentSpecs is the benchmark page: four fragments, each from its own
// team service, in document order.
var fragmentSpecs = []fragmentSpec{
	{Name: "header", Size: 2 << 10, Latency: 5 * time.Millisecond},
	{Name: "search", Size: 4 << 10, Latency: 20 * time.Millisecond},
	{Name: "basket", Size: 1 << 10, Latency: 10 * time.Millisecond, Primary: true},
	{Name: "footer", Size: 1 << 10, Latency: 5 * time.Millisecond},
}

// specNamed returns the fragment called name.
func specNamed(name string) fragmentSpec {
	for _, s := range fragmentSpecs {
		if s.Name == name {
			return s
		}
	}
	panic("loadbench: no fragment " + name)
}

// slowest returns the fragment with the longest service time.
func slowest() fragmentSpec {
	s := fragmentSpecs[0]
	for _, f := range fragmentSpecs[1:] {
		if f.Latency > s.Latency {
			s = f
		}
	}
	return s
}

// primary returns the primary fragment.
func primary() fragmentSpec {
	for _, f := range fragmentSpecs {
		if f.Primary {
			return f
		}
	}
	panic("loadbench: no primary fragment")
}

// Cache-Control values of the two scenarios.
const (
	cacheNoStore   = "no-store"
	cacheCacheable = "public, max-age=60"
)

// stub is the in-process fragment service: one loopback listener per
// fragment, as if each came from its own team, so that Inlay keeps one
// connection pool per service as it would in production.
type stub struct {
	// URLs maps a fragment name to the base URL of its service.
	URLs    map[string]string
	fetches atomic.Int64
	servers []*http.Server
}

// startStub starts the fragment services, answering with cacheControl,
// over HTTP/1.1 and, with h2c, over HTTP/2 without TLS too.
func startStub(cacheControl string, h2c bool, logger *slog.Logger) (*stub, error) {
	s := &stub{URLs: map[string]string{}}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(h2c)
	for _, spec := range fragmentSpecs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("stub %s: listening: %w", spec.Name, err)
		}
		srv := &http.Server{
			Handler:           s.handler(spec, cacheControl),
			ReadHeaderTimeout: 5 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
			Protocols:         protocols,
		}
		s.servers = append(s.servers, srv)
		s.URLs[spec.Name] = "http://" + ln.Addr().String()
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("stub stopped", slog.String("fragment", spec.Name), slog.String("error", err.Error()))
			}
		}()
	}
	return s, nil
}

// handler serves spec at /NAME after its service time.
func (s *stub) handler(spec fragmentSpec, cacheControl string) http.Handler {
	body := fragmentBody(spec.Name, spec.Size)
	size := strconv.Itoa(len(body))
	path := "/" + spec.Name
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		s.fetches.Add(1)
		time.Sleep(spec.Latency) // the simulated service time
		h := w.Header()
		h["Content-Type"] = []string{"text/html; charset=utf-8"}
		h["Cache-Control"] = []string{cacheControl}
		h["Content-Length"] = []string{size}
		_, _ = w.Write(body)
	})
}

// Fetches returns how many fragment requests the services have answered.
func (s *stub) Fetches() int64 { return s.fetches.Load() }

// Close stops the services at once.
func (s *stub) Close() {
	for _, srv := range s.servers {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = srv.Shutdown(ctx)
		cancel()
		_ = srv.Close()
	}
}

// fragmentBody returns a fragment's HTML, exactly size bytes long, marked
// so that a composed page can be checked for it.
func fragmentBody(name string, size int) []byte {
	open := `<div class="fragment-` + name + `">`
	const closing = `</div>`
	const filler = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. "
	n := size - len(open) - len(closing)
	if n < 0 {
		n = 0
	}
	var b strings.Builder
	b.Grow(size)
	b.WriteString(open)
	for b.Len() < len(open)+n {
		rest := len(open) + n - b.Len()
		b.WriteString(filler[:min(rest, len(filler))])
	}
	b.WriteString(closing)
	return []byte(b.String())
}

// fragmentMarker is what fragmentBody puts at the start of a fragment.
func fragmentMarker(name string) string { return `<div class="fragment-` + name + `">` }
