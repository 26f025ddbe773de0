package main

// The check-fragment command: its flags and wiring. The check itself is
// package checkfragment's.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/inlayhq/inlay/cmd/inlay/checkfragment"
	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/composer/layout"
	"github.com/inlayhq/inlay/fragments/contract"
)

// withScheme takes a URL typed without its scheme, like
// 127.0.0.1:3000/search/fragments/featured, as http://; a path or a URL
// with a scheme is returned as it is.
func withScheme(u string) string {
	if u == "" || strings.HasPrefix(u, "/") || strings.Contains(u, "://") {
		return u
	}
	return "http://" + u
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
	opts := checkfragment.Options{}
	fs.StringVar(&opts.ID, "id", "check", "fragment `id` sent as X-Inlay-Fragment")
	fs.BoolVar(&opts.Primary, "primary", false, "check it as the page's primary fragment (any status below 500, Set-Cookie allowed)")
	fs.BoolVar(&opts.Cookies, "cookies", false, "check it as a fragment of a service that gets the shopper's credentials (cookies: true or authorization: true): per-shopper responses expected")
	fs.BoolVar(&opts.SetCookies, "set-cookies", false, "check it as a fragment of a service with set_cookies: true (Set-Cookie allowed)")
	fs.DurationVar(&opts.Timeout, "timeout", config.DefaultServiceTimeout, "the fragment's `timeout`, as its layout or service sets it")
	fs.Int64Var(&opts.MaxBytes, "max-bytes", contract.DefaultMaxBodyBytes, "body cap in `bytes`, as max_fragment_bytes in the config")
	format := fs.String("format", "text", "output `format`: text or json")
	strict := fs.Bool("strict", false, "exit 1 on warnings too")
	configPath := fs.String("config", "", "judge the fragment by the settings of a service in this config `file` (with --service)")
	service := fs.String("service", "", "the fragment's service: `NAME` in --config, or NAME=URL as in inlay dev (its local URL; with --config, NAME's settings at that URL); the fragment URL may then be a path, like /search/fragments/featured")

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
	case opts.Timeout <= 0 || opts.Timeout > layout.MaxFragmentTimeout:
		fmt.Fprintf(stderr, "inlay check-fragment: --timeout must be above 0 and at most %s\n", layout.MaxFragmentTimeout)
		return 2
	case opts.MaxBytes <= 0:
		fmt.Fprintln(stderr, "inlay check-fragment: --max-bytes must be above 0")
		return 2
	}
	opts.URL = withScheme(positional[0])
	opts.Forwarded = config.DefaultForwardedHeaders
	name, serviceURL, hasURL := strings.Cut(*service, "=")
	var originNote string
	switch {
	case hasURL && (name == "" || serviceURL == ""):
		fmt.Fprintf(stderr, "inlay check-fragment: --service wants NAME or NAME=URL, like search=http://127.0.0.1:3000, got %q\n", *service)
		return 2
	case *configPath != "" || *service != "" && !hasURL:
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		note, err := applyServiceSettings(&opts, *configPath, name, withScheme(serviceURL), set)
		if err != nil {
			fmt.Fprintf(stderr, "inlay check-fragment: %v\n", err)
			return 2
		}
		originNote = note
	case hasURL && strings.HasPrefix(opts.URL, "/") && !strings.HasPrefix(opts.URL, "//"):
		opts.URL = strings.TrimSuffix(withScheme(serviceURL), "/") + opts.URL
	}
	if u, err := url.Parse(opts.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(stderr, "inlay check-fragment: %q is not an absolute http(s) URL (or a path, with --config and --service)\n", opts.URL)
		return 2
	}

	rep := checkfragment.Check(ctx, opts)
	if originNote != "" {
		rep.Warn("check the fragment at the service's own url, or fix the service's url in the config", originNote)
	}
	write := rep.WriteText
	if *format == "json" {
		write = func(w io.Writer) error { return writeJSON(w, rep) }
	}
	if err := write(stdout); err != nil {
		fmt.Fprintf(stderr, "inlay check-fragment: %v\n", err)
		return 1
	}
	if rep.Errors > 0 || *strict && rep.Warnings > 0 {
		return 1
	}
	return 0
}
