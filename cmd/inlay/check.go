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
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/inlayhq/inlay/composer"
	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/fragments"
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
	// Forwarded are the shopper headers Inlay forwards to the service:
	// the Vary check sends each with different values. Nil means Inlay's
	// default, Accept-Language and User-Agent.
	Forwarded []string
}

// checkProblem is one thing wrong with a fragment. Line and Col locate
// problems in the body, when they are about markup.
type checkProblem struct {
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Line     int    `json:"line,omitempty"`
	Col      int    `json:"col,omitempty"`
	// Fix says in a few words what makes the problem go away.
	Fix string `json:"fix"`
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

// addFix adds a problem with its short fix.
func (r *checkReport) addFix(severity, fix string, format string, args ...any) {
	r.Problems = append(r.Problems, checkProblem{Severity: severity, Message: fmt.Sprintf(format, args...), Fix: fix})
}

func checkFragmentCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check-fragment", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: inlay check-fragment [flags] URL\n       inlay check-fragment --config FILE --service NAME PATH-OR-URL\n\n"+
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
	configPath := fs.String("config", "", "judge the fragment by the settings of a service in this config `file` (with --service)")
	service := fs.String("service", "", "the `name` of the fragment's service in --config; the URL may then be a path, like /search/fragments/featured")

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
	var originNote string
	if *configPath != "" || *service != "" {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		note, err := applyServiceSettings(&opts, *configPath, *service, set)
		if err != nil {
			fmt.Fprintf(stderr, "inlay check-fragment: %v\n", err)
			return 2
		}
		originNote = note
	}
	if u, err := url.Parse(opts.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(stderr, "inlay check-fragment: %q is not an absolute http(s) URL (or a path, with --config and --service)\n", opts.URL)
		return 2
	}

	rep := checkFragment(ctx, opts)
	if originNote != "" {
		rep.addFix(severityWarning, "check the fragment at the service's own url, or fix the service's url in the config", "%s", originNote)
		rep.Errors, rep.Warnings = countSeverities(rep.Problems)
	}
	if *format == "json" {
		if err := writeJSON(stdout, rep); err != nil {
			fmt.Fprintf(stderr, "inlay check-fragment: %v\n", err)
			return 1
		}
	} else {
		for _, p := range rep.Problems {
			fmt.Fprintln(stdout, p)
			if p.Fix != "" {
				fmt.Fprintln(stdout, "    fix: "+p.Fix)
			}
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
	obs := fetchFragment(ctx, opts, id, nil)
	rep := analyze(obs, opts, time.Now())
	rep.RequestID = id
	if obs.Err == nil && rep.Cacheable {
		rep.checkVary(ctx, opts, obs)
		rep.Errors, rep.Warnings = countSeverities(rep.Problems)
	}
	return rep
}

// fetchFragment GETs the fragment with a fragments.Client over
// fragments.NewTransport, with the headers Inlay sends to every fragment
// of a shopper without cookies. A recording transport keeps the raw
// response beside what the client makes of it, so that one request shows
// both: no second GET that could answer differently.
func fetchFragment(ctx context.Context, opts checkOptions, requestID string, extra http.Header) observation {
	transport := fragments.NewTransport()
	defer transport.CloseIdleConnections()
	rec := &recorder{next: transport, limit: opts.MaxBytes + 1}
	client := &fragments.Client{Transport: rec, MaxBodyBytes: opts.MaxBytes}
	fields := []fragments.Field{
		{Name: "Accept", Values: []string{"text/html"}},
		{Name: composer.HeaderRequestID, Values: []string{requestID}},
		{Name: composer.HeaderFragmentID, Values: []string{opts.ID}},
	}
	for name, values := range extra {
		fields = append(fields, fragments.Field{Name: http.CanonicalHeaderKey(name), Values: values})
	}
	start := time.Now()
	resp, err := client.Fetch(ctx, &fragments.Request{
		ID:      opts.ID,
		Service: "check",
		URL:     opts.URL,
		Fields:  fields,
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

// Close keeps the rest of a body the client did not read (it rejects a
// wrong content type without reading), up to the limit, so that the check
// can judge the markup too, then closes it.
func (b *recordingBody) Close() error {
	if keep := b.r.limit - int64(b.r.body.Len()); keep > 0 {
		_, _ = io.Copy(&b.r.body, io.LimitReader(b.ReadCloser, keep))
	}
	return b.ReadCloser.Close()
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
			rep.addFix(severityError, "make the body close what it opens (comments, raw-text elements, templates, selects, tables, foreign content), so nothing after the box is swallowed", "Inlay refuses this body: %v: %s", refused.Err, consequence(opts, false))
		}
	}
	if obs.Err != nil {
		rep.Cache = "not cacheable: the fetch failed"
		kind := fragments.KindOf(obs.Err)
		if kind == fragments.KindTooLarge {
			rep.size = fmt.Sprintf("over %d bytes", opts.MaxBytes)
		}
		rep.fetchFailed(obs, opts)
		// A response Inlay rejects may have more wrong with it: report
		// everything it shows, so that one round of fixes is enough.
		if obs.Header != nil {
			resp := &fragments.Response{Status: obs.Status, Header: obs.Header, Body: obs.Raw}
			rep.checkCookies(resp, opts)
			if kind == fragments.KindContentType || kind == fragments.KindTooLarge {
				rep.checkCaching(resp, opts)
			}
			if kind == fragments.KindContentType && len(obs.Raw) > 0 {
				body := bytes.TrimPrefix(obs.Raw, []byte("\uFEFF"))
				obs.Resp = &fragments.Response{Status: obs.Status, Header: obs.Header, Body: bytes.ToValidUTF8(body, []byte("\uFFFD"))}
				rep.checkBody(obs, opts)
			}
		}
	} else {
		rep.Cache, rep.Cacheable = cacheVerdict(obs.Status, obs.Header, opts.Cookies, now)
		rep.checkStatus(obs.Resp, opts)
		rep.checkCookies(obs.Resp, opts)
		rep.checkCaching(obs.Resp, opts)
		if bodyPlaced(obs.Status, opts.Primary) {
			rep.checkBody(obs, opts)
		}
		if float64(obs.Duration) > slowFraction*float64(opts.Timeout) {
			rep.addFix(severityWarning, "answer faster, cache it (Cache-Control), or raise its timeout", "took %s, more than half its %s timeout: under load it will time out and show its fallback",
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
		r.addFix(severityError, "make the URL answer a GET with status 200 and text/html", "fetch failed: %v", obs.Err)
		return
	}
	cause := ""
	if fe.Err != nil {
		cause = ": " + fe.Err.Error()
	}
	switch fe.Kind {
	case fragments.KindTimeout:
		r.addFix(severityError, "answer faster, or raise the fragment's timeout attribute or the service's timeout", "fetch failed: no complete response within the %s timeout: %s", opts.Timeout, consequence(opts, true))
	case fragments.KindConnect:
		r.addFix(severityError, "check the service is running and that the URL's host and port are right", "fetch failed: cannot connect%s: %s", cause, consequence(opts, false))
	case fragments.KindStatus:
		r.addFix(severityError, "fix the error in the service; answer 200 with text/html", "fetch failed: status %d: a 5xx is a failure and counts against the service's circuit breaker: %s", fe.Status, consequence(opts, false))
	case fragments.KindTooLarge:
		r.addFix(severityError, "send less markup, or split the box into several fragments", "fetch failed: the body is larger than %d bytes (max_fragment_bytes, --max-bytes): %s", opts.MaxBytes, consequence(opts, false))
	case fragments.KindContentType:
		r.addFix(severityError, "send Content-Type: text/html; charset=utf-8", "fetch failed: status 200 with content type %q: a fragment must be text/html: %s", obs.Header.Get("Content-Type"), consequence(opts, false))
	case fragments.KindBody:
		r.addFix(severityError, "send the whole body, with a correct Content-Length", "fetch failed: reading the body%s: %s", cause, consequence(opts, false))
	case fragments.KindCanceled:
		r.addFix(severityError, "run the check again", "fetch canceled before the response was complete")
	default:
		r.addFix(severityError, "make the URL answer a GET with status 200 and text/html", "fetch failed: %v", obs.Err)
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
			r.addFix(severityError, "answer the fragment's own URL with 200; only a primary may redirect", "status %d: redirects are never followed, and a non-primary fragment must answer 200 or 204: %s", status, consequence(opts, false))
		default:
			r.addFix(severityError, "answer 200 with the markup, or 204 for an empty box", "status %d: a non-primary fragment must answer 200 or 204: %s", status, consequence(opts, false))
		}
		return
	}
	switch {
	case status >= 300 && status < 400:
		loc := resp.Header.Get("Location")
		switch {
		case loc == "":
			r.addFix(severityError, "add a Location header", "status %d without a Location header: the page would be a 502 error page", status)
		case strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") && !strings.ContainsAny(loc, "\r\n\x00\\"):
			// A local path: passed on as it is.
		case absoluteHTTP(loc):
			r.addFix(severityWarning, "send a local path, like Location: /basket", "status %d with absolute Location %q: it passes only when its host is the shop's own host, else the page is a 502 error page; prefer a local path", status, loc)
		default:
			r.addFix(severityError, "send a local path, like Location: /basket", "status %d with Location %q: only a local path or an http(s) URL on the shop's own host passes; the page would be a 502 error page", status, loc)
		}
	case status == http.StatusNoContent:
		r.addFix(severityWarning, "answer 200 with the page's main markup", "status 204 on a primary: the whole page would be an empty 204")
	case status != http.StatusOK && !isHTML(resp.Header.Get("Content-Type")):
		r.addFix(severityWarning, "send Content-Type: text/html; charset=utf-8", "status %d with content type %q: a primary's body is placed on the page as HTML", status, resp.Header.Get("Content-Type"))
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
		r.addFix(severityWarning, "set cookies from the primary fragment or a gateway route", "Set-Cookie on a non-primary fragment reaches the shopper only when the fragment has answered before the page's headers leave, and it makes the fragment uncacheable")
	default:
		r.addFix(severityError, "set cookies from the primary fragment or a gateway route", "Set-Cookie on a non-primary fragment: Inlay drops it (only the primary's cookies reach the shopper, unless the service has set_cookies: true), and it makes the fragment uncacheable; set cookies from the primary or a gateway route")
	}
}

// checkBody checks the body Inlay would place: its encoding, size and markup.
func (r *checkReport) checkBody(obs observation, opts checkOptions) {
	raw := obs.Raw
	if bytes.HasPrefix(raw, []byte("\uFEFF")) {
		r.addFix(severityWarning, "save the template without a byte order mark", "the body starts with a byte order mark: Inlay drops it; save the template without one")
		raw = raw[3:]
	}
	if !utf8.Valid(raw) {
		r.addFix(severityWarning, "send UTF-8 text", "the body is not valid UTF-8 (first bad byte at offset %d): Inlay replaces each bad byte with U+FFFD", firstInvalid(raw))
	}
	if len(obs.Raw) > largeFragmentBytes {
		r.addFix(severityWarning, "send less markup, or load the rest with an async fragment", "the body is %d bytes, more than %d: a large fragment delays the page it is on", len(obs.Raw), largeFragmentBytes)
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
			Message: "the markup uses class attributes but no Link header declares a stylesheet (ignore this if the page's own CSS styles it)",
			Fix:     "send Link: </path/to.css>; rel=stylesheet"})
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
