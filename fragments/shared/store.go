package shared

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
	"github.com/sony/gobreaker/v2"
)

// Config configures a Store. Only URL is required.
type Config struct {
	// URL locates the server: redis://[user:password@]host[:port][/db], or
	// rediss:// for TLS. valkey:// and valkeys:// are accepted too. A
	// Redis Cluster node is refused (ErrCluster).
	URL string
	// Timeout bounds each call (Get, Set, Lease, Release, and each poll
	// of Wait). Zero means 20ms: the tier is worth asking only when it
	// answers much faster than the origin.
	Timeout time.Duration
	// MaxEntryBytes caps one encoded entry; Set refuses larger ones with
	// ErrTooLarge. Zero means 1 MiB + 64 KiB (Inlay's default body cap and
	// room for headers).
	MaxEntryBytes int64
	// PollInterval is how often Wait looks for the lease holder's result
	// when no pub/sub message came. Zero means 50ms.
	PollInterval time.Duration
	// ClientCacheBytes is the memory of the RESP3 client-side cache, which
	// answers repeated reads of unchanged entries without a round trip;
	// it is split over the client's connections. Zero means 8 MiB;
	// negative turns it off.
	ClientCacheBytes int
	// Namespace starts every key and channel name, so that several shops
	// can share one server. Zero means "inlay".
	Namespace string
	// Failures is how many consecutive failed calls open the breaker.
	// Zero means 5.
	Failures uint32
	// OpenFor is how long the open breaker fails calls at once before a
	// probe. Zero means 1s.
	OpenFor time.Duration
	// Logger receives one WARN line per change of health. Nil means
	// slog.Default().
	Logger *slog.Logger
	// TLS configures rediss:// connections, for a server whose
	// certificate a private CA signed. Nil means the system's roots; the
	// server name is the URL's host unless TLS sets one.
	TLS *tls.Config
}

// String formats the Config with its URL redacted, so that printing it
// (%v, %+v) never shows the password.
func (c Config) String() string {
	return fmt.Sprintf("{URL:%s Timeout:%v MaxEntryBytes:%d PollInterval:%v ClientCacheBytes:%d Namespace:%s Failures:%d OpenFor:%v}",
		Redacted(c.URL), c.Timeout, c.MaxEntryBytes, c.PollInterval, c.ClientCacheBytes, c.Namespace, c.Failures, c.OpenFor)
}

// LogValue logs the Config's URL redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("url", Redacted(c.URL)), slog.Duration("timeout", c.Timeout))
}

// Defaults used where the Config leaves a value out.
const (
	DefaultTimeout          = 20 * time.Millisecond
	DefaultMaxEntryBytes    = 1<<20 + 64<<10
	DefaultPollInterval     = 50 * time.Millisecond
	DefaultClientCacheBytes = 8 << 20
	DefaultNamespace        = "inlay"
	DefaultFailures         = 5
	DefaultOpenFor          = time.Second
)

// Errors callers may decide on.
var (
	// ErrUnavailable is returned at once while the server is unreachable
	// or the breaker is open.
	ErrUnavailable = errors.New("shared cache tier unavailable")
	// ErrTooLarge is returned by Set for an entry over MaxEntryBytes.
	ErrTooLarge = errors.New("shared cache entry too large")
	// ErrCluster is returned by New, and logged by a Store that finds it
	// only once it reaches the server, for a server in Redis Cluster
	// mode: the tier's writes touch several keys at once (an entry and
	// the sets of its tags), which a cluster keeps on different nodes.
	ErrCluster = errors.New("Redis Cluster is not supported yet; use a single primary (with replicas and Sentinel for failover), or leave cache.shared.url empty to run on the in-process tier alone")
	// ErrPanic marks the error of a call that panicked below the Store
	// (in the Redis client, the codec, or anything else the call ran):
	// the panic was recovered, the call failed, and the caller goes on
	// without the tier. The error is a *PanicError.
	ErrPanic = errors.New("panic in the shared cache tier")
)

// PanicError is the error of a call that panicked below the Store: the
// operation, the panic's value, and the stack of the goroutine that
// panicked, for the caller to log once.
type PanicError struct {
	Op    string // get, set, lease, peek, release or purge
	Value any
	Stack []byte
}

// Error says which operation panicked, and with what.
func (e *PanicError) Error() string {
	return fmt.Sprintf("%v (%s): %v", ErrPanic, e.Op, e.Value)
}

// Unwrap returns ErrPanic, and the panic's value when it is an error.
func (e *PanicError) Unwrap() []error {
	if err, ok := e.Value.(error); ok {
		return []error{ErrPanic, err}
	}
	return []error{ErrPanic}
}

// contain turns a panic on the caller's goroutine (the codec, say) into
// the call's error. Deferred by every exported call.
func contain(op string, err *error) {
	if v := recover(); v != nil {
		*err = fmt.Errorf("shared cache tier: %w", &PanicError{Op: op, Value: v, Stack: debug.Stack()})
	}
}

// errCallerGone marks a call abandoned by its caller, which says nothing
// about the server's health.
var errCallerGone = errors.New("caller gone")

var namespacePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,32}$`)

// Store is a client of the shared tier. It is safe for concurrent use.
type Store struct {
	cfg     Config
	opt     rueidis.ClientOption
	log     *slog.Logger
	names   names
	token   string // this Store's lease value
	breaker *gobreaker.CircuitBreaker[struct{}]
	stats   counters

	client  atomic.Pointer[rueidis.Client] // nil until connected
	healthy atomic.Bool                    // the health last logged

	mu           sync.Mutex                            // protects waiters and onInvalidate
	waiters      map[string]map[chan struct{}]struct{} // hashed key → Wait calls
	onInvalidate []func(keys []string)

	bmu      sync.Mutex           // protects bypassed
	bypassed map[string]time.Time // entry name → since when Get skips the client-side cache

	subscribed chan struct{} // closed once the first subscription is active

	afterPeek func(found, leased bool) // a test's view of Wait; nil outside tests

	closeMu  sync.RWMutex   // protects closed, and inflight's start
	closed   bool           // set by Close
	inflight sync.WaitGroup // the round trips under way

	ctx    context.Context // ends with Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the background goroutines
}

// New makes a Store for cfg.URL. A URL that does not parse is an error; a
// server that cannot be reached is not: the Store starts unhealthy, logs
// one WARN and connects as soon as the server answers.
func New(cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	opt, err := clientOptions(cfg)
	if err != nil {
		return nil, err
	}

	s := &Store{
		cfg:        cfg,
		opt:        opt,
		log:        cfg.Logger.With(slog.String("cache_tier", "shared"), slog.String("url", Redacted(cfg.URL))),
		names:      newNames(cfg.Namespace),
		token:      rand.Text(),
		waiters:    map[string]map[chan struct{}]struct{}{},
		bypassed:   map[string]time.Time{},
		subscribed: make(chan struct{}),
	}
	s.breaker = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "shared-cache",
		MaxRequests: 1,
		Timeout:     cfg.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= cfg.Failures },
		IsExcluded:  func(err error) bool { return errors.Is(err, errCallerGone) },
	})
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.connect(); errors.Is(err, ErrCluster) {
		s.cancel()
		return nil, fmt.Errorf("shared cache server at %s: %w", Redacted(cfg.URL), err)
	} else if err != nil {
		s.log.Warn("shared cache tier unavailable: running on the in-process tier alone", slog.String("error", err.Error()))
	} else {
		s.healthy.Store(true)
	}
	s.wg.Add(2)
	go s.watch()
	go s.subscribe()
	return s, nil
}

// withDefaults fills in cfg's zero fields and checks its namespace.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxEntryBytes <= 0 {
		cfg.MaxEntryBytes = DefaultMaxEntryBytes
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.ClientCacheBytes == 0 {
		cfg.ClientCacheBytes = DefaultClientCacheBytes
	}
	if cfg.Namespace == "" {
		cfg.Namespace = DefaultNamespace
	}
	if !namespacePattern.MatchString(cfg.Namespace) {
		return cfg, fmt.Errorf("shared cache namespace %q: use 1 to 32 letters, digits, '_', '.' or '-'", cfg.Namespace)
	}
	if cfg.Failures == 0 {
		cfg.Failures = DefaultFailures
	}
	if cfg.OpenFor <= 0 {
		cfg.OpenFor = DefaultOpenFor
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg, nil
}

// clientOptions are the Redis client's options for cfg: its URL, TLS,
// one single-node client with two pipelined connections, and their
// client-side caches.
func clientOptions(cfg Config) (rueidis.ClientOption, error) {
	opt, err := parseURL(cfg.URL)
	if err != nil {
		return opt, err
	}
	if cfg.TLS != nil && opt.TLSConfig != nil {
		serverName := opt.TLSConfig.ServerName
		opt.TLSConfig = cfg.TLS.Clone()
		if opt.TLSConfig.ServerName == "" {
			opt.TLSConfig.ServerName = serverName
		}
	}
	opt.ClientName = "inlay"
	// Never a cluster client, whatever the server: the tier does not
	// support Redis Cluster (see ErrCluster), and a cluster client panics
	// on a command whose keys live in different slots. A cluster node is
	// found and refused by connect.
	opt.ForceSingleClient = true
	// Two pipelined connections: the tier sees only in-process misses,
	// and each connection has its own client-side cache.
	opt.PipelineMultiplex = 1
	if cfg.ClientCacheBytes < 0 {
		opt.DisableCache = true
	} else {
		opt.CacheSizeEachConn = max(cfg.ClientCacheBytes/(1<<opt.PipelineMultiplex), 1)
	}
	if opt.Dialer.Timeout == 0 {
		// Bounds New and each reconnection attempt; calls are bounded by
		// their own deadline anyway.
		opt.Dialer.Timeout = time.Second
	}
	return opt, nil
}

// parseURL checks the URL's scheme and parses it without ever putting its
// text (which may hold a password) into an error.
func parseURL(raw string) (rueidis.ClientOption, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return rueidis.ClientOption{}, errors.New("shared cache url does not parse")
	}
	switch u.Scheme {
	case "redis", "rediss", "valkey", "valkeys":
	default:
		return rueidis.ClientOption{}, fmt.Errorf("shared cache url %s: scheme must be redis or rediss", Redacted(raw))
	}
	if u.Host == "" {
		return rueidis.ClientOption{}, fmt.Errorf("shared cache url %s: no host", Redacted(raw))
	}
	opt, err := rueidis.ParseURL(raw)
	if err != nil {
		// rueidis's messages name a bad part (database, timeout), never
		// the password.
		return rueidis.ClientOption{}, fmt.Errorf("shared cache url %s: %w", Redacted(raw), err)
	}
	return opt, nil
}

// connect makes the client, once the server answers and is not a Redis
// Cluster node (ErrCluster).
func (s *Store) connect() (err error) {
	defer contain("connect", &err)
	c, err := rueidis.NewClient(s.opt)
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	if err := refuseCluster(s.ctx, c, s.opt.Dialer.Timeout); err != nil {
		c.Close()
		return err
	}
	s.client.Store(&c)
	return nil
}

// refuseCluster returns ErrCluster when INFO says the server runs with
// cluster_enabled:1. A server that refuses INFO (an ACL without it) is
// taken as it is: the client is a single-node one anyway, so a cluster
// would only answer MOVED errors, which the tier counts as failures.
func refuseCluster(ctx context.Context, c rueidis.Client, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	info, err := c.Do(ctx, c.B().Info().Section("cluster").Build()).ToString()
	if _, isRedisErr := rueidis.IsRedisErr(err); isRedisErr {
		return nil
	}
	if err != nil {
		return fmt.Errorf("connecting: asking whether the server is a cluster node: %w", err)
	}
	for line := range strings.Lines(info) {
		if strings.TrimSpace(line) == "cluster_enabled:1" {
			return ErrCluster
		}
	}
	return nil
}

// watch connects while there is no client and, while the Store is
// unhealthy, probes the server through the breaker, so that health comes
// back without waiting for traffic.
func (s *Store) watch() {
	defer s.wg.Done()
	tick := time.NewTicker(s.probeInterval())
	defer tick.Stop()
	refused := false // the cluster refusal was logged
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-tick.C:
		}
		s.forgetBypasses()
		if s.client.Load() == nil {
			if err := s.connect(); err != nil {
				if errors.Is(err, ErrCluster) && !refused {
					refused = true
					s.log.Error("shared cache tier refused: running on the in-process tier alone", slog.String("error", err.Error()))
				} else if pe, ok := errors.AsType[*PanicError](err); ok {
					s.log.Error("panic connecting to the shared cache tier", slog.String("error", pe.Error()), slog.String("stack", string(pe.Stack)))
				}
				continue
			}
		}
		if !s.Healthy() {
			_, _ = do(s.ctx, s, "ping", s.cfg.Timeout, func(ctx context.Context, c rueidis.Client) (struct{}, error) {
				return struct{}{}, c.Do(ctx, c.B().Ping().Build()).Error()
			})
		}
		s.noteHealth()
	}
}

// probeInterval is how often an unhealthy Store looks at the server: half
// the breaker's open time, so that a probe follows its reopening soon.
func (s *Store) probeInterval() time.Duration { return max(s.cfg.OpenFor/2, 10*time.Millisecond) }

// Healthy reports whether the tier is connected and its breaker closed.
func (s *Store) Healthy() bool {
	return s.client.Load() != nil && s.breaker.State() == gobreaker.StateClosed
}

// noteHealth logs one WARN line when health changes.
func (s *Store) noteHealth() {
	h := s.Healthy()
	if s.healthy.Swap(h) == h {
		return
	}
	if h {
		s.log.Warn("shared cache tier available again")
	} else {
		s.log.Warn("shared cache tier unavailable: running on the in-process tier alone")
	}
}

// ended reports whether ctx is done or past its deadline: the client may
// report a deadline a moment before the context's own timer does.
func ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// errClosed is returned by calls after Close.
var errClosed = errors.New("shared cache tier closed")

// do runs one round trip through the breaker, bounded by d. The client may
// block past a context's deadline (rueidis waits for a reconnection's
// handshake without looking at it), so the round trip runs in a goroutine
// of its own, which Close waits for; a result that comes too late is
// dropped.
func do[T any](ctx context.Context, s *Store, op string, d time.Duration, fn func(ctx context.Context, c rueidis.Client) (T, error)) (T, error) {
	var zero T
	cp := s.client.Load()
	if cp == nil {
		s.stats.unavailable.Add(1)
		return zero, ErrUnavailable
	}
	cctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var v T
	_, err := s.breaker.Execute(func() (struct{}, error) {
		type result struct {
			v   T
			err error
		}
		s.closeMu.RLock()
		if s.closed {
			s.closeMu.RUnlock()
			return struct{}{}, errClosed
		}
		s.inflight.Add(1)
		s.closeMu.RUnlock()
		done := make(chan result, 1)
		go func() {
			defer s.inflight.Done()
			defer func() {
				// A panic here would end the process: no caller's
				// recover reaches this goroutine.
				if v := recover(); v != nil {
					done <- result{err: &PanicError{Op: op, Value: v, Stack: debug.Stack()}}
				}
			}()
			if fault, _ := cctx.Value(faultKey{}).(func(string)); fault != nil {
				fault(op)
			}
			v, err := fn(cctx, *cp)
			done <- result{v, err}
		}()
		var err error
		select {
		case r := <-done:
			v, err = r.v, r.err
		case <-cctx.Done():
			err = cctx.Err()
		}
		if err != nil && ended(ctx) {
			// The caller left; the server may be fine.
			return struct{}{}, fmt.Errorf("%w: %w", errCallerGone, err)
		}
		return struct{}{}, err
	})
	switch {
	case err == nil:
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		s.stats.unavailable.Add(1)
		err = ErrUnavailable
	case errors.Is(err, errCallerGone), errors.Is(err, errClosed):
	case errors.Is(err, ErrPanic):
		s.stats.panics.Add(1)
		s.stats.errors.Add(1)
	default:
		s.stats.errors.Add(1)
	}
	if err != nil || !s.healthy.Load() {
		s.noteHealth()
	}
	if err != nil {
		return zero, err
	}
	return v, nil
}

// Close stops the background work and closes the connections, once the
// calls in flight have returned.
func (s *Store) Close() error {
	s.closeMu.Lock()
	s.closed = true
	s.closeMu.Unlock()
	s.cancel()
	s.wg.Wait()
	s.inflight.Wait()
	if cp := s.client.Load(); cp != nil {
		(*cp).Close()
	}
	return nil
}
