package main

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ladderQuantiles are the percentiles of a closed loop's latency ladder:
// every half point up to 99, then every tenth up to 99.9, then the
// maximum. With them, several loops' pages can be pooled into one
// distribution (pooledQuantile) without their samples, which wrk does
// not give.
var ladderQuantiles = func() []float64 {
	var qs []float64
	for i := 1; i <= 198; i++ {
		qs = append(qs, float64(i)/2)
	}
	for i := 991; i <= 999; i++ {
		qs = append(qs, float64(i)/10)
	}
	return append(qs, 100)
}()

// ladderPoint is one rung of a latency ladder: Q percent of the loop's
// answers took at most V.
type ladderPoint struct {
	Q float64
	V time.Duration
}

// ladderFromSamples returns the ladder of sorted samples.
func ladderFromSamples(sorted []time.Duration) []ladderPoint {
	if len(sorted) == 0 {
		return nil
	}
	out := make([]ladderPoint, 0, len(ladderQuantiles))
	for _, q := range ladderQuantiles {
		out = append(out, ladderPoint{Q: q, V: percentile(sorted, q/100)})
	}
	return out
}

// wrkLadderLua is the Lua of a wrk script's done() that prints the
// ladder: the latency at each of ladderQuantiles, in microseconds, in
// order, on one line.
func wrkLadderLua() string {
	var b strings.Builder
	b.WriteString("  local ladder = {")
	for i, q := range ladderQuantiles {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatFloat(q, 'f', -1, 64))
	}
	b.WriteString("}\n")
	b.WriteString("  local vs = {}\n")
	// wrk's percentile(100) is 0: the top rung is its max.
	b.WriteString("  for _, q in ipairs(ladder) do\n")
	b.WriteString("    vs[#vs + 1] = string.format(\"%.0f\", q < 100 and latency:percentile(q) or latency.max)\n")
	b.WriteString("  end\n")
	b.WriteString("  io.write(\"loadbench ladder us: \" .. table.concat(vs, \" \") .. \"\\n\")\n")
	return b.String()
}

var wrkLadder = regexp.MustCompile(`loadbench ladder us: ([0-9 ]+)`)

// parseLadder reads the ladder line of wrk's output, or nil when it has
// none.
func parseLadder(out string) ([]ladderPoint, error) {
	m := wrkLadder.FindStringSubmatch(out)
	if m == nil {
		return nil, nil
	}
	f := strings.Fields(m[1])
	if len(f) != len(ladderQuantiles) {
		return nil, fmt.Errorf("latency ladder: %d values, want %d", len(f), len(ladderQuantiles))
	}
	pts := make([]ladderPoint, len(f))
	for i, s := range f {
		us, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("latency ladder: %w", err)
		}
		pts[i] = ladderPoint{Q: ladderQuantiles[i], V: time.Duration(us) * time.Microsecond}
	}
	return pts, nil
}

// pooledQuantile returns the q-th percentile (0 to 100) of the mixture
// of several closed loops' latencies, each loop weighing the same
// whatever its number of answers: the least rung value x of any loop at
// which the loops' shares of answers that took at most x, averaged, reach
// q percent, each loop's share read off its own ladder (the highest rung
// at or below x), so that it errs high by at most a rung. A loop without
// answers does not count.
func pooledQuantile(loops []peakResult, q float64) (time.Duration, error) {
	var n int
	var xs []time.Duration
	for _, l := range loops {
		if l.Requests <= 0 {
			continue
		}
		if len(l.Ladder) == 0 {
			return 0, errors.New("a loop has no latency ladder")
		}
		n++
		for _, p := range l.Ladder {
			xs = append(xs, p.V)
		}
	}
	if n == 0 {
		return 0, errors.New("no answers")
	}
	slices.Sort(xs)
	xs = slices.Compact(xs)
	for _, x := range xs {
		var below float64
		for _, l := range loops {
			if l.Requests <= 0 {
				continue
			}
			share := 0.0
			for _, p := range l.Ladder {
				if p.V <= x {
					share = max(share, p.Q)
				}
			}
			below += share / float64(n)
		}
		if below >= q*(1-1e-12) {
			return x, nil
		}
	}
	return xs[len(xs)-1], nil
}
