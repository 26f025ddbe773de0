package composer

import (
	"net/http"
	"sync/atomic"
	"time"
)

// dateValue is a Date header value, good for one second.
type dateValue struct {
	unix  int64
	value []string
}

// lastDate is the Date header of the current second, shared by every page
// of that second.
var lastDate atomic.Pointer[dateValue]

// dateHeader returns the Date header value for now (RFC 9110 §6.6.1).
// net/http formats a fresh one for every response that has none, which
// costs about 5% of a cached page's CPU; pages made in the same second
// share one here. The slice is capacity-capped: a later Add copies it.
func dateHeader(now time.Time) []string {
	sec := now.Unix()
	if d := lastDate.Load(); d != nil && d.unix == sec {
		return d.value
	}
	d := &dateValue{unix: sec, value: []string{now.UTC().Format(http.TimeFormat)}[:1:1]}
	lastDate.Store(d)
	return d.value
}
