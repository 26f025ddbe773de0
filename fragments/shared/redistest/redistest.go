// Package redistest starts a real redis-server for tests: on a free
// loopback port, in a temporary folder, with persistence off, killed when
// the test ends.
//
// Without the redis-server binary the test is skipped, except under CI=true,
// where it fails: CI installs the Debian package.
package redistest

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// startTimeout bounds one start of the server.
const startTimeout = 10 * time.Second

// Server is one redis-server process.
type Server struct {
	// Addr is the server's host:port on 127.0.0.1.
	Addr string

	// CA verifies a TLS server's certificate; nil for plain TCP.
	CA *x509.CertPool

	tb      testing.TB
	bin     string
	dir     string
	args    []string
	tlsArgs []string

	mu     sync.Mutex // protects cmd and exited
	cmd    *exec.Cmd  // nil while killed
	exited chan error // cmd's Wait result
}

// Start starts a redis-server for the test, with extra command-line
// arguments such as "--requirepass", "secret".
func Start(tb testing.TB, args ...string) *Server {
	tb.Helper()
	return start(tb, false, args)
}

// StartTLS starts a redis-server that speaks only TLS, with a certificate
// for 127.0.0.1 signed by a CA made for the test (Server.CA).
func StartTLS(tb testing.TB, args ...string) *Server {
	tb.Helper()
	return start(tb, true, args)
}

func start(tb testing.TB, withTLS bool, args []string) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("redis-server not found (apt-get install redis-server): %v", err)
		}
		tb.Skipf("redis-server not found (apt-get install redis-server): %v", err)
	}
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir(), args: args}
	if withTLS {
		ca, files, err := makeCerts(s.dir)
		if err != nil {
			tb.Fatalf("making certificates: %v", err)
		}
		s.CA = ca
		s.tlsArgs = []string{"--tls-cert-file", files.cert, "--tls-key-file", files.key, "--tls-ca-cert-file", files.ca, "--tls-auth-clients", "no"}
	}
	var lastErr error
	for range 3 { // a free port can be taken between finding and binding it
		s.Addr, lastErr = freeAddr()
		if lastErr != nil {
			continue
		}
		if lastErr = s.start(); lastErr == nil {
			tb.Cleanup(s.Kill)
			return s
		}
	}
	tb.Fatalf("starting redis-server: %v", lastErr)
	return nil
}

// URL returns the server's redis:// URL (rediss:// for TLS), database 0,
// with the password if one is given.
func (s *Server) URL(password string) string {
	scheme := "redis://"
	if s.CA != nil {
		scheme = "rediss://"
	}
	if password != "" {
		return scheme + ":" + password + "@" + s.Addr + "/0"
	}
	return scheme + s.Addr + "/0"
}

// Kill kills the server at once (SIGKILL), as a crash would.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd, s.exited = nil, nil
}

// Restart starts a killed server again on the same port, empty.
func (s *Server) Restart() {
	s.tb.Helper()
	if err := s.start(); err != nil {
		s.tb.Fatalf("restarting redis-server: %v", err)
	}
}

// Pause stops the process (SIGSTOP): connections stay open and nothing
// answers, as with a server stuck on a slow command. Where there is no
// SIGSTOP (Windows), the test is skipped.
func (s *Server) Pause() {
	s.tb.Helper()
	if sigStop == nil {
		s.tb.Skip("pausing a process needs SIGSTOP, which this platform does not have")
	}
	s.signal(sigStop)
}

// Resume continues a paused process (SIGCONT).
func (s *Server) Resume() { s.signal(sigCont) }

func (s *Server) signal(sig os.Signal) {
	if sig == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(sig)
	}
}

// start runs the server and waits for it to say it is ready.
func (s *Server) start() error {
	host, port, _ := net.SplitHostPort(s.Addr)
	ports := []string{"--port", port}
	if s.CA != nil {
		ports = append([]string{"--port", "0", "--tls-port", port}, s.tlsArgs...)
	}
	args := append([]string{
		"--bind", host,
		"--dir", s.dir, "--save", "", "--appendonly", "no",
		"--logfile", "", "--loglevel", "notice",
	}, ports...)
	args = append(args, s.args...)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cmd := exec.Command(s.bin, args...)
	w := &readyWriter{ready: make(chan struct{})}
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("running redis-server: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var err error
	select {
	case <-w.ready:
	case werr := <-exited:
		return fmt.Errorf("redis-server exited before it was ready (%v):\n%s", werr, w.text())
	case <-ctx.Done():
		err = errors.New("redis-server not ready within " + startTimeout.String())
	}
	if err != nil {
		_ = cmd.Process.Kill()
		<-exited
		return err
	}
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	return nil
}

// readyWriter takes the server's log and closes ready at the line saying
// it accepts connections.
type readyWriter struct {
	mu    sync.Mutex // protects buf and done
	buf   strings.Builder
	done  bool
	ready chan struct{}
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(p), nil
	}
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), "Ready to accept connections") {
		w.done = true
		close(w.ready)
	}
	return len(p), nil
}

func (w *readyWriter) text() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// freeAddr finds a free port on 127.0.0.1.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}
