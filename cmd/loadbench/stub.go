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

// oneServiceName is the service of every fragment when they all come from
// one team service.
const oneServiceName = "team"

// stub is the in-process fragment service. By default each fragment has a
// loopback listener of its own, as if each came from its own team, so that
// Inlay keeps one connection pool per service as it would in production.
// With one service, every fragment comes from one listener, at /NAME.
type stub struct {
	// Services maps a service name to its base URL.
	Services map[string]string
	service  map[string]string // fragment name → service name
	fetches  atomic.Int64
	// byFragment counts the fetches of each fragment; the map is
	// written only before the listeners start.
	byFragment map[string]*atomic.Int64
	servers    []*http.Server
}

// startStub starts the fragment services, answering with cacheControl,
// over HTTP/1.1 and, with h2c, over HTTP/2 without TLS too. With
// oneService, one listener serves every fragment.
func startStub(cacheControl string, h2c, oneService bool, logger *slog.Logger) (*stub, error) {
	return startStubOn("127.0.0.1", 1, cacheControl, h2c, oneService, logger)
}

// startStubOn is startStub with its listeners on the loopback address
// host, and every fragment's service time multiplied by slowdown.
func startStubOn(host string, slowdown int, cacheControl string, h2c, oneService bool, logger *slog.Logger) (*stub, error) {
	s := &stub{Services: map[string]string{}, service: map[string]string{}, byFragment: map[string]*atomic.Int64{}}
	groups := map[string][]fragmentSpec{}
	var names []string
	for _, spec := range fragmentSpecs {
		svc := spec.Name
		if oneService {
			svc = oneServiceName
		}
		if _, ok := groups[svc]; !ok {
			names = append(names, svc)
		}
		groups[svc] = append(groups[svc], spec)
		s.service[spec.Name] = svc
		s.byFragment[spec.Name] = new(atomic.Int64)
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(h2c)
	for _, svc := range names {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("stub %s: listening: %w", svc, err)
		}
		mux := http.NewServeMux()
		for _, spec := range groups[svc] {
			spec.Latency *= time.Duration(slowdown)
			mux.Handle("GET /"+spec.Name, s.handler(spec, cacheControl))
		}
		srv := &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 5 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
			Protocols:         protocols,
		}
		s.servers = append(s.servers, srv)
		s.Services[svc] = "http://" + ln.Addr().String()
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("stub stopped", slog.String("service", svc), slog.String("error", err.Error()))
			}
		}()
	}
	return s, nil
}

// ServiceOf returns the name of the service that serves a fragment.
func (s *stub) ServiceOf(fragment string) string { return s.service[fragment] }

// Addr returns the host:port of a service.
func (s *stub) Addr(service string) string { return strings.TrimPrefix(s.Services[service], "http://") }

// FragmentURL returns the URL of a fragment on its service.
func (s *stub) FragmentURL(fragment string) string {
	return s.Services[s.service[fragment]] + "/" + fragment
}

// handler serves spec after its service time.
func (s *stub) handler(spec fragmentSpec, cacheControl string) http.Handler {
	body := fragmentBody(spec.Name, spec.Size)
	size := strconv.Itoa(len(body))
	count := s.byFragment[spec.Name]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		count.Add(1)
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

// FragmentFetches returns how many requests of each fragment the
// services have answered, by fragment name.
func (s *stub) FragmentFetches() map[string]int64 {
	out := make(map[string]int64, len(s.byFragment))
	for name, n := range s.byFragment {
		out[name] = n.Load()
	}
	return out
}

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
