package cache

import (
	"slices"
	"time"

	"github.com/inlayhq/inlay/fragments/contract"
	"github.com/inlayhq/inlay/fragments/fetch"
)

// freshness is when a stored response stops being fresh, and how long
// after that it may still be served stale: the contract's windows.
type freshness = contract.Windows

// storability applies the contract's [contract.Storability] to a response
// and the request it answers: whether it may be stored, its freshness,
// and the header names its Vary lists. pass is true when the response is
// a success that may not be shared (hit-for-miss).
func storability(req *fetch.Request, resp *fetch.Response, now time.Time, negativeTTL time.Duration) (f freshness, vary []string, store, pass bool) {
	h := resp.Header
	if req.Asset {
		h = fetch.GraceHeader(resp.Status, h)
	}
	cred := req.Credentialed()
	v := contract.Storability(resp.Status, h, cred, now, negativeTTL)
	if v.Store && cred && slices.Contains(v.Vary, fetch.HeaderIdentity) {
		// A variant per identity assertion would be one per minute and
		// shopper: the assertion never enters a key.
		return f, nil, false, true
	}
	if !v.Store {
		return f, nil, false, v.Pass
	}
	return v.Windows, v.Vary, true, false
}
