package composer

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A page's deadline context makes nothing until it is asked, ends when
// canceled whether it was made before or after, passes its parent's
// values, and keeps the sooner of its deadline and its parent's.
func TestPageDeadline(t *testing.T) {
	type key struct{}
	parent := context.WithValue(context.Background(), key{}, "v")
	at := time.Now().Add(time.Hour)

	t.Run("canceled before use", func(t *testing.T) {
		p := &pageDeadline{parent: parent, deadline: at}
		p.cancel()
		if p.ctx != nil {
			t.Fatal("cancel made the context")
		}
		select {
		case <-p.Done():
		default:
			t.Fatal("Done not closed after cancel")
		}
		if !errors.Is(p.Err(), context.Canceled) {
			t.Errorf("Err = %v, want context.Canceled", p.Err())
		}
	})
	t.Run("canceled after use", func(t *testing.T) {
		p := &pageDeadline{parent: parent, deadline: at}
		done := p.Done()
		if p.Err() != nil {
			t.Fatalf("Err before cancel = %v", p.Err())
		}
		p.cancel()
		select {
		case <-done:
		default:
			t.Fatal("Done not closed after cancel")
		}
	})
	t.Run("values and deadline", func(t *testing.T) {
		p := &pageDeadline{parent: parent, deadline: at}
		defer p.cancel()
		if v := p.Value(key{}); v != "v" {
			t.Errorf("Value = %v, want the parent's", v)
		}
		if d, ok := p.Deadline(); !ok || !d.Equal(at) {
			t.Errorf("Deadline = %v, %v; want %v", d, ok, at)
		}
		sooner, stop := context.WithDeadline(parent, at.Add(-time.Minute))
		defer stop()
		q := &pageDeadline{parent: sooner, deadline: at}
		defer q.cancel()
		if d, _ := q.Deadline(); !d.Equal(at.Add(-time.Minute)) {
			t.Errorf("Deadline under a sooner parent = %v, want the parent's", d)
		}
	})
}
