package resolve_test

import (
	"errors"
	"log/slog"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/inlayhq/inlay/fragments/resolve"
	"github.com/inlayhq/inlay/internal/leaktest"
)

// The tests in this file run in a synctest bubble with answers from
// memory: time is fake, so they count lookups and goroutines exactly.

// bubbled counts the goroutines in a synctest bubble, as their stack
// traces name them, but for the caller's own (a running goroutine's
// header does not say): in a test, those of the test's bubble, as a
// bubble's goroutines have all ended when synctest.Test returns.
// runtime.NumGoroutine would count the whole process's too, such as a
// goroutine of the test before still on its way out.
func bubbled() int { return leaktest.Count(", synctest bubble ") }

func TestStopEndsTheWatch(t *testing.T) {
	for _, blocked := range []bool{false, true} {
		name := "between lookups"
		if blocked {
			name = "during a lookup that never answers"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := &stubLookuper{block: blocked}
				l.set(nil, "10.0.0.1")
				before := bubbled()
				w, err := resolve.NewWatch("basket", "basket.shop:8080", resolve.Options{Resolver: l, Every: time.Second, Logger: slog.New(newLogRecords())}, nil)
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(2500 * time.Millisecond)
				synctest.Wait()
				if got := bubbled(); got != before+1 {
					t.Fatalf("%d goroutines while watching, want %d", got, before+1)
				}
				w.Stop()
				// Stop returns once the goroutine closed its done
				// channel, which it does last; Wait lets it exit.
				synctest.Wait()
				if got := bubbled(); got != before {
					t.Errorf("%d goroutines after Stop, want %d as before the watch", got, before)
				}
				calls := l.count()
				time.Sleep(time.Minute)
				if got := l.count(); got != calls {
					t.Errorf("%d lookups after Stop", got-calls)
				}
				w.Stop() // again: nothing
			})
		})
	}
}

func TestWatchLooksUpEveryFiveSecondsByDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := &stubLookuper{}
		l.set(nil, "10.0.0.1")
		w, err := resolve.NewWatch("basket", "basket.shop:8080", resolve.Options{Resolver: l}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		time.Sleep(resolve.DefaultEvery*3 + time.Second)
		if got := l.count(); got != 4 {
			t.Errorf("%d lookups in 16s, want 4 (at 0, 5, 10 and 15s)", got)
		}
	})
}

func TestWatchReportsChangesOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := &stubLookuper{}
		l.set(nil, "10.0.0.2", "10.0.0.1", "::ffff:10.0.0.1", "fd00::1")
		r := newReports()
		w, err := resolve.NewWatch("basket", "basket.shop:8080", resolve.Options{Resolver: l, Every: time.Second}, r.add)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		time.Sleep(3500 * time.Millisecond) // 4 lookups, one answer
		l.set(nil, "10.0.0.3", "10.0.0.2", "10.0.0.1")
		time.Sleep(3 * time.Second) // 3 more, a second answer
		want := [][]string{
			{"10.0.0.1:8080", "10.0.0.2:8080", "[fd00::1]:8080"},
			{"10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"},
		}
		if got := r.all(); !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("reported %q, want %q", got, want)
		}
		if got := w.Endpoints(); !slices.Equal(got, want[1]) {
			t.Errorf("Endpoints() = %q, want %q", got, want[1])
		}
	})
}

// A name that stops answering keeps its last list: the log says so once,
// however many lookups fail, and once more when it answers again.
func TestWatchLogsARunOfFailuresOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := &stubLookuper{}
		l.set(nil, "10.0.0.1", "10.0.0.2")
		logs := newLogRecords()
		r := newReports()
		w, err := resolve.NewWatch("basket", "basket.shop:8080",
			resolve.Options{Resolver: l, Every: time.Second, Logger: slog.New(logs)}, r.add)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		time.Sleep(1500 * time.Millisecond)
		l.set(errors.New("server misbehaving"))
		time.Sleep(5 * time.Second) // 5 failed lookups
		l.set(nil)                  // an answer without an address fails too
		time.Sleep(2 * time.Second)
		if got := w.Endpoints(); !slices.Equal(got, []string{"10.0.0.1:8080", "10.0.0.2:8080"}) {
			t.Errorf("after failed lookups, Endpoints() = %q, want the last good list", got)
		}
		l.set(nil, "10.0.0.1", "10.0.0.2")
		time.Sleep(2 * time.Second)
		if got := len(r.all()); got != 1 {
			t.Errorf("%d reports, want 1: failures change nothing, and the same answer after them is no change", got)
		}
		if got, want := logs.levels(), []slog.Level{slog.LevelWarn, slog.LevelInfo}; !slices.Equal(got, want) {
			t.Errorf("log levels %v, want %v: one line as the failures start, one as they end", got, want)
		}
	})
}

func TestWatchNeverLooksUpAnIPLiteral(t *testing.T) {
	for target, want := range map[string]string{
		"127.0.0.5:8080":       "127.0.0.5:8080",
		"[::1]:443":            "[::1]:443",
		"[fd00::7]:80":         "[fd00::7]:80",
		"10.1.2.3:65535":       "10.1.2.3:65535",
		"[::ffff:10.0.0.9]:81": "10.0.0.9:81",
	} {
		t.Run(target, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := &stubLookuper{}
				before := bubbled()
				var got [][]string
				w, err := resolve.NewWatch("basket", target, resolve.Options{Resolver: l, Every: time.Second}, func(list []string) { got = append(got, list) })
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != 1 || !slices.Equal(got[0], []string{want}) {
					t.Errorf("reported %q before NewWatch returned, want [[%s]]", got, want)
				}
				time.Sleep(time.Minute)
				if n := l.count(); n != 0 {
					t.Errorf("%d lookups of an IP literal", n)
				}
				if n := bubbled(); n != before {
					t.Errorf("%d goroutines for an IP literal, want none", n-before)
				}
				w.Stop()
			})
		})
	}
}

func TestNewWatchRefusesABadTarget(t *testing.T) {
	for _, target := range []string{"basket.shop", "basket.shop:", "basket.shop:http", ":8080", "basket.shop:0", "basket.shop:70000"} {
		if w, err := resolve.NewWatch("basket", target, resolve.Options{}, nil); err == nil {
			w.Stop()
			t.Errorf("NewWatch(%q) took it", target)
		}
	}
}
