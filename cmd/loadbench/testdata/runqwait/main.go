// Command runqwait reads a Go runtime trace and reports how long
// goroutines waited to run once they were runnable: the time from each
// transition to Runnable to the next to Running, for all goroutines and
// for those the network poller made runnable outside any P (sysmon's
// poll, which puts them on the global run queue). It is the program behind
// docs/benchmarks.md, "Where the tail waits, fourteenth round".
//
// Take a trace of a server under load, from Inlay's admin listener or any
// net/http/pprof, and read it:
//
//	curl -o trace.out 'http://127.0.0.1:9091/debug/pprof/trace?seconds=2'
//	cd cmd/loadbench/testdata/runqwait && go run . -over 12ms ../../../../trace.out
//
// It is a module of its own, so that golang.org/x/exp, which reads traces,
// is not a dependency of Inlay.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"slices"
	"time"

	"golang.org/x/exp/trace"
)

func main() {
	over := flag.Duration("over", 12*time.Millisecond, "count the waits longer than this")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: runqwait [-over DURATION] TRACE")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	all, outside, err := waits(flag.Arg(0))
	if err != nil {
		log.Fatal(err)
	}
	report("all goroutines", all, *over)
	report("made runnable outside any P", outside, *over)
}

// waits returns the runnable-to-running waits in the trace at path: all
// of them, and those of goroutines made runnable outside any P.
func waits(path string) (all, outside []time.Duration, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	r, err := trace.NewReader(f)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", path, err)
	}
	type since struct {
		at      trace.Time
		outside bool
	}
	runnable := map[trace.GoID]since{}
	for {
		ev, err := r.ReadEvent()
		if errors.Is(err, io.EOF) {
			return all, outside, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading %s: %w", path, err)
		}
		if ev.Kind() != trace.EventStateTransition {
			continue
		}
		st := ev.StateTransition()
		if st.Resource.Kind != trace.ResourceGoroutine {
			continue
		}
		id := st.Resource.Goroutine()
		from, to := st.Goroutine()
		switch {
		case to == trace.GoRunnable:
			runnable[id] = since{ev.Time(), ev.Proc() == trace.NoProc}
		case from == trace.GoRunnable && to == trace.GoRunning:
			s, ok := runnable[id]
			if !ok {
				continue // runnable before the trace began
			}
			delete(runnable, id)
			w := time.Duration(ev.Time() - s.at)
			all = append(all, w)
			if s.outside {
				outside = append(outside, w)
			}
		}
	}
}

// report prints the waits' count, mean and percentiles, and how many were
// longer than over.
func report(what string, d []time.Duration, over time.Duration) {
	if len(d) == 0 {
		fmt.Printf("%s: none\n", what)
		return
	}
	slices.Sort(d)
	var sum time.Duration
	long := 0
	for _, w := range d {
		sum += w
		if w > over {
			long++
		}
	}
	n := len(d)
	q := func(p float64) time.Duration { return d[min(n-1, int(p*float64(n)))] }
	fmt.Printf("%s: %d waits, mean %v, p50 %v, p99 %v, p99.9 %v, max %v; over %v: %d (%.1f %%)\n",
		what, n, sum/time.Duration(n), q(0.5), q(0.99), q(0.999), d[n-1], over, long, 100*float64(long)/float64(n))
}
