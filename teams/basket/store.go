package basket

import (
	"container/list"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
)

// errBasketFull is returned when a new line would exceed maxLines.
var errBasketFull = errors.New("basket is full")

// line is one product in a basket.
type line struct {
	SKU        string
	Name       string
	PriceCents int64
	Priced     bool // PriceCents is known
	Qty        int
}

// basketEntry is one basket, the value of a store list element.
type basketEntry struct {
	id    string
	lines []line
}

// store keeps at most max baskets in memory and drops the least recently
// used one beyond that. Every method is safe for concurrent use.
type store struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *basketEntry, most recently used first
	byID  map[string]*list.Element
}

func newStore(max int) *store {
	return &store{max: max, order: list.New(), byID: map[string]*list.Element{}}
}

// get returns the basket with the given id, marking it as used.
// The caller holds s.mu.
func (s *store) get(id string) *basketEntry {
	if id == "" {
		return nil
	}
	el, ok := s.byID[id]
	if !ok {
		return nil
	}
	s.order.MoveToFront(el)
	return el.Value.(*basketEntry)
}

// Claim makes an empty basket id if there is none: a signed-in shopper's
// basket has the id their sub gives it.
func (s *store) Claim(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.get(id) != nil {
		return
	}
	s.byID[id] = s.order.PushFront(&basketEntry{id: id})
	for s.order.Len() > s.max {
		old := s.order.Remove(s.order.Back()).(*basketEntry)
		delete(s.byID, old.id)
	}
}

// Lines returns a copy of the lines of basket id, nil if there is none.
func (s *store) Lines(id string) []line {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.get(id)
	if b == nil {
		return nil
	}
	return append([]line(nil), b.lines...)
}

// Count returns the total quantity in basket id, 0 if there is none.
func (s *store) Count(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return count(s.get(id))
}

// Add adds qty of item (whose Qty is ignored) to basket id, capping the
// line at maxQty and refreshing its name and price. If there is no basket
// id, a new one is made: created is true and usedID is its new id. It
// returns the basket's total quantity.
func (s *store) Add(id string, item line, qty int) (usedID string, created bool, total int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.get(id)
	if b == nil {
		b = &basketEntry{id: newBasketID()}
		s.byID[b.id] = s.order.PushFront(b)
		created = true
		for s.order.Len() > s.max {
			old := s.order.Remove(s.order.Back()).(*basketEntry)
			delete(s.byID, old.id)
		}
	}
	i := indexOf(b.lines, item.SKU)
	if i < 0 {
		if len(b.lines) >= maxLines {
			return b.id, created, count(b), errBasketFull
		}
		item.Qty = 0
		b.lines = append(b.lines, item)
		i = len(b.lines) - 1
	}
	l := &b.lines[i]
	l.Name, l.PriceCents, l.Priced = item.Name, item.PriceCents, item.Priced
	l.Qty = min(l.Qty+qty, maxQty)
	return b.id, created, count(b), nil
}

// Remove deletes the line for sku from basket id, if any, and returns the
// basket's total quantity.
func (s *store) Remove(id, sku string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.get(id)
	if b == nil {
		return 0
	}
	if i := indexOf(b.lines, sku); i >= 0 {
		b.lines = append(b.lines[:i], b.lines[i+1:]...)
	}
	return count(b)
}

// Len returns the number of baskets held.
func (s *store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.order.Len()
}

func count(b *basketEntry) int {
	if b == nil {
		return 0
	}
	n := 0
	for _, l := range b.lines {
		n += l.Qty
	}
	return n
}

func indexOf(lines []line, sku string) int {
	for i, l := range lines {
		if l.SKU == sku {
			return i
		}
	}
	return -1
}

// newBasketID returns 128 random bits as 32 lowercase hex characters.
func newBasketID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails: crypto/rand.Read crashes the program instead
	return hex.EncodeToString(b[:])
}
