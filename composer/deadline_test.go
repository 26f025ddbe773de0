package composer

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
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

// The page's fetches learn through OnCancel that the page was canceled or
// its shopper left, never that its deadline passed (their connections
// have it); stop keeps a function from running and says whether it did.
// OnCancel makes no context of the page's.
func TestPageDeadlineOnCancel(t *testing.T) {
	for _, tc := range []struct {
		name      string
		end       func(p *pageDeadline, leave context.CancelFunc) // how the page ends
		stopFirst bool                                            // the first function is stopped before
		runs      int                                             // functions run, of two
		stopAfter bool                                            // what the first's stop reports after the end
	}{
		{"canceled", func(p *pageDeadline, _ context.CancelFunc) { p.cancel() }, false, 2, false},
		{"the shopper leaves", func(_ *pageDeadline, leave context.CancelFunc) { leave() }, false, 2, false},
		{"one stopped, then canceled", func(p *pageDeadline, _ context.CancelFunc) { p.cancel() }, true, 1, false},
		{"the deadline passes", func(*pageDeadline, context.CancelFunc) { time.Sleep(2 * time.Second) }, false, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				parent, leave := context.WithCancel(context.Background())
				defer leave()
				p := &pageDeadline{parent: parent, deadline: time.Now().Add(time.Second)}
				ran := make(chan int, 2)
				first := p.OnCancel(func() { ran <- 1 })
				p.OnCancel(func() { ran <- 2 }) // a second fetch: one watch of the parent for both
				if tc.stopFirst && !first() {
					t.Fatal("stop before the end reported false")
				}
				tc.end(p, leave)
				synctest.Wait()
				if got := len(ran); got != tc.runs {
					t.Errorf("%d functions ran, want %d", got, tc.runs)
				}
				if !tc.stopFirst {
					if got := first(); got != tc.stopAfter {
						t.Errorf("stop after the end: %v, want %v", got, tc.stopAfter)
					}
				}
				if p.ctx != nil {
					t.Error("OnCancel made the page's context")
				}
			})
		})
	}
	t.Run("after the end", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p := &pageDeadline{parent: context.Background(), deadline: time.Now().Add(time.Second)}
			p.cancel()
			ran := make(chan struct{}, 1)
			stop := p.OnCancel(func() { ran <- struct{}{} })
			synctest.Wait()
			if len(ran) != 1 {
				t.Error("a function registered after the end did not run")
			}
			if stop() {
				t.Error("stop of a function that ran reported true")
			}
		})
	})
}

// Err and Deadline answer without making the page's context: canceled,
// the parent's error, past the deadline, or nothing yet.
func TestPageDeadlineErr(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		at := time.Now().Add(time.Second)
		parent, leave := context.WithCancel(context.Background())
		for _, tc := range []struct {
			name string
			p    *pageDeadline
			act  func(p *pageDeadline)
			want error
		}{
			{"running", &pageDeadline{parent: context.Background(), deadline: at}, func(*pageDeadline) {}, nil},
			{"canceled", &pageDeadline{parent: context.Background(), deadline: at}, func(p *pageDeadline) { p.cancel() }, context.Canceled},
			{"the shopper left", &pageDeadline{parent: parent, deadline: at}, func(*pageDeadline) { leave() }, context.Canceled},
			{"past the deadline", &pageDeadline{parent: context.Background(), deadline: time.Now()}, func(*pageDeadline) {}, context.DeadlineExceeded},
		} {
			tc.act(tc.p)
			if err := tc.p.Err(); !errors.Is(err, tc.want) {
				t.Errorf("%s: Err = %v, want %v", tc.name, err, tc.want)
			}
			if d, ok := tc.p.Deadline(); !ok || !d.Equal(tc.p.deadline) {
				t.Errorf("%s: Deadline = %v, %v; want the page's, %v (the parent has none)", tc.name, d, ok, tc.p.deadline)
			}
			if tc.p.ctx != nil {
				t.Errorf("%s: Err or Deadline made the page's context", tc.name)
			}
		}
	})
}

// cancel reports quiet only when nothing it or the parent's watch started
// can still run: the page may then be recycled.
func TestPageDeadlineCancelQuiet(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(p *pageDeadline, leave context.CancelFunc)
		want  bool
	}{
		{"no fetch registered", func(*pageDeadline, context.CancelFunc) {}, true},
		{"every fetch stopped before the end", func(p *pageDeadline, _ context.CancelFunc) {
			p.OnCancel(func() {})()
			p.OnCancel(func() {})()
		}, true},
		{"a fetch still registered: its cut runs", func(p *pageDeadline, _ context.CancelFunc) {
			p.OnCancel(func() {})()
			p.OnCancel(func() {})
		}, false},
		{"the shopper left first", func(p *pageDeadline, leave context.CancelFunc) {
			stop := p.OnCancel(func() {})
			leave()
			synctest.Wait()
			stop()
		}, false},
		{"the page's context was made", func(p *pageDeadline, _ context.CancelFunc) { _ = p.Done() }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				parent, leave := context.WithCancel(context.Background())
				defer leave()
				p := &pageDeadline{parent: parent, deadline: time.Now().Add(time.Second)}
				tc.setup(p, leave)
				if got := p.cancel(); got != tc.want {
					t.Errorf("cancel: quiet %v, want %v", got, tc.want)
				}
				synctest.Wait()
			})
		})
	}
}
