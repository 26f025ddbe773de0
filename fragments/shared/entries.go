package shared

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/inlayhq/inlay/fragments/shared/wire"
	"github.com/redis/rueidis"
)

// clientCacheTTL caps how long a connection's client-side cache keeps an
// entry. The server's own expiry and its invalidation messages (on every
// write or delete of the key) usually end it sooner.
const clientCacheTTL = time.Minute

// Get returns the entry stored under key. A miss is (Entry{}, false, nil).
// It is bounded by the Store's Timeout; with the server down it fails at
// once with ErrUnavailable.
func (s *Store) Get(ctx context.Context, key string) (_ Entry, _ bool, err error) {
	defer contain("get", &err)
	name := s.names.entry(hash(key))
	data, err := do(ctx, s, "get", s.cfg.Timeout, func(ctx context.Context, c rueidis.Client) ([]byte, error) {
		var r rueidis.RedisResult
		if s.opt.DisableCache || s.isBypassed(name) {
			r = c.Do(ctx, c.B().Get().Key(name).Build())
		} else {
			r = c.DoCache(ctx, c.B().Get().Key(name).Cache(), clientCacheTTL)
		}
		b, err := r.AsBytes()
		if rueidis.IsRedisNil(err) && r.IsCacheHit() {
			// A miss remembered by the client-side cache may predate a
			// write whose invalidation is still on its way; a miss
			// costs the caller a lease round trip anyway, so ask.
			r = c.Do(ctx, c.B().Get().Key(name).Build())
			b, err = r.AsBytes()
		}
		switch {
		case rueidis.IsRedisNil(err):
			return nil, nil
		case err != nil:
			return nil, err
		case r.IsCacheHit():
			s.stats.clientCacheHits.Add(1)
		}
		if b == nil {
			b = []byte{} // found, though empty: tells it from a miss
		}
		return b, nil
	})
	if err != nil {
		return Entry{}, false, fmt.Errorf("getting shared cache entry: %w", err)
	}
	found := data != nil
	if !found {
		s.stats.misses.Add(1)
		return Entry{}, false, nil
	}
	e, err := wire.Parse(data)
	if err != nil {
		s.stats.errors.Add(1)
		return Entry{}, false, fmt.Errorf("getting shared cache entry: %w", err)
	}
	s.stats.hits.Add(1)
	return e, true, nil
}

// setScript writes an entry and adds its key to the set of each of its
// tags, keeping each set at least as long as the entry. KEYS: the entry,
// then the tag sets; ARGV: the value, its TTL in ms, the caller's key.
var setScript = rueidis.NewLuaScript(`
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local ttl = tonumber(ARGV[2])
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[3])
  if redis.call('PTTL', KEYS[i]) < ttl then
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
end
return 1`)

// Set stores e under key until its last window ends (e.Expires), which
// becomes the server's TTL, so that stale copies survive replica restarts
// until their stale-if-error window ends. An entry already past its last
// window is not stored. Each of e.Tags indexes the key for Purge.
func (s *Store) Set(ctx context.Context, key string, e Entry) (err error) {
	defer contain("set", &err)
	ttl := time.Until(e.Expires()).Milliseconds()
	if ttl <= 0 {
		return nil
	}
	value := wire.Append(make([]byte, 0, 128+len(e.Body)), &e)
	if int64(len(value)) > s.cfg.MaxEntryBytes {
		return fmt.Errorf("setting shared cache entry: %w: %d bytes, the cap is %d", ErrTooLarge, len(value), s.cfg.MaxEntryBytes)
	}
	name := s.names.entry(hash(key))
	_, err = do(ctx, s, "set", s.cfg.Timeout, func(ctx context.Context, c rueidis.Client) (struct{}, error) {
		if len(e.Tags) == 0 {
			return struct{}{}, c.Do(ctx, c.B().Set().Key(name).Value(rueidis.BinaryString(value)).PxMilliseconds(ttl).Build()).Error()
		}
		keys := make([]string, 0, 1+len(e.Tags))
		keys = append(keys, name)
		for _, tag := range e.Tags {
			keys = append(keys, s.names.tag(tag))
		}
		return struct{}{}, setScript.Exec(ctx, c, keys, []string{rueidis.BinaryString(value), strconv.FormatInt(ttl, 10), key}).Error()
	})
	if err != nil {
		return fmt.Errorf("setting shared cache entry: %w", err)
	}
	s.stats.sets.Add(1)
	s.bypass(name)
	return nil
}

// bypassWindow is how long Get skips the client-side cache for an entry
// whose local copy may be out of date for a moment:
//   - one this Store wrote: the server sends the invalidation of the
//     writer's own copy after its reply to the write;
//   - one a purge dropped: the purge message and the server's
//     invalidation may arrive on different connections, and a replica
//     that drops its in-process copy on the message must not read the old
//     one back from the client-side cache.
const bypassWindow = time.Second

// bypass makes Get skip the client-side cache for the entry for the
// bypassWindow.
func (s *Store) bypass(name string) {
	if s.opt.DisableCache {
		return
	}
	s.bmu.Lock()
	defer s.bmu.Unlock()
	s.bypassed[name] = time.Now()
}

// isBypassed reports whether Get skips the client-side cache for the entry.
func (s *Store) isBypassed(name string) bool {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	t, ok := s.bypassed[name]
	return ok && time.Since(t) < bypassWindow
}

// forgetBypasses drops the bypasses older than the bypassWindow.
func (s *Store) forgetBypasses() {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	for name, t := range s.bypassed {
		if time.Since(t) >= bypassWindow {
			delete(s.bypassed, name)
		}
	}
}
