package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/inlayhq/inlay/composer"
	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/fragments"
	"golang.org/x/net/html"
)

// Limits check-fragment warns about. They are advice, not Inlay's limits.
const (
	// largeFragmentBytes is the body size from which a fragment is called large.
	largeFragmentBytes = 256 << 10
	// slowFraction is the share of its timeout a fragment may take before
	// it is called slow.
	slowFraction = 0.5
)

// checkOptions configure one check-fragment run.
type checkOptions struct {
	// URL is the fragment's absolute http(s) URL.
	URL string
	// ID is sent as X-Inlay-Fragment.
	ID string
	// Primary checks the fragment as a page's primary: any status below 500
	// is allowed, and so is Set-Cookie.
	Primary bool
	// Cookies checks the fragment as one of a service with cookies: true
	// or authorization: true: per-shopper caching headers are expected, and
	// the cache verdict is the one for a request that carried the shopper's
	// credentials. No credentials are sent.
	Cookies bool
	// SetCookies checks the fragment as one of a service with
	// set_cookies: true, whose non-primary fragments may set cookies.
	SetCookies bool
	// Timeout is the fragment's deadline, from connect to the last body byte.
	Timeout time.Duration
	// MaxBytes is the body cap, after decompression.
	MaxBytes int64
}

// checkProblem is one thing wrong with a fragment. Line and Col locate
// problems in the body, when they are about markup.
type checkProblem struct {
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Line     int    `json:"line,omitempty"`
	Col      int    `json:"col,omitempty"`
}

func (p checkProblem) severity() string { return p.Severity }

// String formats the problem as one "error: ..." or "warning: ..." line.
func (p checkProblem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s: body %d:%d: %s", p.Severity, p.Line, p.Col, p.Message)
	}
	return p.Severity + ": " + p.Message
}

// checkAsset is an asset the fragment declared in its Link header.
type checkAsset struct {
	Kind string `json:"kind"`
	URL  string `json:"url"`
}

// checkReport is the outcome of a check: the JSON output, and the source
// of the text output.
type checkReport struct {
	URL         string         `json:"url"`
	RequestID   string         `json:"request_id"`
	Status      int            `json:"status"` // 0 when no response came
	ContentType string         `json:"content_type"`
	Bytes       int            `json:"bytes"` // body bytes read, before any repair; at most max-bytes+1
	DurationMS  float64        `json:"duration_ms"`
	TimeoutMS   float64        `json:"timeout_ms"`
	Cacheable   bool           `json:"cacheable"`
	Cache       string         `json:"cache"` // the cache verdict, as in the summary line
	Assets      []checkAsset   `json:"assets"`
	Problems    []checkProblem `json:"problems"`
	Errors      int            `json:"errors"`
	Warnings    int            `json:"warnings"`

	duration time.Duration
	timeout  time.Duration
	size     string // the body size as the summary shows it
}

func (r *checkReport) add(severity string, format string, args ...any) {
	r.Problems = append(r.Problems, checkProblem{Severity: severity, Message: fmt.Sprintf(format, args...)})
}

func checkFragmentCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check-fragment", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: inlay check-fragment [flags] URL\n\n"+
			"Fetches a fragment as Inlay would and reports contract problems.\n"+
			"Exit status: 0 when fine, 1 on errors (or on warnings with --strict), 2 on bad usage.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	opts := checkOptions{}
	fs.StringVar(&opts.ID, "id", "check", "fragment `id` sent as X-Inlay-Fragment")
	fs.BoolVar(&opts.Primary, "primary", false, "check it as the page's primary fragment (any status below 500, Set-Cookie allowed)")
	fs.BoolVar(&opts.Cookies, "cookies", false, "check it as a fragment of a service that gets the shopper's credentials (cookies: true or authorization: true): per-shopper responses expected")
	fs.BoolVar(&opts.SetCookies, "set-cookies", false, "check it as a fragment of a service with set_cookies: true (Set-Cookie allowed)")
	fs.DurationVar(&opts.Timeout, "timeout", config.DefaultServiceTimeout, "the fragment's `timeout`, as its layout or service sets it")
	fs.Int64Var(&opts.MaxBytes, "max-bytes", fragments.DefaultMaxBodyBytes, "body cap in `bytes`, as max_fragment_bytes in the config")
	format := fs.String("format", "text", "output `format`: text or json")
	strict := fs.Bool("strict", false, "exit 1 on warnings too")

	// Flags may come before or after the URL.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch {
	case len(positional) != 1:
		fmt.Fprintln(stderr, "inlay check-fragment: give exactly one fragment URL")
		fs.Usage()
		return 2
	case *format != "text" && *format != "json":
		fmt.Fprintf(stderr, "inlay check-fragment: unknown format %q: use text or json\n", *format)
		return 2
	case opts.Timeout <= 0 || opts.Timeout > composer.MaxFragmentTimeout:
		fmt.Fprintf(stderr, "inlay check-fragment: --timeout must be above 0 and at most %s\n", composer.MaxFragmentTimeout)
		return 2
	case opts.MaxBytes <= 0:
		fmt.Fprintln(stderr, "inlay check-fragment: --max-bytes must be above 0")
		return 2
	}
	opts.URL = positional[0]
	if u, err := url.Parse(opts.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(stderr, "inlay check-fragment: %q is not an absolute http(s) URL\n", opts.URL)
		return 2
	}

	rep := checkFragment(ctx, opts)
	if *format == "json" {
		if err := writeJSON(stdout, rep); err != nil {
			fmt.Fprintf(stderr, "inlay check-fragment: %v\n", err)
			return 1
		}
	} else {
		for _, p := range rep.Problems {
			fmt.Fprintln(stdout, p)
		}
		fmt.Fprintln(stdout, rep.summary())
	}
	if rep.Errors > 0 || *strict && rep.Warnings > 0 {
		return 1
	}
	return 0
}

// summary is the last line of the text output.
func (r *checkReport) summary() string {
	status := "no response"
	if r.Status != 0 {
		status = "status " + strconv.Itoa(r.Status)
	}
	ctype := r.ContentType
	if ctype == "" {
		ctype = "no content type"
	}
	assets := "no assets"
	if len(r.Assets) > 0 {
		parts := make([]string, len(r.Assets))
		for i, a := range r.Assets {
			parts[i] = a.Kind + " " + a.URL
		}
		assets = "assets: " + strings.Join(parts, ", ")
	}
	return fmt.Sprintf("summary: %s | %s | %s | %s of %s timeout | %s | %s | %s, %s",
		status, ctype, r.size, formatDuration(r.duration), r.timeout, r.Cache, assets,
		plural(r.Errors, "error"), plural(r.Warnings, "warning"))
}

// formatDuration rounds a measured duration for reading.
func formatDuration(d time.Duration) string {
	if d >= time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Microsecond).String()
}

// observation is what one fetch of a fragment showed.
type observation struct {
	// Resp is what the fragments.Client returned; nil when it failed.
	Resp *fragments.Response
	// Err is the client's error, if any.
	Err error
	// Status and Header are the response's as received, also when the
	// client rejected it (a 5xx, a wrong content type); zero and nil when
	// no response came at all.
	Status int
	Header http.Header
	// Raw holds the body bytes the client read, before it dropped a BOM
	// or repaired invalid UTF-8.
	Raw []byte
	// Duration is the fetch's time from the request to the last body byte.
	Duration time.Duration
}

// checkFragment fetches the fragment once, exactly as Inlay's client does,
// and judges the response against the fragment contract.
func checkFragment(ctx context.Context, opts checkOptions) *checkReport {
	id := newRequestID()
	obs := fetchFragment(ctx, opts, id)
	rep := analyze(obs, opts, time.Now())
	rep.RequestID = id
	return rep
}

// fetchFragment GETs the fragment with a fragments.Client over
// fragments.NewTransport, with the headers Inlay sends to every fragment
// of a shopper without cookies. A recording transport keeps the raw
// response beside what the client makes of it, so that one request shows
// both: no second GET that could answer differently.
func fetchFragment(ctx context.Context, opts checkOptions, requestID string) observation {
	transport := fragments.NewTransport()
	defer transport.CloseIdleConnections()
	rec := &recorder{next: transport, limit: opts.MaxBytes + 1}
	client := &fragments.Client{Transport: rec, MaxBodyBytes: opts.MaxBytes}
	start := time.Now()
	resp, err := client.Fetch(ctx, &fragments.Request{
		ID:      opts.ID,
		Service: "check",
		URL:     opts.URL,
		Fields: []fragments.Field{
			{Name: "Accept", Values: []string{"text/html"}},
			{Name: composer.HeaderRequestID, Values: []string{requestID}},
			{Name: composer.HeaderFragmentID, Values: []string{opts.ID}},
		},
		Timeout: opts.Timeout,
	})
	obs := observation{Resp: resp, Err: err, Duration: time.Since(start), Raw: rec.body.Bytes()}
	if rec.resp != nil {
		obs.Status, obs.Header = rec.resp.StatusCode, rec.resp.Header
	}
	return obs
}

// recorder is a RoundTripper that keeps the one response it carries and
// the raw body bytes read from it, as the client reads them.
type recorder struct {
	next  http.RoundTripper
	limit int64 // body bytes kept at most

	resp *http.Response
	body bytes.Buffer
}

// RoundTrip passes req on and records the response.
func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	r.resp = resp
	resp.Body = &recordingBody{ReadCloser: resp.Body, r: r}
	return resp, nil
}

// recordingBody copies what is read from a body into its recorder.
type recordingBody struct {
	io.ReadCloser
	r *recorder
}

func (b *recordingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if keep := b.r.limit - int64(b.r.body.Len()); keep > 0 {
		b.r.body.Write(p[:min(int64(n), keep)])
	}
	return n, err
}

// analyze judges one observation against the fragment contract.
func analyze(obs observation, opts checkOptions, now time.Time) *checkReport {
	rep := &checkReport{
		URL:        opts.URL,
		Status:     obs.Status,
		Bytes:      len(obs.Raw),
		DurationMS: float64(obs.Duration.Microseconds()) / 1000,
		TimeoutMS:  float64(opts.Timeout.Microseconds()) / 1000,
		Assets:     []checkAsset{},
		Problems:   []checkProblem{},
		duration:   obs.Duration,
		timeout:    opts.Timeout,
		size:       fmt.Sprintf("%d bytes", len(obs.Raw)),
	}
	if obs.Header != nil {
		rep.ContentType = obs.Header.Get("Content-Type")
		for _, a := range fragments.ParseAssets(obs.Header) {
			rep.Assets = append(rep.Assets, checkAsset{Kind: assetKindName(a.Kind), URL: a.URL})
		}
	}
	var refused *fragments.Error
	if errors.As(obs.Err, &refused) && refused.Kind == fragments.KindMarkup && obs.Header != nil {
		// The response came whole, and Inlay refuses its body: judge it
		// like any other, with the refusal as one more error, so that the
		// body's own problems show where they are.
		obs.Resp = &fragments.Response{Status: obs.Status, Header: obs.Header, Body: obs.Raw, Assets: fragments.ParseAssets(obs.Header)}
		obs.Err = nil
		if bodyPlaced(obs.Status, opts.Primary) {
			rep.add(severityError, "Inlay refuses this body: %v: %s", refused.Err, consequence(opts, false))
		}
	}
	if obs.Err != nil {
		rep.Cache = "not cacheable: the fetch failed"
		if fragments.KindOf(obs.Err) == fragments.KindTooLarge {
			rep.size = fmt.Sprintf("over %d bytes", opts.MaxBytes)
		}
		rep.fetchFailed(obs, opts)
	} else {
		rep.Cache, rep.Cacheable = cacheVerdict(obs.Status, obs.Header, opts.Cookies, now)
		rep.checkStatus(obs.Resp, opts)
		rep.checkCookies(obs.Resp, opts)
		rep.checkCaching(obs.Resp, opts)
		if bodyPlaced(obs.Status, opts.Primary) {
			rep.checkBody(obs, opts)
		}
		if float64(obs.Duration) > slowFraction*float64(opts.Timeout) {
			rep.add(severityWarning, "took %s, more than half its %s timeout: under load it will time out and show its fallback",
				formatDuration(obs.Duration), opts.Timeout)
		}
	}
	rep.Errors, rep.Warnings = countSeverities(rep.Problems)
	return rep
}

// bodyPlaced reports whether a response's body would go on the page: a
// non-primary's 200 or 204, and a primary's answer unless it redirects.
func bodyPlaced(status int, primary bool) bool {
	if primary {
		return status < 300 || status >= 400
	}
	return status == http.StatusOK || status == http.StatusNoContent
}

// consequence says what a failure of the fragment does to a page.
func consequence(opts checkOptions, timeout bool) string {
	switch {
	case !opts.Primary:
		return "its box would show its fallback"
	case timeout:
		return "the page would be a 504 error page unless a stale copy or fallback-src rescues it"
	}
	return "the page would be a 502 error page unless a stale copy or fallback-src rescues it"
}

// fetchFailed reports a fetch the client rejected.
func (r *checkReport) fetchFailed(obs observation, opts checkOptions) {
	var fe *fragments.Error
	if !errors.As(obs.Err, &fe) {
		r.add(severityError, "fetch failed: %v", obs.Err)
		return
	}
	cause := ""
	if fe.Err != nil {
		cause = ": " + fe.Err.Error()
	}
	switch fe.Kind {
	case fragments.KindTimeout:
		r.add(severityError, "fetch failed: no complete response within the %s timeout: %s", opts.Timeout, consequence(opts, true))
	case fragments.KindConnect:
		r.add(severityError, "fetch failed: cannot connect%s: %s", cause, consequence(opts, false))
	case fragments.KindStatus:
		r.add(severityError, "fetch failed: status %d: a 5xx is a failure and counts against the service's circuit breaker: %s", fe.Status, consequence(opts, false))
	case fragments.KindTooLarge:
		r.add(severityError, "fetch failed: the body is larger than %d bytes (max_fragment_bytes, --max-bytes): %s", opts.MaxBytes, consequence(opts, false))
	case fragments.KindContentType:
		r.add(severityError, "fetch failed: status 200 with content type %q: a fragment must be text/html: %s", obs.Header.Get("Content-Type"), consequence(opts, false))
	case fragments.KindBody:
		r.add(severityError, "fetch failed: reading the body%s: %s", cause, consequence(opts, false))
	case fragments.KindCanceled:
		r.add(severityError, "fetch canceled before the response was complete")
	default:
		r.add(severityError, "fetch failed: %v", obs.Err)
	}
}

// checkStatus applies the status rules: a non-primary must answer 200 or
// 204; a primary passes any status below 500 to the page.
func (r *checkReport) checkStatus(resp *fragments.Response, opts checkOptions) {
	status := resp.Status
	if !opts.Primary {
		switch {
		case status == http.StatusOK || status == http.StatusNoContent:
		case status >= 300 && status < 400:
			r.add(severityError, "status %d: redirects are never followed, and a non-primary fragment must answer 200 or 204: %s", status, consequence(opts, false))
		default:
			r.add(severityError, "status %d: a non-primary fragment must answer 200 or 204: %s", status, consequence(opts, false))
		}
		return
	}
	switch {
	case status >= 300 && status < 400:
		loc := resp.Header.Get("Location")
		switch {
		case loc == "":
			r.add(severityError, "status %d without a Location header: the page would be a 502 error page", status)
		case strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") && !strings.ContainsAny(loc, "\r\n\x00\\"):
			// A local path: passed on as it is.
		case absoluteHTTP(loc):
			r.add(severityWarning, "status %d with absolute Location %q: it passes only when its host is the shop's own host, else the page is a 502 error page; prefer a local path", status, loc)
		default:
			r.add(severityError, "status %d with Location %q: only a local path or an http(s) URL on the shop's own host passes; the page would be a 502 error page", status, loc)
		}
	case status == http.StatusNoContent:
		r.add(severityWarning, "status 204 on a primary: the whole page would be an empty 204")
	case status != http.StatusOK && !isHTML(resp.Header.Get("Content-Type")):
		r.add(severityWarning, "status %d with content type %q: a primary's body is placed on the page as HTML", status, resp.Header.Get("Content-Type"))
	}
}

// absoluteHTTP reports whether loc is an absolute http(s) URL without user
// info or characters that a Location may not carry.
func absoluteHTTP(loc string) bool {
	if strings.ContainsAny(loc, "\r\n\x00\\") {
		return false
	}
	u, err := url.Parse(loc)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil
}

// checkCookies reports Set-Cookie, which only the primary may send, unless
// its service has set_cookies: true.
func (r *checkReport) checkCookies(resp *fragments.Response, opts checkOptions) {
	switch {
	case len(resp.Header.Values("Set-Cookie")) == 0 || opts.Primary:
	case opts.SetCookies:
		r.add(severityWarning, "Set-Cookie on a non-primary fragment reaches the shopper only when the fragment has answered before the page's headers leave, and it makes the fragment uncacheable")
	default:
		r.add(severityError, "Set-Cookie on a non-primary fragment: Inlay drops it (only the primary's cookies reach the shopper, unless the service has set_cookies: true), and it makes the fragment uncacheable; set cookies from the primary or a gateway route")
	}
}

// checkCaching warns about caching headers that defeat Inlay's cache.
// Only a 200 is ever stored, so other statuses are not judged.
func (r *checkReport) checkCaching(resp *fragments.Response, opts checkOptions) {
	if resp.Status != http.StatusOK {
		return
	}
	h := resp.Header
	cc := fragments.ParseCacheControl(h)
	if len(h.Values("Cache-Control")) == 0 {
		if r.Cacheable {
			r.add(severityWarning, "no Cache-Control: only Expires sets the lifetime; send Cache-Control: public, max-age=N")
		} else {
			r.add(severityWarning, "no Cache-Control: Inlay does not store this fragment and fetches it for every page view; send Cache-Control: public, max-age=N")
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
			r.add(severityWarning, "Cache-Control %s defeats caching: Inlay fetches this fragment for every page view; a service without cookies cannot tell shoppers apart, so send public, max-age=N (or check with --cookies if the service has cookies: true or authorization: true)",
				strings.Join(defeat, ", "))
		}
	}
	switch {
	case cc.SMaxAge == 0:
		r.add(severityWarning, "Cache-Control s-maxage=0: the fragment is stale at once, so every page view fetches it again")
	case cc.SMaxAge < 0 && cc.MaxAge == 0:
		r.add(severityWarning, "Cache-Control max-age=0: the fragment is stale at once, so every page view fetches it again")
	}
	for _, v := range varyValues(h) {
		switch {
		case v == "*":
			r.add(severityWarning, "Vary: * defeats caching: Inlay never stores a response that varies on everything")
		case strings.EqualFold(v, "Cookie") && !opts.Cookies:
			r.add(severityWarning, "Vary: Cookie defeats caching: Inlay never stores it, and it sends this service no cookies anyway")
		}
	}
}

// checkBody checks the body Inlay would place: its encoding, size and markup.
func (r *checkReport) checkBody(obs observation, opts checkOptions) {
	raw := obs.Raw
	if bytes.HasPrefix(raw, []byte("\uFEFF")) {
		r.add(severityWarning, "the body starts with a byte order mark: Inlay drops it; save the template without one")
		raw = raw[3:]
	}
	if !utf8.Valid(raw) {
		r.add(severityWarning, "the body is not valid UTF-8 (first bad byte at offset %d): Inlay replaces each bad byte with U+FFFD", firstInvalid(raw))
	}
	if len(obs.Raw) > largeFragmentBytes {
		r.add(severityWarning, "the body is %d bytes, more than %d: a large fragment delays the page it is on", len(obs.Raw), largeFragmentBytes)
	}
	if len(obs.Resp.Body) == 0 {
		return
	}
	hc := checkHTML(obs.Resp.Body)
	r.Problems = append(r.Problems, hc.problems...)
	stylesheets := hc.stylesheets
	for _, a := range obs.Resp.Assets {
		if a.Kind == fragments.Stylesheet {
			stylesheets = true
		}
	}
	if hc.classAt.line > 0 && !stylesheets {
		r.Problems = append(r.Problems, checkProblem{Severity: severityWarning, Line: hc.classAt.line, Col: hc.classAt.col,
			Message: "the markup uses class attributes but no Link header declares a stylesheet: declare the team's CSS with Link: </path/to.css>; rel=stylesheet (ignore this if the page's own CSS styles it)"})
	}
}

func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		c, size := utf8.DecodeRune(b[i:])
		if c == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

func isHTML(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "text/html"
}

func assetKindName(k fragments.AssetKind) string {
	switch k {
	case fragments.Stylesheet:
		return "stylesheet"
	case fragments.ModuleScript:
		return "modulepreload"
	case fragments.Script:
		return "script"
	}
	return "unknown"
}

// newRequestID returns a random X-Request-Id, in the form Inlay makes them.
func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
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
	cc := fragments.ParseCacheControl(h)
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

// maxMarkupProblems caps the markup problems reported for one body.
const maxMarkupProblems = 10

// htmlCheck is what checkHTML found in a fragment body.
type htmlCheck struct {
	problems []checkProblem
	// classAt is where the first class attribute is; zero when none.
	classAt position
	// stylesheets is true when the body links or embeds CSS itself.
	stylesheets bool
}

// position is a 1-based line and column in a body, the column in characters.
type position struct{ line, col int }

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

var (
	// voidElements never have content or an end tag.
	voidElements = setOf("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr")
	// optionalEnd are the elements whose end tag may be left out (HTML
	// §13.1.2.4): the next sibling of certain kinds, or the end of the
	// parent, closes them. html, head and body are reported separately.
	optionalEnd = setOf("li", "dt", "dd", "p", "rt", "rp", "optgroup", "option", "colgroup", "thead", "tbody", "tfoot", "tr", "td", "th")
	// closesP are the start tags that close an open <p>.
	closesP = setOf("address", "article", "aside", "blockquote", "details", "dialog", "div", "dl", "fieldset",
		"figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup",
		"hr", "main", "menu", "nav", "ol", "p", "pre", "search", "section", "table", "ul")
	tableSections = setOf("thead", "tbody", "tfoot")
)

// endsOptional reports whether a start tag named next ends an open element
// whose end tag is optional.
func endsOptional(open, next string) bool {
	switch open {
	case "p":
		return closesP[next]
	case "li":
		return next == "li"
	case "dt", "dd":
		return next == "dt" || next == "dd"
	case "rt", "rp":
		return next == "rt" || next == "rp"
	case "option":
		return next == "option" || next == "optgroup" || next == "hr"
	case "optgroup":
		return next == "optgroup" || next == "hr"
	case "colgroup":
		return next != "col" && next != "template"
	case "tr":
		return next == "tr" || tableSections[next]
	case "td", "th":
		return next == "td" || next == "th" || next == "tr" || tableSections[next]
	case "thead", "tbody":
		return next == "tbody" || next == "tfoot"
	}
	return false
}

// openElement is an element whose end tag is still to come.
type openElement struct {
	name string
	at   int // offset of its start tag
}

// markupChecker follows a fragment body's elements on a stack.
type markupChecker struct {
	data  []byte
	lines []int // offsets at which lines start
	stack []openElement
	out   htmlCheck

	reported   int  // markup problems reported
	suppressed int  // problems past maxMarkupProblems
	document   bool // the full-document problem was reported
	inline     bool // the inline-script warning was reported
	handler    bool // the event-handler warning was reported
	linkTag    bool // the <link rel=stylesheet> warning was reported
}

// checkHTML tokenizes a fragment body with golang.org/x/net/html and
// reports what would break the page around it: elements left open or
// closed out of order (void elements and optional end tags as HTML allows
// them are fine), a non-void element written as <x/>, a whole document,
// and <fragment> or ESI tags, which Inlay never processes. It warns about
// inline scripts and event handlers, which the page's CSP blocks on pages
// with async boxes, and about <link rel=stylesheet> in the body.
func checkHTML(body []byte) htmlCheck {
	c := &markupChecker{data: body, lines: lineOffsets(body)}
	z := html.NewTokenizer(bytes.NewReader(body))
	offset := 0
	for {
		z.AllowCDATA(c.inForeign())
		tt := z.Next()
		start := offset
		offset += len(z.Raw())
		switch tt {
		case html.ErrorToken:
			if err := z.Err(); err != io.EOF {
				c.problem(severityError, start, "reading the markup: %v", err)
			}
			c.finish()
			if c.suppressed > 0 {
				c.out.problems = append(c.out.problems, checkProblem{Severity: severityError,
					Message: fmt.Sprintf("and %d more markup problems", c.suppressed)})
			}
			return c.out
		case html.DoctypeToken:
			c.fullDocument(start)
		case html.StartTagToken, html.SelfClosingTagToken:
			c.startTag(z, start, tt == html.SelfClosingTagToken)
		case html.EndTagToken:
			name, _ := z.TagName()
			c.endTag(string(name), start)
		}
	}
}

func (c *markupChecker) problem(severity string, offset int, format string, args ...any) {
	if c.reported >= maxMarkupProblems {
		c.suppressed++
		return
	}
	c.reported++
	p := c.position(offset)
	c.out.problems = append(c.out.problems, checkProblem{Severity: severity, Message: fmt.Sprintf(format, args...), Line: p.line, Col: p.col})
}

// inForeign reports whether the checker is inside <svg> or <math>, where
// any element may close itself with "/>".
func (c *markupChecker) inForeign() bool {
	for _, e := range c.stack {
		if e.name == "svg" || e.name == "math" {
			return true
		}
	}
	return false
}

func (c *markupChecker) fullDocument(offset int) {
	if c.document {
		return
	}
	c.document = true
	c.problem(severityError, offset, "a whole document (<!DOCTYPE>, <html>, <head> or <body>) in a fragment: Inlay places the body inside the page's <body> as it is; send only the box's markup")
}

func (c *markupChecker) startTag(z *html.Tokenizer, offset int, selfClosing bool) {
	nameBytes, hasAttr := z.TagName()
	name := string(nameBytes)
	var typ, rel string
	var hasSrc bool
	for hasAttr {
		var k, v []byte
		k, v, hasAttr = z.TagAttr()
		key := string(k)
		switch {
		case key == "class" && c.out.classAt.line == 0:
			c.out.classAt = c.position(offset)
		case key == "src":
			hasSrc = true
		case key == "type":
			typ = strings.ToLower(string(v))
		case key == "rel":
			rel = strings.ToLower(string(v))
		case len(key) > 2 && strings.HasPrefix(key, "on") && !c.handler:
			c.handler = true
			c.problem(severityWarning, offset, "inline event handler %s= on <%s>: the page's Content-Security-Policy blocks it on pages with async boxes; attach handlers from a script declared in a Link header", key, name)
		}
	}
	switch {
	case name == "html" || name == "head" || name == "body":
		c.fullDocument(offset)
		return
	case name == "fragment":
		c.problem(severityError, offset, "<fragment> inside a fragment is never processed: Inlay does not scan fragment bodies, so it reaches the browser as an unknown element; ask for a slot in the layout instead")
		return
	case strings.HasPrefix(name, "esi:"):
		c.problem(severityError, offset, "<%s> is never processed: Inlay does not do ESI and does not scan fragment bodies, so it reaches the browser as it is", name)
		return
	case name == "script" && !hasSrc && !strings.Contains(typ, "json") && !c.inline:
		c.inline = true
		c.problem(severityWarning, offset, "inline <script>: the page's Content-Security-Policy blocks it on pages with async boxes; declare scripts in a Link header (rel=script or rel=modulepreload), which Inlay writes with the page's nonce")
	case name == "style":
		c.out.stylesheets = true
	case name == "link" && strings.Contains(" "+rel+" ", " stylesheet "):
		c.out.stylesheets = true
		if !c.linkTag {
			c.linkTag = true
			c.problem(severityWarning, offset, "<link rel=stylesheet> in the body: declare it in a Link response header instead, so that Inlay places it once per page, before the first fragment that needs it")
		}
	}
	foreign := c.inForeign()
	if selfClosing && !voidElements[name] {
		if !foreign && name != "svg" && name != "math" {
			c.problem(severityError, offset, `<%s/>: "/>" does not close a <%s> in HTML, so everything after it ends up inside it; write <%s></%s>`, name, name, name, name)
		}
		return
	}
	if !foreign {
		c.closeImplied(name)
	}
	if !voidElements[name] {
		c.stack = append(c.stack, openElement{name: name, at: offset})
	}
}

// closeImplied pops the open elements a start tag named next closes
// implicitly: those with optional end tags that next ends, and those above
// them, which the end of their parent closes.
func (c *markupChecker) closeImplied(next string) {
	for {
		found := -1
		for j := len(c.stack) - 1; j >= 0 && optionalEnd[c.stack[j].name]; j-- {
			if endsOptional(c.stack[j].name, next) {
				found = j
				break
			}
		}
		if found < 0 {
			return
		}
		c.stack = c.stack[:found]
	}
}

func (c *markupChecker) endTag(name string, offset int) {
	switch {
	case name == "html" || name == "head" || name == "body":
		c.fullDocument(offset)
		return
	case name == "fragment" || strings.HasPrefix(name, "esi:"):
		return // reported at the start tag
	case voidElements[name]:
		c.problem(severityError, offset, "stray </%s>: <%s> is a void element and has no end tag", name, name)
		return
	}
	j := len(c.stack) - 1
	for j >= 0 && c.stack[j].name != name {
		j--
	}
	if j < 0 {
		if name == "p" {
			c.problem(severityError, offset, "stray </p>: no <p> is open; a block element such as <div> or <ul> inside a <p> closes the <p> before it")
		} else {
			c.problem(severityError, offset, "stray </%s>: no <%s> is open", name, name)
		}
		return
	}
	end := c.position(offset)
	for k := j + 1; k < len(c.stack); k++ {
		if e := c.stack[k]; !optionalEnd[e.name] {
			c.problem(severityError, e.at, "<%s> is not closed before </%s> at %d:%d", e.name, name, end.line, end.col)
		}
	}
	c.stack = c.stack[:j]
}

// finish reports the elements still open at the end of the body.
func (c *markupChecker) finish() {
	for _, e := range c.stack {
		if !optionalEnd[e.name] {
			c.problem(severityError, e.at, "<%s> is never closed", e.name)
		}
	}
	c.stack = nil
}

// lineOffsets returns the offset at which each line of data starts.
func lineOffsets(data []byte) []int {
	starts := []int{0}
	for i, b := range data {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

func (c *markupChecker) position(offset int) position {
	i := sort.Search(len(c.lines), func(i int) bool { return c.lines[i] > offset }) - 1
	return position{line: i + 1, col: utf8.RuneCount(c.data[c.lines[i]:offset]) + 1}
}
