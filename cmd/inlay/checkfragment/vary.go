package checkfragment

import (
	"bytes"
	"context"
	"github.com/inlayhq/inlay/composer/config"
	"net/http"
	"slices"
	"strings"

	"github.com/inlayhq/inlay/fragments/contract"
)

// The Vary check. Inlay's cache key is the service and URL plus only the
// request headers the response's Vary names (Accept-Language normalised to
// its first tag). A header it does not name never splits the cache, so a
// fragment whose body changes with such a header would show one shopper's
// version to every other. check-fragment sends each forwarded header with
// two different values and compares what comes back.

// varyProbes are two values of a forwarded or page context header that a
// fragment could answer differently to.
var varyProbes = map[string][2]string{
	"X-Inlay-Page-Path":    {"/inlay-check-a", "/inlay-check-b"},
	"X-Inlay-Page-Route":   {"/inlay-check-a/{id}", "/inlay-check-b/{id}"},
	"X-Inlay-Route-Params": {"id=inlay-check-a", "id=inlay-check-b"},
	"X-Inlay-Base-URL":     {"https://inlay-check-a.example", "https://inlay-check-b.example"},
	"Accept-Language":      {"en-US,en;q=0.9", "de-DE,de;q=0.9"},
	"User-Agent": {
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
	},
}

// checkVary fetches the fragment again with two different values of each
// header Inlay forwards and of each page context header (unless the
// service has context: false), and warns when the status or body changes
// with a header that Vary does not name. first is the check's first fetch.
func (r *Report) checkVary(ctx context.Context, opts Options, first observation) {
	vary := map[string]bool{}
	names, _ := contract.VaryNames(first.Header)
	for _, v := range names {
		vary[v] = true
	}
	// The same request twice: a body that changes anyway (a timestamp, a
	// random pick) says nothing about headers.
	again := fetchFragment(ctx, opts, newRequestID(), nil)
	if again.Err != nil {
		return
	}
	if again.Status != first.Status || !bytes.Equal(again.Raw, first.Raw) {
		r.addFix(config.SeverityWarning, "make the body the same for the same request, or the cache may store any version",
			"the body differs between two identical requests, so check-fragment cannot tell which headers it depends on (a timestamp or random content?)")
		return
	}
	probed := slices.Clone(opts.Forwarded)
	if !opts.NoContext {
		probed = append(probed, contextNames...)
	}
	for _, name := range probed {
		name = contextName(name)
		probe, ok := varyProbes[name]
		if !ok {
			probe = [2]string{"inlay-check-a", "inlay-check-b"}
		}
		var obs [2]observation
		for i, v := range probe {
			h := http.Header{}
			h.Set(name, v)
			obs[i] = fetchFragment(ctx, opts, newRequestID(), h)
			if obs[i].Err != nil {
				return
			}
		}
		changed := obs[0].Status != obs[1].Status || !bytes.Equal(obs[0].Raw, obs[1].Raw)
		named := vary[http.CanonicalHeaderKey(name)]
		switch {
		case changed && !named:
			what := "body"
			if obs[0].Status != obs[1].Status {
				what = "status"
			}
			r.addFix(config.SeverityWarning, "send Vary: "+strings.Join(append(sortedKeys(vary), name), ", "),
				"the %s changes with %s, but Vary does not name it: Inlay's cache keys on the URL and the headers Vary names only, so every shopper would get the version cached first", what, name)
		case !changed && named && name == "User-Agent":
			r.addFix(config.SeverityWarning, "drop User-Agent from Vary",
				"Vary names User-Agent, but the body does not change with it: nearly every shopper's User-Agent differs, so the fragment is hardly ever served from the cache")
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
