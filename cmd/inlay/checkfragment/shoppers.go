package checkfragment

import (
	"bytes"
	"context"
	"github.com/inlayhq/inlay/composer/config"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/inlayhq/inlay/fragments/contract"
)

// The shoppers check. A service that gets the shopper's cookies or
// Authorization may answer each shopper with a body of their own; marked
// public (or with s-maxage), that body is one Inlay's cache may store and
// show to every other shopper, as RFC 9111 allows. check-fragment fetches
// the fragment as two synthetic shoppers and compares their bodies.

// sessionCookies are the cookie names a synthetic shopper sends to a
// service that gets every cookie (cookies: true), whose own session
// cookie's name is not known: the usual names of web frameworks' session
// cookies.
var sessionCookies = []string{"session", "sessionid", "session_id", "sid", "JSESSIONID", "PHPSESSID", "connect.sid", "_session", "token", "auth", "user", "user_id"}

// shopperHeader returns the credentials a synthetic shopper sends, all
// with the value id: a Cookie header with each cookie the service gets,
// and a bearer token when it gets Authorization. It also says what they
// are, for the report.
func shopperHeader(opts Options, id string) (http.Header, string) {
	names, all, auth := opts.CookieNames, opts.AllCookies, opts.Authorization
	if len(names) == 0 && !all && !auth {
		all, auth = true, true // not said: try both kinds
	}
	if all {
		names = append(slices.Clone(names), sessionCookies...)
	}
	h := http.Header{}
	var what []string
	if len(names) > 0 {
		pairs := make([]string, len(names))
		for i, n := range names {
			pairs[i] = n + "=" + id
		}
		h.Set("Cookie", strings.Join(pairs, "; "))
		what = append(what, "cookie values")
	}
	if auth {
		h.Set("Authorization", "Bearer "+id)
		what = append(what, "bearer tokens")
	}
	return h, strings.Join(what, " and ")
}

// checkShoppers fetches the fragment as two synthetic shoppers, each with
// credentials of its own, and reports an error when a response Inlay would
// share (judged as for a request with credentials) has a body or status
// that differs between them. A difference that the same shopper sees
// twice as well (a timestamp, a random pick) is not reported: the Vary
// check warns about such bodies.
func (r *Report) checkShoppers(ctx context.Context, opts Options) {
	a, b := "inlay-check-shopper-a-"+newRequestID()[:8], "inlay-check-shopper-b-"+newRequestID()[:8]
	ha, what := shopperHeader(opts, a)
	hb, _ := shopperHeader(opts, b)
	obsA := fetchFragment(ctx, opts, newRequestID(), ha)
	obsB := fetchFragment(ctx, opts, newRequestID(), hb)
	if obsA.Err != nil || obsB.Err != nil || sameAnswer(obsA, obsB) {
		return
	}
	now := time.Now()
	var shared *observation
	for _, o := range []*observation{&obsA, &obsB} {
		if contract.Storability(o.Status, o.Header, true, now, negativeTTL(opts)).Store {
			shared = o
			break
		}
	}
	if shared == nil {
		return
	}
	if again := fetchFragment(ctx, opts, newRequestID(), ha); again.Err != nil || !sameAnswer(again, obsA) {
		return
	}
	r.addFix(config.SeverityError, "send Cache-Control: private or no-store on per-shopper responses (or make the body the same for every shopper)",
		"the body differs between two shoppers (two different %s), yet the response is marked shareable (Cache-Control: %s): Inlay's cache would store one shopper's body and show it to every other shopper",
		what, strings.Join(shared.Header.Values("Cache-Control"), ", "))
}

// sameAnswer reports whether two fetches got the same status and body.
func sameAnswer(a, b observation) bool {
	return a.Status == b.Status && bytes.Equal(a.Raw, b.Raw)
}
