package basket

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

func item(sku string, cents int64) line {
	return line{SKU: sku, Name: "Name " + sku, PriceCents: cents, Priced: true}
}

func TestStoreAddRemove(t *testing.T) {
	s := newStore(10)
	id, created, total, err := s.Add("", item("a", 100), 2)
	if err != nil || !created || total != 2 || !validBasketID(id) {
		t.Fatalf("first Add = %q, %v, %d, %v", id, created, total, err)
	}
	id2, created, total, err := s.Add(id, item("a", 150), 3)
	if err != nil || created || id2 != id || total != 5 {
		t.Fatalf("second Add = %q, %v, %d, %v", id2, created, total, err)
	}
	if _, _, total, _ = s.Add(id, item("b", 10), 1); total != 6 {
		t.Errorf("total = %d, want 6", total)
	}
	lines := s.Lines(id)
	want := []line{{SKU: "a", Name: "Name a", PriceCents: 150, Priced: true, Qty: 5}, {SKU: "b", Name: "Name b", PriceCents: 10, Priced: true, Qty: 1}}
	if fmt.Sprint(lines) != fmt.Sprint(want) {
		t.Errorf("Lines = %+v, want %+v", lines, want)
	}
	lines[0].Qty = 42 // a copy: the store must not change
	if got := s.Count(id); got != 6 {
		t.Errorf("Count = %d after changing a copy, want 6", got)
	}
	if got := s.Remove(id, "a"); got != 1 {
		t.Errorf("Remove(a) = %d, want 1", got)
	}
	if got := s.Remove(id, "zz"); got != 1 {
		t.Errorf("Remove of a missing line = %d, want 1", got)
	}
	if got := s.Remove("unknown", "b"); got != 0 {
		t.Errorf("Remove from an unknown basket = %d, want 0", got)
	}
	if s.Len() != 1 {
		t.Errorf("Len = %d, want 1 (Remove must not create baskets)", s.Len())
	}
}

func TestStoreUnknownIDMakesNewBasket(t *testing.T) {
	s := newStore(10)
	stale := "0123456789abcdef0123456789abcdef"
	id, created, _, _ := s.Add(stale, item("a", 1), 1)
	if !created || id == stale {
		t.Errorf("Add to an unknown id = %q, created %v; want a fresh id", id, created)
	}
	if s.Count(stale) != 0 || s.Count("") != 0 || s.Lines(stale) != nil {
		t.Error("an unknown id has contents")
	}
}

func TestStoreLimits(t *testing.T) {
	s := newStore(10)
	id, _, total, _ := s.Add("", item("a", 1), 60)
	if _, _, total, _ = s.Add(id, item("a", 1), 60); total != maxQty {
		t.Errorf("quantity = %d, want it capped at %d", total, maxQty)
	}
	for i := 1; i < maxLines; i++ {
		if _, _, _, err := s.Add(id, item(fmt.Sprintf("s-%d", i), 1), 1); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
	}
	if _, _, _, err := s.Add(id, item("one-too-many", 1), 1); !errors.Is(err, errBasketFull) {
		t.Errorf("line %d: err = %v, want errBasketFull", maxLines+1, err)
	}
	if _, _, _, err := s.Add(id, item("a", 1), 1); err != nil {
		t.Errorf("adding to an existing line of a full basket: %v", err)
	}
	if n := len(s.Lines(id)); n != maxLines {
		t.Errorf("%d lines, want %d", n, maxLines)
	}
}

func TestStoreEvictsLeastRecentlyUsed(t *testing.T) {
	s := newStore(2)
	a, _, _, _ := s.Add("", item("x", 1), 1)
	b, _, _, _ := s.Add("", item("x", 1), 1)
	s.Count(a) // a is now more recently used than b
	c, _, _, _ := s.Add("", item("x", 1), 1)
	if s.Len() != 2 {
		t.Fatalf("Len = %d, want 2", s.Len())
	}
	if s.Count(b) != 0 {
		t.Error("the least recently used basket was kept")
	}
	if s.Count(a) != 1 || s.Count(c) != 1 {
		t.Error("a recently used basket was dropped")
	}
}

func TestStoreConcurrent(t *testing.T) {
	s := newStore(100)
	id, _, _, _ := s.Add("", item("a", 1), 1)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				s.Add(id, item("a", 1), 1)
				s.Count(id)
				s.Lines(id)
			}
		})
	}
	wg.Wait()
	if got := s.Count(id); got != 81 {
		t.Errorf("Count = %d, want 81", got)
	}
}

func TestNewBasketID(t *testing.T) {
	a, b := newBasketID(), newBasketID()
	if !validBasketID(a) || !validBasketID(b) || a == b {
		t.Errorf("ids %q, %q: want two different 32-hex-digit ids", a, b)
	}
}
