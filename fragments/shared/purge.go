package shared

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/inlayhq/inlay/fragments/shared/wire"
	"github.com/redis/rueidis"
)

// purgeTimeout bounds a Purge: it is an operator's call, not a page's, and
// may touch many entries.
const purgeTimeout = 5 * time.Second

// purgeBatch is how many keys one DEL or one purge message carries.
const purgeBatch = 512

// popTagsScript empties tag sets and returns their members (callers' keys),
// in one step, so that an entry written while the purge runs stays indexed
// for the next one. (If the server fails before the entries are dropped,
// the purge reports the error and those entries live out their TTL.)
// KEYS: the tag sets.
var popTagsScript = rueidis.NewLuaScript(`
local out = {}
for i = 1, #KEYS do
  for _, m in ipairs(redis.call('SMEMBERS', KEYS[i])) do
    out[#out + 1] = m
  end
  redis.call('DEL', KEYS[i])
end
return out`)

// Purge drops every entry carrying one of tags and announces the dropped
// keys to every Store on the server (this one included), whose
// OnInvalidate functions drop them from their in-process tiers. It returns
// how many entries it dropped.
func (s *Store) Purge(ctx context.Context, tags ...string) (_ int, err error) {
	defer contain("purge", &err)
	if len(tags) == 0 {
		return 0, nil
	}
	s.stats.purges.Add(1)
	tagKeys := make([]string, len(tags))
	for i, tag := range tags {
		tagKeys[i] = s.names.tag(tag)
	}
	dropped, err := do(ctx, s, "purge", purgeTimeout, func(ctx context.Context, c rueidis.Client) (int, error) {
		dropped := 0
		members, err := popTagsScript.Exec(ctx, c, tagKeys, nil).AsStrSlice()
		if err != nil {
			return 0, fmt.Errorf("reading tags: %w", err)
		}
		// A key with two of the tags is listed twice.
		slices.Sort(members)
		keys := slices.Compact(members)
		for batch := range slices.Chunk(keys, purgeBatch) {
			names := make([]string, len(batch))
			for i, k := range batch {
				names[i] = s.names.entry(hash(k))
			}
			n, err := c.Do(ctx, c.B().Del().Key(names...).Build()).AsInt64()
			if err != nil {
				return dropped, fmt.Errorf("dropping entries: %w", err)
			}
			dropped += int(n)
		}
		for batch := range slices.Chunk(keys, purgeBatch) {
			msg := wire.AppendStrings(nil, batch)
			if err := c.Do(ctx, c.B().Publish().Channel(s.names.purged()).Message(rueidis.BinaryString(msg)).Build()).Error(); err != nil {
				return dropped, fmt.Errorf("announcing purge: %w", err)
			}
		}
		return dropped, nil
	})
	s.stats.purged.Add(int64(dropped))
	if err != nil {
		return dropped, fmt.Errorf("purging tags %q: %w", tags, err)
	}
	return dropped, nil
}

// OnInvalidate adds fn to the functions called with the keys a purge
// dropped, on any replica. They run one at a time on the Store's
// subscription and should only drop the keys from memory.
func (s *Store) OnInvalidate(fn func(keys []string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onInvalidate = append(s.onInvalidate, fn)
}

// subscribe keeps one subscription to the done and purged channels for the
// Store's life, subscribing again after the connection is lost.
func (s *Store) subscribe() {
	defer s.wg.Done()
	var once sync.Once
	ctx := rueidis.WithOnSubscriptionHook(s.ctx, func(sub rueidis.PubSubSubscription) {
		if sub.Kind == "subscribe" {
			once.Do(func() { close(s.subscribed) })
		}
	})
	retry := time.NewTimer(0)
	defer retry.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-retry.C:
		}
		if cp := s.client.Load(); cp != nil {
			c := *cp
			err := c.Receive(ctx, c.B().Subscribe().Channel(s.names.done(), s.names.purged()).Build(), s.receive)
			if s.ctx.Err() != nil {
				return
			}
			if err != nil && !errors.Is(err, rueidis.ErrClosing) {
				s.log.Debug("shared cache subscription lost", slog.String("error", err.Error()))
			}
		}
		retry.Reset(s.probeInterval())
	}
}

// receive handles one pub/sub message.
func (s *Store) receive(m rueidis.PubSubMessage) {
	// It runs on the client's reading goroutine, where a panic would end
	// the process.
	defer func() {
		if v := recover(); v != nil {
			s.stats.panics.Add(1)
			s.log.Error("panic handling a shared cache tier message", slog.String("channel", m.Channel),
				slog.String("error", fmt.Sprint(v)), slog.String("stack", string(debug.Stack())))
		}
	}()
	switch m.Channel {
	case s.names.done():
		s.wake(m.Message)
	case s.names.purged():
		keys, err := wire.ParseStrings([]byte(m.Message))
		if err != nil || len(keys) == 0 {
			return
		}
		s.stats.invalidations.Add(int64(len(keys)))
		for _, k := range keys {
			s.bypass(s.names.entry(hash(k)))
		}
		s.mu.Lock()
		fns := s.onInvalidate
		s.mu.Unlock()
		for _, fn := range fns {
			fn(keys)
		}
	}
}
