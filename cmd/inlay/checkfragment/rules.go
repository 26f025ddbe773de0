package checkfragment

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/inlayhq/inlay/composer/config"

	"github.com/inlayhq/inlay/fragments/contract"
	"github.com/inlayhq/inlay/fragments/fetch"
	"github.com/inlayhq/inlay/fragments/transport"
)

// analyze judges one observation against the fragment contract.
func analyze(obs observation, opts Options, now time.Time) *Report {
	rep := &Report{
		URL:        opts.URL,
		Status:     obs.Status,
		Bytes:      len(obs.Raw),
		DurationMS: float64(obs.Duration.Microseconds()) / 1000,
		TimeoutMS:  float64(opts.Timeout.Microseconds()) / 1000,
		Assets:     []Asset{},
		Problems:   []config.Problem{},
		duration:   obs.Duration,
		timeout:    opts.Timeout,
		size:       fmt.Sprintf("%d bytes", len(obs.Raw)),
	}
	if obs.Header != nil {
		rep.ContentType = obs.Header.Get("Content-Type")
		for _, a := range contract.ParseAssets(obs.Header) {
			rep.Assets = append(rep.Assets, Asset{Kind: assetKindName(a.Kind), URL: a.URL})
		}
	}
	var refused *fetch.Error
	if errors.As(obs.Err, &refused) && refused.Kind == fetch.KindMarkup && obs.Header != nil {
		// The response came whole, and Inlay refuses its body: judge it
		// like any other, so that the body's own problems show where they
		// are, and say that Inlay refuses it.
		obs.Resp = &fetch.Response{Status: obs.Status, Header: obs.Header, Body: obs.Raw, Assets: contract.ParseAssets(obs.Header)}
		obs.Err = nil
	} else {
		refused = nil
	}
	if obs.Err != nil {
		rep.Cache = "not cacheable: the fetch failed"
		kind := fetch.KindOf(obs.Err)
		truncated := kind == fetch.KindTooLarge || int64(len(obs.Raw)) > opts.MaxBytes
		if truncated {
			// The size comes first: a body over the cap is refused
			// whatever its content type, and what was read of it is only
			// its start, whose markup means nothing.
			rep.size = fmt.Sprintf("over %d bytes", opts.MaxBytes)
			if kind != fetch.KindTooLarge {
				rep.fetchFailed(observation{Err: &fetch.Error{Kind: fetch.KindTooLarge}, Header: obs.Header}, opts)
			}
		}
		rep.fetchFailed(obs, opts)
		// A response Inlay rejects may have more wrong with it: report
		// everything it shows, so that one round of fixes is enough.
		if obs.Header != nil {
			resp := &fetch.Response{Status: obs.Status, Header: obs.Header, Body: obs.Raw}
			rep.checkCookies(resp, opts)
			if kind == fetch.KindContentType || kind == fetch.KindTooLarge {
				rep.checkCaching(resp, opts)
			}
			if kind == fetch.KindContentType && len(obs.Raw) > 0 && !truncated {
				obs.Resp = &fetch.Response{Status: obs.Status, Header: obs.Header, Body: contract.CleanBody(obs.Raw)}
				rep.checkBody(obs, opts)
			}
		}
	} else if refused != nil {
		rep.Cache = "not cacheable: Inlay refuses the body"
		rep.checkStatus(obs.Resp, opts)
		rep.checkCookies(obs.Resp, opts)
		rep.checkCaching(obs.Resp, opts)
		if bodyPlaced(obs.Status, opts.Primary) {
			rep.checkBody(obs, opts)
			rep.refusedBody(refused, opts)
		}
	} else {
		v := contract.Storability(obs.Status, obs.Header, opts.Cookies, now, negativeTTL(opts))
		rep.Cache, rep.Cacheable = v.String(), v.Store
		rep.checkStatus(obs.Resp, opts)
		rep.checkCookies(obs.Resp, opts)
		rep.checkCaching(obs.Resp, opts)
		if bodyPlaced(obs.Status, opts.Primary) {
			rep.checkBody(obs, opts)
		}
		if float64(obs.Duration) > slowFraction*float64(opts.Timeout) {
			rep.addFix(config.SeverityWarning, "answer faster, cache it (Cache-Control), or raise its timeout", "took %s, more than half its %s timeout: under load it will time out and show its fallback",
				formatDuration(obs.Duration), opts.Timeout)
		}
	}
	rep.count()
	return rep
}

// refusedBody says that Inlay refuses a body for its markup. When the
// markup check found the same mistake at its line and column, that
// finding says so; otherwise the refusal is an error of its own.
func (r *Report) refusedBody(refused *fetch.Error, opts Options) {
	why := "Inlay refuses this body: " + consequence(opts, false)
	for i, p := range r.Problems {
		if p.Severity == config.SeverityError && p.Line > 0 && strings.Contains(refused.Err.Error(), p.Message) {
			r.Problems[i].Message += ": " + why
			return
		}
	}
	r.addFix(config.SeverityError, "make the body close what it opens (comments, raw-text elements, templates, selects, tables, foreign content), so nothing after the box is swallowed", "Inlay refuses this body: %v: %s", refused.Err, consequence(opts, false))
}

// bodyPlaced reports whether a response's body would go on the page: a
// non-primary's when its status fills the box, and a primary's answer
// unless it redirects.
func bodyPlaced(status int, primary bool) bool {
	if primary {
		return !contract.IsRedirect(status)
	}
	return contract.FillsBox(status)
}

// consequence says what a failure of the fragment does to a page.
func consequence(opts Options, timeout bool) string {
	switch {
	case !opts.Primary:
		return "its box would show its fallback"
	case timeout:
		return "the page would be a 504 error page unless a stale copy or fallback-src rescues it"
	}
	return "the page would be a 502 error page unless a stale copy or fallback-src rescues it"
}

// fetchFailed reports a fetch the client rejected.
func (r *Report) fetchFailed(obs observation, opts Options) {
	var fe *fetch.Error
	if !errors.As(obs.Err, &fe) {
		r.addFix(config.SeverityError, "make the URL answer a GET with status 200 and text/html", "fetch failed: %v", obs.Err)
		return
	}
	cause := ""
	if fe.Err != nil {
		cause = ": " + fe.Err.Error()
	}
	switch fe.Kind {
	case fetch.KindTimeout:
		r.addFix(config.SeverityError, "answer faster, or raise the fragment's timeout attribute or the service's timeout", "fetch failed: no complete response within the %s timeout: %s", opts.Timeout, consequence(opts, true))
	case fetch.KindConnect:
		r.addFix(config.SeverityError, "check the service is running and that the URL's host and port are right", "fetch failed: cannot connect%s: %s", cause, consequence(opts, false))
	case fetch.KindStatus:
		r.addFix(config.SeverityError, "fix the error in the service; answer 200 with text/html", "fetch failed: status %d: a 5xx is a failure and counts against the service's circuit breaker: %s", fe.Status, consequence(opts, false))
	case fetch.KindTooLarge:
		r.addFix(config.SeverityError, "send less markup, or split the box into several fragments", "fetch failed: the body is larger than %d bytes (max_fragment_bytes, --max-bytes): %s", opts.MaxBytes, consequence(opts, false))
	case fetch.KindContentType:
		r.addFix(config.SeverityError, "send Content-Type: text/html; charset=utf-8", "fetch failed: status 200 with content type %q: a fragment must be text/html: %s", obs.Header.Get("Content-Type"), consequence(opts, false))
	case fetch.KindBody:
		if errors.Is(fe.Err, transport.ErrMalformedHead) {
			r.addFix(config.SeverityError, "send an HTTP/1.1 status line and header fields of name: value, one per line, with one Content-Length or Transfer-Encoding: chunked", "fetch failed: Inlay cannot read the response head%s: %s", cause, consequence(opts, false))
			break
		}
		r.addFix(config.SeverityError, "send the whole body, with a correct Content-Length", "fetch failed: reading the body%s: %s", cause, consequence(opts, false))
	case fetch.KindCanceled:
		r.addFix(config.SeverityError, "run the check again", "fetch canceled before the response was complete")
	default:
		r.addFix(config.SeverityError, "make the URL answer a GET with status 200 and text/html", "fetch failed: %v", obs.Err)
	}
}

// checkStatus applies the status rules: a non-primary must answer 200 or
// 204; a primary passes any status below 500 to the page.
func (r *Report) checkStatus(resp *fetch.Response, opts Options) {
	status := resp.Status
	if !opts.Primary {
		switch {
		case contract.FillsBox(status):
		case contract.IsRedirect(status):
			r.addFix(config.SeverityError, "answer the fragment's own URL with 200; only a primary may redirect", "status %d: redirects are never followed, and a non-primary fragment must answer 200 or 204: %s", status, consequence(opts, false))
		default:
			r.addFix(config.SeverityError, "answer 200 with the markup, or 204 for an empty box", "status %d: a non-primary fragment must answer 200 or 204: %s", status, consequence(opts, false))
		}
		return
	}
	page, ok := contract.PageStatus(status)
	switch {
	case !ok:
		r.addFix(config.SeverityError, "answer 200 with the page's main markup", "status %d on a primary is no answer to a page: the page would be a 502 error page", status)
	case contract.IsRedirect(status):
		loc := resp.Header.Get("Location")
		_, host, ok := contract.ParseLocation(loc)
		switch {
		case loc == "":
			r.addFix(config.SeverityError, "add a Location header", "status %d without a Location header: the page would be a 502 error page", status)
		case ok && host == "":
			// A local path: passed on as it is.
		case ok:
			r.addFix(config.SeverityWarning, "send a local path, like Location: /basket", "status %d with absolute Location %q: it passes only when its host is the shop's own host, else the page is a 502 error page; prefer a local path", status, loc)
		default:
			r.addFix(config.SeverityError, "send a local path, like Location: /basket", "status %d with Location %q: only a local path or an http(s) URL on the shop's own host passes; the page would be a 502 error page", status, loc)
		}
	case page != status:
		r.addFix(config.SeverityWarning, "answer 200 with the page's main markup", "status %d on a primary: the page would be a %d with an empty main box", status, page)
	case status != http.StatusOK && !contract.IsHTML(resp.Header.Get("Content-Type")):
		r.addFix(config.SeverityWarning, "send Content-Type: text/html; charset=utf-8", "status %d with content type %q: a primary's body is placed on the page as HTML", status, resp.Header.Get("Content-Type"))
	}
}

// checkCookies reports Set-Cookie, which only the primary may send, unless
// its service has set_cookies: true.
func (r *Report) checkCookies(resp *fetch.Response, opts Options) {
	switch {
	case len(resp.Header.Values("Set-Cookie")) == 0 || opts.Primary:
	case opts.SetCookies:
		r.addFix(config.SeverityWarning, "set cookies from the primary fragment or a gateway route", "Set-Cookie on a non-primary fragment reaches the shopper only when the fragment has answered before the page's headers leave, and it makes the fragment uncacheable")
	default:
		r.addFix(config.SeverityError, "set cookies from the primary fragment or a gateway route", "Set-Cookie on a non-primary fragment: Inlay drops it (only the primary's cookies reach the shopper, unless the service has set_cookies: true), and it makes the fragment uncacheable; set cookies from the primary or a gateway route")
	}
}

// checkBody checks the body Inlay would place: its encoding, size and markup.
func (r *Report) checkBody(obs observation, opts Options) {
	raw := obs.Raw
	if bytes.HasPrefix(raw, []byte("\uFEFF")) {
		r.addFix(config.SeverityWarning, "save the template without a byte order mark", "the body starts with a byte order mark: Inlay drops it; save the template without one")
		raw = raw[3:]
	}
	if !utf8.Valid(raw) {
		r.addFix(config.SeverityWarning, "send UTF-8 text", "the body is not valid UTF-8 (first bad byte at offset %d): Inlay replaces each bad byte with U+FFFD", contract.InvalidUTF8At(raw))
	}
	if len(obs.Raw) > largeFragmentBytes && int64(len(obs.Raw)) <= opts.MaxBytes {
		r.addFix(config.SeverityWarning, "send less markup, or load the rest with an async fragment", "the body is %d bytes, more than %d: a large fragment delays the page it is on", len(obs.Raw), largeFragmentBytes)
	}
	if len(obs.Resp.Body) == 0 {
		return
	}
	hc := checkHTML(obs.Resp.Body)
	r.Problems = append(r.Problems, hc.problems...)
	stylesheets := hc.stylesheets
	for _, a := range obs.Resp.Assets {
		if a.Kind == contract.Stylesheet {
			stylesheets = true
		}
	}
	if hc.classAt.line > 0 && !stylesheets {
		r.Problems = append(r.Problems, config.Problem{Severity: config.SeverityWarning, Line: hc.classAt.line, Col: hc.classAt.col,
			Message: "the markup uses class attributes but no Link header declares a stylesheet (ignore this if the page's own CSS styles it)",
			Fix:     "send Link: </path/to.css>; rel=stylesheet"})
	}
}

func assetKindName(k contract.AssetKind) string {
	switch k {
	case contract.Stylesheet:
		return "stylesheet"
	case contract.ModuleScript:
		return "modulepreload"
	case contract.Script:
		return "script"
	}
	return "unknown"
}
