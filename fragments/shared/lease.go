package shared

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/inlayhq/inlay/fragments/shared/wire"
	"github.com/redis/rueidis"
)

// Lease asks for the right to fetch key from the origin, for ttl (SET NX
// PX). true means the caller holds it: it fetches, calls Set with the
// result (or not, on failure), then Release. false means another replica
// holds it: the caller may Wait for its result. A holder that dies frees
// the key when ttl ends, so ttl should be no longer than the fetch's own
// timeout.
func (s *Store) Lease(ctx context.Context, key string, ttl time.Duration) (_ bool, err error) {
	defer contain("lease", &err)
	if ttl < time.Millisecond {
		return false, fmt.Errorf("taking shared cache lease: ttl %v is under 1ms", ttl)
	}
	name := s.names.lease(hash(key))
	taken, err := do(ctx, s, "lease", s.cfg.Timeout, func(ctx context.Context, c rueidis.Client) (bool, error) {
		err := c.Do(ctx, c.B().Set().Key(name).Value(s.token).Nx().PxMilliseconds(ttl.Milliseconds()).Build()).Error()
		if rueidis.IsRedisNil(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return false, fmt.Errorf("taking shared cache lease: %w", err)
	}
	if taken {
		s.stats.leases.Add(1)
	}
	return taken, nil
}

// releaseScript drops a lease if this Store still holds it, then wakes the
// key's waiters on every replica. KEYS: the lease; ARGV: the token, the
// done channel, the hashed key.
var releaseScript = rueidis.NewLuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return redis.call('PUBLISH', ARGV[2], ARGV[3])`)

// Release ends the caller's lease on key, after Set or after a failed
// fetch, and wakes the replicas waiting for key. A lease that has already
// passed to another holder is left alone.
func (s *Store) Release(ctx context.Context, key string) (err error) {
	defer contain("release", &err)
	h := hash(key)
	_, err = do(ctx, s, "release", s.cfg.Timeout, func(ctx context.Context, c rueidis.Client) (struct{}, error) {
		return struct{}{}, releaseScript.Exec(ctx, c, []string{s.names.lease(h)}, []string{s.token, s.names.done(), h}).Error()
	})
	if err != nil {
		return fmt.Errorf("releasing shared cache lease: %w", err)
	}
	return nil
}

// Wait waits for the result of another replica's lease on key, within ctx.
// It returns as soon as a fresh entry is stored, or once the lease is gone
// (released after a failure, or expired with its holder): then it returns
// what is stored, which may be a stale entry or none (false), and the
// caller may take the lease itself. Waiters are woken by the holder's
// Release over pub/sub, and look again every PollInterval in case that
// message is lost. A look that fails is tried again; the wait ends with
// ErrUnavailable once the breaker opens, with ErrPanic when a look
// panicked, or with the context's error.
func (s *Store) Wait(ctx context.Context, key string) (_ Entry, _ bool, err error) {
	defer contain("wait", &err)
	s.stats.leaseWaits.Add(1)
	h := hash(key)
	wake := make(chan struct{}, 1)
	s.mu.Lock()
	if s.waiters[h] == nil {
		s.waiters[h] = map[chan struct{}]struct{}{}
	}
	s.waiters[h][wake] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.waiters[h], wake)
		if len(s.waiters[h]) == 0 {
			delete(s.waiters, h)
		}
		s.mu.Unlock()
	}()

	poll := time.NewTicker(s.cfg.PollInterval)
	defer poll.Stop()
	for {
		e, found, leased, err := s.peek(ctx, h)
		if s.afterPeek != nil {
			s.afterPeek(found, leased)
		}
		switch {
		case err != nil && ended(ctx):
			s.stats.leaseTimeouts.Add(1)
			return Entry{}, false, fmt.Errorf("waiting for shared cache lease: %w", cmp.Or(ctx.Err(), context.DeadlineExceeded))
		case errors.Is(err, ErrUnavailable), errors.Is(err, errClosed), errors.Is(err, ErrPanic):
			return Entry{}, false, fmt.Errorf("waiting for shared cache lease: %w", err)
		case err != nil:
			// One slow or failed look: the holder's message or the next
			// poll gives another chance, and the breaker ends the wait
			// if the server is really gone.
		case found && e.Fresh(time.Now()), !leased:
			return e, found, nil
		}
		select {
		case <-ctx.Done():
			s.stats.leaseTimeouts.Add(1)
			return Entry{}, false, fmt.Errorf("waiting for shared cache lease: %w", ctx.Err())
		case <-wake:
		case <-poll.C:
		}
	}
}

// peek reads a hashed key's entry and whether its lease is held, in one
// round trip.
func (s *Store) peek(ctx context.Context, h string) (e Entry, found, leased bool, err error) {
	type look struct {
		data   []byte
		leased bool
	}
	l, err := do(ctx, s, "peek", s.cfg.Timeout, func(ctx context.Context, c rueidis.Client) (look, error) {
		rs := c.DoMulti(ctx,
			c.B().Get().Key(s.names.entry(h)).Build(),
			c.B().Exists().Key(s.names.lease(h)).Build())
		var l look
		b, err := rs[0].AsBytes()
		switch {
		case rueidis.IsRedisNil(err):
		case err != nil:
			return l, err
		case b == nil:
			l.data = []byte{}
		default:
			l.data = b
		}
		n, err := rs[1].AsInt64()
		l.leased = n > 0
		return l, err
	})
	if err != nil || l.data == nil {
		return Entry{}, false, l.leased, err
	}
	if e, err = wire.Parse(l.data); err != nil {
		s.stats.errors.Add(1)
		return Entry{}, false, l.leased, err
	}
	return e, true, l.leased, nil
}

// wake tells the Wait calls for a hashed key to look again.
func (s *Store) wake(h string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.waiters[h] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
