package checkfragment

// The caching check of check-fragment: what Inlay's cache would do with a
// response, and which caching headers defeat it.

import (
	"net/http"
	"slices"
	"strings"

	"github.com/inlayhq/inlay/composer/config"

	"github.com/inlayhq/inlay/fragments/contract"
	"github.com/inlayhq/inlay/fragments/fetch"
)

// checkCaching warns about caching headers that defeat Inlay's cache.
// Only a 200's are judged: it is the response a box shows.
func (r *Report) checkCaching(resp *fetch.Response, opts Options) {
	if resp.Status != http.StatusOK {
		return
	}
	h := resp.Header
	cc := contract.ParseCacheControl(h)
	if len(h.Values("Cache-Control")) == 0 {
		if r.Cacheable {
			r.addFix(config.SeverityWarning, "send Cache-Control: public, max-age=N", "no Cache-Control: only Expires sets the lifetime; send Cache-Control: public, max-age=N")
		} else {
			r.addFix(config.SeverityWarning, "send Cache-Control: public, max-age=N, stale-while-revalidate=N, stale-if-error=N", "no Cache-Control: Inlay does not store this fragment and fetches it for every page view; send Cache-Control: public, max-age=N")
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
			r.addFix(config.SeverityWarning, "send Cache-Control: public, max-age=N", "Cache-Control %s defeats caching: Inlay fetches this fragment for every page view; a service without cookies cannot tell shoppers apart, so send public, max-age=N (or check with --cookies if the service has cookies: true or authorization: true)",
				strings.Join(defeat, ", "))
		}
	}
	switch {
	case cc.SMaxAge == 0:
		r.addFix(config.SeverityWarning, "send s-maxage=N with N above 0", "Cache-Control s-maxage=0: the fragment is stale at once, so every page view fetches it again")
	case cc.SMaxAge < 0 && cc.MaxAge == 0:
		r.addFix(config.SeverityWarning, "send max-age=N with N above 0", "Cache-Control max-age=0: the fragment is stale at once, so every page view fetches it again")
	}
	names, star := contract.VaryNames(h)
	if star {
		r.addFix(config.SeverityWarning, "name the request headers the body depends on in Vary, or none", "Vary: * defeats caching: Inlay never stores a response that varies on everything")
	}
	if slices.Contains(names, "Cookie") && !opts.Cookies {
		r.addFix(config.SeverityWarning, "drop Cookie from Vary", "Vary: Cookie defeats caching: Inlay never stores it, and it sends this service no cookies anyway")
	}
}
