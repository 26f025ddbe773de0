package checkfragment

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/fragments/cache"
)

// Limits check-fragment warns about. They are advice, not Inlay's limits.
const (
	// largeFragmentBytes is the body size from which a fragment is called large.
	largeFragmentBytes = 256 << 10
	// slowFraction is the share of its timeout a fragment may take before
	// it is called slow.
	slowFraction = 0.5
)

// Options configure one check-fragment run.
type Options struct {
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
	// credentials. The fragment is also fetched as two synthetic shoppers,
	// with the credentials CookieNames, AllCookies and Authorization say
	// the service gets (all three unset: both kinds), and a body that
	// differs between them in a response Inlay would share is an error.
	Cookies bool
	// CookieNames are the cookies the service gets (cookies: [names]);
	// each synthetic shopper sends each of them with its own value.
	CookieNames []string
	// AllCookies means the service gets every cookie (cookies: true): the
	// synthetic shoppers send a few common session cookie names, since
	// the one the service reads is not known.
	AllCookies bool
	// Authorization means the service gets the Authorization header
	// (authorization: true): each synthetic shopper sends a bearer token
	// of its own.
	Authorization bool
	// NoContext leaves out the page context headers, for a service with
	// context: false. Otherwise every fetch carries X-Inlay-Page-Path,
	// X-Inlay-Page-Route and X-Inlay-Base-URL as Inlay sends them, and the
	// Vary check sends each (and X-Inlay-Route-Params) with two different
	// values.
	NoContext bool
	// SetCookies checks the fragment as one of a service with
	// set_cookies: true, whose non-primary fragments may set cookies.
	SetCookies bool
	// Timeout is the fragment's deadline, from connect to the last body byte.
	Timeout time.Duration
	// MaxBytes is the body cap, after decompression.
	MaxBytes int64
	// NegativeTTL is how long Inlay's cache keeps a 404 or 410 without
	// caching headers of its own (cache.negative_ttl). Zero means
	// cache.DefaultNegativeTTL; negative means it is not kept.
	NegativeTTL time.Duration
	// Forwarded are the shopper headers Inlay forwards to the service:
	// the Vary check sends each with different values.
	Forwarded []string
}

// textLine formats a problem as one "error: ..." or "warning: ..." line;
// Line and Col, when set, locate it in the body.
func textLine(p config.Problem) string {
	if p.Line > 0 {
		return fmt.Sprintf("%s: body %d:%d: %s", p.Severity, p.Line, p.Col, p.Message)
	}
	return p.Severity + ": " + p.Message
}

// Asset is an asset the fragment declared in its Link header.
type Asset struct {
	Kind string `json:"kind"`
	URL  string `json:"url"`
}

// Report is the outcome of a check: the JSON output, and the source
// of the text output.
type Report struct {
	URL         string           `json:"url"`
	RequestID   string           `json:"request_id"`
	Status      int              `json:"status"` // 0 when no response came
	ContentType string           `json:"content_type"`
	Bytes       int              `json:"bytes"` // body bytes read, before any repair; at most max-bytes+1
	DurationMS  float64          `json:"duration_ms"`
	TimeoutMS   float64          `json:"timeout_ms"`
	Cacheable   bool             `json:"cacheable"`
	Cache       string           `json:"cache"` // the cache verdict, as in the summary line
	Assets      []Asset          `json:"assets"`
	Problems    []config.Problem `json:"problems"`
	Errors      int              `json:"errors"`
	Warnings    int              `json:"warnings"`

	duration time.Duration
	timeout  time.Duration
	size     string // the body size as the summary shows it
}

// Warn adds a warning with its short fix, for what the caller knows
// beyond the fetch (such as a URL off its service's url).
func (r *Report) Warn(fix, message string) {
	r.addFix(config.SeverityWarning, fix, "%s", message)
	r.count()
}

// count recounts the errors and warnings.
func (r *Report) count() {
	r.Errors, r.Warnings = 0, 0
	for _, p := range r.Problems {
		if p.Severity == config.SeverityError {
			r.Errors++
		} else {
			r.Warnings++
		}
	}
}

// WriteText writes the report as check-fragment prints it: each problem
// with its fix, then the summary line.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, p := range r.Problems {
		b.WriteString(textLine(p) + "\n")
		if p.Fix != "" {
			b.WriteString("    fix: " + p.Fix + "\n")
		}
	}
	b.WriteString(r.summary() + "\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}

// addFix adds a problem with its short fix.
func (r *Report) addFix(severity, fix string, format string, args ...any) {
	r.Problems = append(r.Problems, config.Problem{Severity: severity, Message: fmt.Sprintf(format, args...), Fix: fix})
}

// summary is the last line of the text output.
func (r *Report) summary() string {
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
		count(r.Errors, "error"), count(r.Warnings, "warning"))
}

// count formats a count with its noun: "1 error", "2 errors".
func count(n int, noun string) string {
	s := strconv.Itoa(n) + " " + noun
	if n != 1 {
		s += "s"
	}
	return s
}

// formatDuration rounds a measured duration for reading.
func formatDuration(d time.Duration) string {
	if d >= time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Microsecond).String()
}

// Check fetches the fragment once, exactly as Inlay's client does, and
// judges the response against the fragment contract (package contract).
// When the response is cacheable, it fetches it again with different
// values of each forwarded header and page context header, to find what
// Vary should name. For a service that gets the shopper's credentials, it
// fetches it as two synthetic shoppers, to find a per-shopper body marked
// shareable.
func Check(ctx context.Context, opts Options) *Report {
	id := newRequestID()
	obs := fetchFragment(ctx, opts, id, nil)
	rep := analyze(obs, opts, time.Now())
	rep.RequestID = id
	if obs.Err == nil && opts.Cookies {
		rep.checkShoppers(ctx, opts)
		rep.count()
	}
	if obs.Err == nil && rep.Cacheable {
		rep.checkVary(ctx, opts, obs)
		rep.count()
	}
	return rep
}

// negativeTTL is how long Inlay's cache keeps a 404 or 410 without caching
// headers of its own, as opts says.
func negativeTTL(opts Options) time.Duration {
	if opts.NegativeTTL == 0 {
		return cache.DefaultNegativeTTL
	}
	return opts.NegativeTTL
}
