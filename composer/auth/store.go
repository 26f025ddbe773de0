package auth

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Store holds sealed session records, login flows, leases and indexes, by
// key. Keys are Inlay's own (hashes, never a raw session id). Every method
// is safe for concurrent use, and a missing key is not an error.
type Store interface {
	// Get returns the value at key, or nil when there is none.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set writes the value at key for ttl.
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	// Take returns the value at key and deletes it, at once: of two
	// callers, one gets it.
	Take(ctx context.Context, key string) ([]byte, error)
	// SetNX writes the value at key for ttl only when the key is free,
	// and reports whether it did.
	SetNX(ctx context.Context, key string, val []byte, ttl time.Duration) (bool, error)
	// Delete drops the keys.
	Delete(ctx context.Context, keys ...string) error
	// Add puts member into the set at key, which lives ttl from now.
	Add(ctx context.Context, key, member string, ttl time.Duration) error
	// Members returns the members of the set at key.
	Members(ctx context.Context, key string) ([]string, error)
}

// MemoryStore is the Store of one process: sessions end with it.
type MemoryStore struct {
	now  func() time.Time
	mu   sync.Mutex
	vals map[string]memEntry
	sets map[string]memSet
	ops  int
}

type memEntry struct {
	val []byte
	exp time.Time
}

type memSet struct {
	members []string
	exp     time.Time
}

// NewMemoryStore returns an empty in-process store whose entries expire
// by now.
func NewMemoryStore(now func() time.Time) *MemoryStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{now: now, vals: map[string]memEntry{}, sets: map[string]memSet{}}
}

// Get implements Store. The value is shared, never modified.
func (m *MemoryStore) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.vals[key]
	if !ok || !m.now().Before(e.exp) {
		return nil, nil
	}
	return e.val, nil
}

// Set implements Store.
func (m *MemoryStore) Set(_ context.Context, key string, val []byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep()
	m.vals[key] = memEntry{val: val, exp: m.now().Add(ttl)}
	return nil
}

// Take implements Store.
func (m *MemoryStore) Take(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.vals[key]
	delete(m.vals, key)
	if !ok || !m.now().Before(e.exp) {
		return nil, nil
	}
	return e.val, nil
}

// SetNX implements Store.
func (m *MemoryStore) SetNX(_ context.Context, key string, val []byte, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.vals[key]; ok && m.now().Before(e.exp) {
		return false, nil
	}
	m.vals[key] = memEntry{val: val, exp: m.now().Add(ttl)}
	return true, nil
}

// Delete implements Store.
func (m *MemoryStore) Delete(_ context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.vals, k)
		delete(m.sets, k)
	}
	return nil
}

// Add implements Store.
func (m *MemoryStore) Add(_ context.Context, key, member string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.sets[key]
	if !m.now().Before(s.exp) {
		s.members = nil
	}
	if !slices.Contains(s.members, member) {
		s.members = append(s.members, member)
	}
	s.exp = m.now().Add(ttl)
	m.sets[key] = s
	return nil
}

// Members implements Store.
func (m *MemoryStore) Members(_ context.Context, key string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sets[key]
	if !ok || !m.now().Before(s.exp) {
		return nil, nil
	}
	return slices.Clone(s.members), nil
}

// sweep drops expired entries now and then, so that abandoned flows and
// sessions do not pile up. Called with mu held.
func (m *MemoryStore) sweep() {
	m.ops++
	if m.ops%1024 != 0 {
		return
	}
	now := m.now()
	for k, e := range m.vals {
		if !now.Before(e.exp) {
			delete(m.vals, k)
		}
	}
	for k, s := range m.sets {
		if !now.Before(s.exp) {
			delete(m.sets, k)
		}
	}
}
