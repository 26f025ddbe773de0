package contract

import (
	"errors"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CacheControl holds the Cache-Control directives Inlay acts on.
type CacheControl struct {
	NoStore, NoCache, Private, Public  bool
	MustRevalidate                     bool // must-revalidate or proxy-revalidate
	MaxAge, SMaxAge                    int  // seconds; -1 when absent
	StaleWhileRevalidate, StaleIfError int  // seconds; 0 when absent
}

// ParseCacheControl reads every Cache-Control header line. Unknown
// directives are ignored; a malformed number makes its directive absent.
// When a directive appears twice the first one counts (RFC 9111 §4.2.1),
// except max-age and s-maxage: a response that gives two freshness
// lifetimes is treated as stale, lifetime zero, since a cache cannot know
// which one its author meant.
func ParseCacheControl(h http.Header) CacheControl {
	cc := CacheControl{MaxAge: -1, SMaxAge: -1}
	var seen uint8 // bits of the numeric directives already read
	const (
		seenMaxAge = 1 << iota
		seenSMaxAge
		seenSWR
		seenSIE
	)
	first := func(bit uint8) bool {
		ok := seen&bit == 0
		seen |= bit
		return ok
	}
	for _, line := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(line, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
			value = strings.Trim(strings.TrimSpace(value), `"`)
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store":
				cc.NoStore = true
			case "no-cache":
				cc.NoCache = true
			case "private":
				cc.Private = true
			case "public":
				cc.Public = true
			case "must-revalidate", "proxy-revalidate":
				cc.MustRevalidate = true
			case "max-age":
				if first(seenMaxAge) {
					cc.MaxAge = seconds(value)
				} else {
					cc.MaxAge = 0
				}
			case "s-maxage":
				if first(seenSMaxAge) {
					cc.SMaxAge = seconds(value)
				} else {
					cc.SMaxAge = 0
				}
			case "stale-while-revalidate":
				if first(seenSWR) {
					cc.StaleWhileRevalidate = max(0, seconds(value))
				}
			case "stale-if-error":
				if first(seenSIE) {
					cc.StaleIfError = max(0, seconds(value))
				}
			}
		}
	}
	return cc
}

// maxDeltaSeconds is what a delta-seconds value too large to represent
// counts as (RFC 9111 §1.2.2): 2^31 seconds, which as a time.Duration, even
// added to another such value, does not overflow.
const maxDeltaSeconds = 1 << 31

// Lifetime is how long a response stays fresh from now (RFC 9111 §4.2.1):
// s-maxage, else max-age, else Expires less Date, each less the Age
// header. It reports false when the response gives no explicit freshness.
func (cc CacheControl) Lifetime(h http.Header, now time.Time) (time.Duration, bool) {
	lifetime := time.Duration(-1)
	switch {
	case cc.SMaxAge >= 0:
		lifetime = time.Duration(cc.SMaxAge) * time.Second
	case cc.MaxAge >= 0:
		lifetime = time.Duration(cc.MaxAge) * time.Second
	case h.Get("Expires") != "":
		lifetime = 0 // an invalid Expires means already expired (§5.3)
		if exp, err := http.ParseTime(h.Get("Expires")); err == nil {
			date := now
			if d, err := http.ParseTime(h.Get("Date")); err == nil {
				date = d
			}
			lifetime = max(0, exp.Sub(date))
		}
	}
	if lifetime < 0 {
		return 0, false
	}
	if age := seconds(h.Get("Age")); age > 0 {
		lifetime -= time.Duration(age) * time.Second
	}
	return lifetime, true
}

// seconds parses a delta-seconds value, or returns -1.
func seconds(s string) int {
	n, err := strconv.Atoi(s)
	if errors.Is(err, strconv.ErrRange) && n > 0 {
		return maxDeltaSeconds
	}
	if err != nil || n < 0 {
		return -1
	}
	return min(n, maxDeltaSeconds)
}

// VaryNames returns the header names a response's Vary lists, in
// canonical form, sorted and without duplicates. star reports a Vary of
// "*", which no request can match.
func VaryNames(h http.Header) (names []string, star bool) {
	for _, line := range h.Values("Vary") {
		for name := range strings.SplitSeq(line, ",") {
			name = strings.TrimSpace(name)
			switch {
			case name == "":
			case name == "*":
				return nil, true
			default:
				names = append(names, textproto.CanonicalMIMEHeaderKey(name))
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names), false
}
