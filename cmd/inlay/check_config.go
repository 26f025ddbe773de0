package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/inlayhq/inlay/cmd/inlay/checkfragment"
	"github.com/inlayhq/inlay/composer/config"
)

// applyServiceSettings judges the fragment by the settings of a service in
// a config file, as Inlay would fetch it: the service's timeout, the
// config's body cap, its credentials and Set-Cookie switches, and the
// shopper headers it forwards. Flags given on the command line (set) win.
// A path is resolved against the service's url, or against serviceURL
// when that is set (--service NAME=URL, a developer's local copy of the
// service). It returns a note when an absolute URL is not on the service's
// url.
func applyServiceSettings(opts *checkfragment.Options, configPath, service, serviceURL string, set map[string]bool) (string, error) {
	if configPath == "" || service == "" {
		return "", errors.New("--config and --service go together (or give --service NAME=URL)")
	}
	cfg, err := config.Load(configPath)
	if err != nil {
		return "", err
	}
	if _, ok := cfg.Services[service]; ok && serviceURL != "" {
		if err := cfg.SetServiceURL(service, serviceURL); err != nil {
			return "", fmt.Errorf("--service %s=%s: %w", service, serviceURL, err)
		}
	}
	svc, ok := cfg.Services[service]
	if !ok || svc.BaseURL == nil {
		return "", fmt.Errorf("%s has no service %q (it has: %s)", configPath, service, config.ServiceList(cfg.Services))
	}
	if !set["timeout"] {
		opts.Timeout = svc.FragmentTimeout()
	}
	if !set["max-bytes"] && cfg.MaxFragmentBytes > 0 {
		opts.MaxBytes = cfg.MaxFragmentBytes
	}
	opts.NegativeTTL = time.Duration(cfg.Cache.NegativeTTL)
	if !set["cookies"] {
		opts.Cookies = svc.Cookies.Any() || svc.Authorization
	}
	opts.CookieNames, opts.AllCookies, opts.Authorization = svc.Cookies.Names, svc.Cookies.All, svc.Authorization
	opts.NoContext = !svc.SendsContext()
	if !set["set-cookies"] {
		opts.SetCookies = svc.SetCookies
	}
	opts.Forwarded = svc.ForwardedHeaders()

	if strings.HasPrefix(opts.URL, "/") && !strings.HasPrefix(opts.URL, "//") {
		opts.URL = svc.BaseURL.String() + opts.URL
		return "", nil
	}
	if p, ok := strings.CutPrefix(opts.URL, service+":"); ok && strings.HasPrefix(p, "/") {
		opts.URL = svc.BaseURL.String() + p // the layout's SERVICE:/path form
		return "", nil
	}
	u, err := url.Parse(opts.URL)
	if err == nil && (u.Scheme != svc.BaseURL.Scheme || !strings.EqualFold(u.Host, svc.BaseURL.Host) || !strings.HasPrefix(u.Path, svc.BaseURL.Path)) {
		return fmt.Sprintf("%s is not on the url of service %s (%s): Inlay would fetch the fragment from there", opts.URL, service, svc.BaseURL), nil
	}
	return "", nil
}
