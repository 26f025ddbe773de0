package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/rueidis"
)

// RedisStore is the Store on the shared tier: one Valkey or Redis server
// for every replica, so that any replica serves any session and a logout
// on one ends the session on all.
type RedisStore struct {
	client rueidis.Client
	prefix string
}

// DefaultRedisPrefix starts every key the RedisStore writes.
const DefaultRedisPrefix = "inlay:auth:"

// NewRedisStore connects to the server at url (redis://, rediss://).
func NewRedisStore(url string) (*RedisStore, error) {
	opt, err := rueidis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("session store url: %w", err)
	}
	opt.DisableCache = true
	opt.ConnWriteTimeout = 2 * time.Second
	c, err := rueidis.NewClient(opt)
	if err != nil {
		return nil, fmt.Errorf("session store: connecting: %w", err)
	}
	return &RedisStore{client: c, prefix: DefaultRedisPrefix}, nil
}

// Close closes the connections.
func (s *RedisStore) Close() { s.client.Close() }

// Get implements Store.
func (s *RedisStore) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := s.client.Do(ctx, s.client.B().Get().Key(s.prefix+key).Build()).AsBytes()
	if rueidis.IsRedisNil(err) {
		return nil, nil
	}
	return v, err
}

// Set implements Store.
func (s *RedisStore) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	return s.client.Do(ctx, s.client.B().Set().Key(s.prefix+key).Value(rueidis.BinaryString(val)).PxMilliseconds(ms(ttl)).Build()).Error()
}

// Take implements Store with GETDEL (Redis 6.2 and later, Valkey).
func (s *RedisStore) Take(ctx context.Context, key string) ([]byte, error) {
	v, err := s.client.Do(ctx, s.client.B().Getdel().Key(s.prefix+key).Build()).AsBytes()
	if rueidis.IsRedisNil(err) {
		return nil, nil
	}
	return v, err
}

// SetNX implements Store.
func (s *RedisStore) SetNX(ctx context.Context, key string, val []byte, ttl time.Duration) (bool, error) {
	err := s.client.Do(ctx, s.client.B().Set().Key(s.prefix+key).Value(rueidis.BinaryString(val)).Nx().PxMilliseconds(ms(ttl)).Build()).Error()
	if rueidis.IsRedisNil(err) {
		return false, nil
	}
	return err == nil, err
}

// Delete implements Store.
func (s *RedisStore) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = s.prefix + k
	}
	return s.client.Do(ctx, s.client.B().Del().Key(full...).Build()).Error()
}

// Add implements Store.
func (s *RedisStore) Add(ctx context.Context, key, member string, ttl time.Duration) error {
	k := s.prefix + key
	for _, r := range s.client.DoMulti(ctx,
		s.client.B().Sadd().Key(k).Member(member).Build(),
		s.client.B().Pexpire().Key(k).Milliseconds(ms(ttl)).Build()) {
		if err := r.Error(); err != nil {
			return err
		}
	}
	return nil
}

// Members implements Store.
func (s *RedisStore) Members(ctx context.Context, key string) ([]string, error) {
	return s.client.Do(ctx, s.client.B().Smembers().Key(s.prefix+key).Build()).AsStrSlice()
}

func ms(d time.Duration) int64 {
	if d < time.Millisecond {
		return 1
	}
	return d.Milliseconds()
}
