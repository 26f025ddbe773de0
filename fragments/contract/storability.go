package contract

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Verdict is what a shared cache may do with one response: store it, and
// until when it is fresh and may be served stale; or not, and why.
type Verdict struct {
	// Store is true when the response may be stored.
	Store bool
	// Pass is true when the response is a success that may not be shared:
	// the key is then remembered as uncacheable for a while (hit-for-miss).
	Pass bool
	// Windows are when the stored response stops being fresh, and how long
	// after that it may still be served stale.
	Windows
	// Vary are the header names the response varies on (see [VaryNames]),
	// when it is stored.
	Vary []string

	now    time.Time
	status int
	why    refusal
}

// refusal is a set of reasons a response is not stored. A bit set keeps
// the verdict free of allocations on the fetch path: the words are only
// made when a person asks for them.
type refusal uint16

const (
	refusedStatus refusal = 1 << iota
	refusedNoStore
	refusedNoCache
	refusedPrivate
	refusedSetCookie
	refusedVaryStar
	refusedVaryCookie
	refusedCredentials
	refusedVaryAuthorization
	refusedNoFreshness
	refusedStale
)

// refusalWords are the reasons in the order [Verdict.String] lists them.
var refusalWords = []struct {
	bit  refusal
	word string
}{
	{refusedNoStore, "no-store"},
	{refusedNoCache, "no-cache"},
	{refusedPrivate, "private"},
	{refusedSetCookie, "Set-Cookie"},
	{refusedVaryStar, "Vary: *"},
	{refusedVaryCookie, "Vary: Cookie"},
	{refusedCredentials, "fetched with cookies, and neither public nor s-maxage"},
	{refusedVaryAuthorization, "fetched with credentials, and Vary: Authorization"},
	{refusedNoFreshness, "no max-age, s-maxage or Expires"},
	{refusedStale, "stale on arrival"},
}

// Windows are when a stored response stops being fresh, and how long
// after that it may still be served stale (RFC 5861).
type Windows struct {
	// FreshUntil ends the freshness window.
	FreshUntil time.Time
	// SWRUntil ends the stale-while-revalidate window; zero for none.
	SWRUntil time.Time
	// SIEUntil ends the stale-if-error window; zero for none.
	SIEUntil time.Time
}

// Expires is when a stored response is of no more use at all: the end of
// its freshness or of its longest stale window.
func (w Windows) Expires() time.Time {
	t := w.FreshUntil
	if w.SWRUntil.After(t) {
		t = w.SWRUntil
	}
	if w.SIEUntil.After(t) {
		t = w.SIEUntil
	}
	return t
}

// String says the verdict as a person reads it: "cacheable for 60s,
// stale-if-error 300s", or "not cacheable: private, Vary: Cookie".
func (v Verdict) String() string {
	if !v.Store {
		if v.why&refusedStatus != 0 {
			return "not cacheable: status " + strconv.Itoa(v.status) + " (only a 200, 404 or 410 is stored)"
		}
		var why []string
		for _, r := range refusalWords {
			if v.why&r.bit != 0 {
				why = append(why, r.word)
			}
		}
		return "not cacheable: " + strings.Join(why, ", ")
	}
	// An Age beyond the lifetime eats into the stale windows.
	fresh := max(0, v.FreshUntil.Sub(v.now))
	from := v.now
	if v.FreshUntil.After(from) {
		from = v.FreshUntil
	}
	verdict := "cacheable for " + formatSeconds(fresh)
	if swr := v.SWRUntil.Sub(from); !v.SWRUntil.IsZero() && swr > 0 {
		verdict += ", stale-while-revalidate " + formatSeconds(swr)
	}
	if sie := v.SIEUntil.Sub(from); !v.SIEUntil.IsZero() && sie > 0 {
		verdict += ", stale-if-error " + formatSeconds(sie)
	}
	return verdict
}

// formatSeconds writes a duration in whole seconds, as Cache-Control does.
func formatSeconds(d time.Duration) string {
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

// Storability says whether a response may be stored by a shared cache
// (RFC 9111 §3) and for how long (§4.2), with the RFC 5861 stale windows.
// credentialed is true when the request carried the shopper's credentials
// (a Cookie or Authorization header); now is when the response arrived.
//
// Only a 200, 404 or 410 is stored. A response is never stored when it
// says no-store, no-cache or private, sets a cookie, or varies on * or on
// Cookie (one variant per shopper). One fetched with credentials is stored
// only when it says public or s-maxage, and never when it varies on
// Authorization. A 200 needs explicit freshness (s-maxage, max-age or
// Expires, less Age). A 404 or 410 without it is kept for negativeTTL, so
// that a burst of requests for a missing fragment costs one fetch. Only a
// 200 without must-revalidate or s-maxage (which implies
// proxy-revalidate, §5.2.2.10) may be served stale. A response whose every
// window has passed on arrival is not stored.
func Storability(status int, h http.Header, credentialed bool, now time.Time, negativeTTL time.Duration) Verdict {
	v := Verdict{now: now, status: status}
	negative := status == http.StatusNotFound || status == http.StatusGone
	if status != http.StatusOK && !negative {
		v.why = refusedStatus
		return v
	}
	success := status == http.StatusOK
	cc := ParseCacheControl(h)
	vary, star := VaryNames(h)
	v.why = flag(cc.NoStore, refusedNoStore) | flag(cc.NoCache, refusedNoCache) | flag(cc.Private, refusedPrivate) |
		flag(len(h["Set-Cookie"]) > 0, refusedSetCookie) | flag(star, refusedVaryStar) |
		flag(slices.Contains(vary, "Cookie"), refusedVaryCookie)
	if v.why != 0 {
		v.Pass = success
		return v
	}
	if credentialed {
		// Fetched with one shopper's credentials: shared only when the
		// service says it may be, and never as one variant per shopper.
		v.why = flag(!cc.Public && cc.SMaxAge < 0, refusedCredentials) | flag(slices.Contains(vary, "Authorization"), refusedVaryAuthorization)
		if v.why != 0 {
			v.Pass = success
			return v
		}
	}
	lifetime, ok := cc.Lifetime(h, now)
	if !ok {
		if !negative || negativeTTL <= 0 {
			v.why, v.Pass = refusedNoFreshness, success // no explicit freshness: not shared
			return v
		}
		lifetime = negativeTTL
	}
	v.FreshUntil = now.Add(lifetime)
	if !cc.MustRevalidate && cc.SMaxAge < 0 && success {
		v.SWRUntil = v.FreshUntil.Add(time.Duration(cc.StaleWhileRevalidate) * time.Second)
		v.SIEUntil = v.FreshUntil.Add(time.Duration(cc.StaleIfError) * time.Second)
	}
	if !v.Expires().After(now) {
		v.why = refusedStale
		return v
	}
	v.Store, v.Vary = true, vary
	return v
}

// flag returns bit when on is true.
func flag(on bool, bit refusal) refusal {
	if on {
		return bit
	}
	return 0
}
