package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

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
