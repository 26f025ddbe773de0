package main

import (
	"math"
	"slices"
	"time"
)

// latencies summarises exact latency samples.
type latencies struct {
	N                  int
	P50, P90, P99, Max time.Duration
}

// summarize sorts samples in place and returns their exact percentiles.
func summarize(samples []time.Duration) latencies {
	slices.Sort(samples)
	if len(samples) == 0 {
		return latencies{}
	}
	return latencies{
		N:   len(samples),
		P50: percentile(samples, 0.50),
		P90: percentile(samples, 0.90),
		P99: percentile(samples, 0.99),
		Max: samples[len(samples)-1],
	}
}

// percentile returns the nearest-rank q-quantile of sorted samples: the
// smallest sample with at least q of all samples at or below it.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}
