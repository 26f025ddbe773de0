package main

// The caching check of check-fragment: what Inlay's cache would do with a
// response, and which caching headers defeat it.

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/inlayhq/inlay/fragments"
	"github.com/inlayhq/inlay/fragments/contract"
)

// checkCaching warns about caching headers that defeat Inlay's cache.
// Only a 200 is ever stored, so other statuses are not judged.
func (r *checkReport) checkCaching(resp *fragments.Response, opts checkOptions) {
	if resp.Status != http.StatusOK {
		return
	}
	h := resp.Header
	cc := contract.ParseCacheControl(h)
	if len(h.Values("Cache-Control")) == 0 {
		if r.Cacheable {
			r.addFix(severityWarning, "send Cache-Control: public, max-age=N", "no Cache-Control: only Expires sets the lifetime; send Cache-Control: public, max-age=N")
		} else {
			r.addFix(severityWarning, "send Cache-Control: public, max-age=N, stale-while-revalidate=N, stale-if-error=N", "no Cache-Control: Inlay does not store this fragment and fetches it for every page view; send Cache-Control: public, max-age=N")
		}
	}
	if !opts.Cookies {
		var defeat []string
		for _, d := range []struct {
			on   bool
			name string
		}{{cc.NoStore, "no-store"}, {cc.Private, "private"}, {cc.NoCache, "no-cache"}} {
			if d.on {
				defeat = append(defeat, d.name)
			}
		}
		if len(defeat) > 0 {
			r.addFix(severityWarning, "send Cache-Control: public, max-age=N", "Cache-Control %s defeats caching: Inlay fetches this fragment for every page view; a service without cookies cannot tell shoppers apart, so send public, max-age=N (or check with --cookies if the service has cookies: true or authorization: true)",
				strings.Join(defeat, ", "))
		}
	}
	switch {
	case cc.SMaxAge == 0:
		r.addFix(severityWarning, "send s-maxage=N with N above 0", "Cache-Control s-maxage=0: the fragment is stale at once, so every page view fetches it again")
	case cc.SMaxAge < 0 && cc.MaxAge == 0:
		r.addFix(severityWarning, "send max-age=N with N above 0", "Cache-Control max-age=0: the fragment is stale at once, so every page view fetches it again")
	}
	for _, v := range varyValues(h) {
		switch {
		case v == "*":
			r.addFix(severityWarning, "name the request headers the body depends on in Vary, or none", "Vary: * defeats caching: Inlay never stores a response that varies on everything")
		case strings.EqualFold(v, "Cookie") && !opts.Cookies:
			r.addFix(severityWarning, "drop Cookie from Vary", "Vary: Cookie defeats caching: Inlay never stores it, and it sends this service no cookies anyway")
		}
	}
}

// varyValues returns the field names listed in Vary.
func varyValues(h http.Header) []string {
	var names []string
	for _, line := range h.Values("Vary") {
		for _, name := range strings.Split(line, ",") {
			if name = strings.TrimSpace(name); name != "" {
				names = append(names, name)
			}
		}
	}
	return names
}

// cacheVerdict says whether Inlay's cache would store a response and for
// how long, by the rules of fragments.storability, which it explains: "cacheable for 60s,
// stale-if-error 300s" or "not cacheable: private". credentialed is true
// when the request carried the shopper's cookies.
func cacheVerdict(status int, h http.Header, credentialed bool, now time.Time) (string, bool) {
	if status != http.StatusOK {
		return fmt.Sprintf("not cacheable: status %d (only a 200 is stored)", status), false
	}
	cc := contract.ParseCacheControl(h)
	var why []string
	for _, r := range []struct {
		on     bool
		reason string
	}{
		{cc.NoStore, "no-store"},
		{cc.NoCache, "no-cache"},
		{cc.Private, "private"},
		{len(h.Values("Set-Cookie")) > 0, "Set-Cookie"},
	} {
		if r.on {
			why = append(why, r.reason)
		}
	}
	for _, v := range varyValues(h) {
		if v == "*" || strings.EqualFold(v, "Cookie") {
			why = append(why, "Vary: "+v)
		}
	}
	if len(why) > 0 {
		return "not cacheable: " + strings.Join(why, ", "), false
	}
	if credentialed && !cc.Public && cc.SMaxAge < 0 {
		return "not cacheable: fetched with cookies, and neither public nor s-maxage", false
	}
	lifetime, ok := cc.Lifetime(h, now)
	if !ok {
		return "not cacheable: no max-age, s-maxage or Expires", false
	}
	var swr, sie time.Duration
	if !cc.MustRevalidate && cc.SMaxAge < 0 {
		swr = time.Duration(cc.StaleWhileRevalidate) * time.Second
		sie = time.Duration(cc.StaleIfError) * time.Second
	}
	if lifetime+max(swr, sie) <= 0 {
		return "not cacheable: stale on arrival", false
	}
	if lifetime < 0 { // an Age beyond the lifetime eats into the stale windows
		swr, sie, lifetime = max(0, swr+lifetime), max(0, sie+lifetime), 0
	}
	verdict := "cacheable for " + formatSeconds(lifetime)
	if swr > 0 {
		verdict += ", stale-while-revalidate " + formatSeconds(swr)
	}
	if sie > 0 {
		verdict += ", stale-if-error " + formatSeconds(sie)
	}
	return verdict, true
}

// formatSeconds writes a duration in whole seconds, as Cache-Control does.
func formatSeconds(d time.Duration) string {
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}
