package composer

import (
	"context"
	"crypto/sha256"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
	"golang.org/x/net/http/httpguts"
)

// In dev mode, the open pages reload when a fragment of a developer's own
// service (a local service, `inlay dev --service`) changes, as they do
// when a layout changes: the fragments those pages fetched from it are
// fetched again every localPollEvery, past the cache, and a different
// answer reloads them.

const (
	// localPollEvery is how often dev mode fetches the local services'
	// fragments again to see whether they changed.
	localPollEvery = 500 * time.Millisecond
	// localPollMax is how many distinct fragments of local services dev
	// mode watches; those seen after are not.
	localPollMax = 64
	// localPollTimeout bounds one watch fetch.
	localPollTimeout = 2 * time.Second
)

// localWatch keeps the fragments that pages fetched from local services,
// and what each answered last.
type localWatch struct {
	mu   sync.Mutex // protects reqs and last
	reqs map[string]*fetch.Request
	last map[string][sha256.Size]byte
}

func newLocalWatch() *localWatch {
	return &localWatch{reqs: map[string]*fetch.Request{}, last: map[string][sha256.Size]byte{}}
}

// seen is told of every page's fetch of a local service's fragment and
// what it answered: it remembers the fetch, to make it again later, and
// that answer, as what the open pages show. The copy of req it keeps
// shares nothing with req.
func (lw *localWatch) seen(req *fetch.Request, resp *fetch.Response, err error) {
	key := req.Service + " " + req.URL
	sum := sumOf(resp, err)
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if _, ok := lw.reqs[key]; !ok {
		if len(lw.reqs) >= localPollMax {
			return
		}
		c := &fetch.Request{ID: req.ID, Service: req.Service, Endpoint: req.Endpoint, URL: req.URL, Key: req.Key, NoCache: true, Timeout: localPollTimeout}
		// The page's fields and the fetch's own, as one list of copies.
		c.Fields = make([]fetch.Field, 0, len(req.PageFields)+len(req.Fields))
		for _, fields := range req.FieldLists() {
			for _, f := range fields {
				c.Fields = append(c.Fields, fetch.Field{Name: f.Name, Values: slices.Clone(f.Values)})
			}
		}
		lw.reqs[key] = c
	}
	lw.last[key] = sum
}

// poll fetches every recorded fragment once and reports whether any of
// them answered differently from what the open pages show.
func (lw *localWatch) poll(ctx context.Context, f fetch.Fetcher) (changed bool) {
	lw.mu.Lock()
	reqs := make(map[string]*fetch.Request, len(lw.reqs))
	for k, r := range lw.reqs {
		reqs[k] = r
	}
	lw.mu.Unlock()
	for key, req := range reqs {
		resp, err := f.Fetch(ctx, req)
		sum := sumOf(resp, err)
		if resp != nil {
			resp.Release()
		}
		if ctx.Err() != nil {
			return false
		}
		lw.mu.Lock()
		changed = changed || lw.last[key] != sum
		lw.last[key] = sum
		lw.mu.Unlock()
	}
	return changed
}

// sumOf sums what a page shows of a fetch: the status and body of an
// answer, or the kind of failure.
func sumOf(resp *fetch.Response, err error) [sha256.Size]byte {
	h := sha256.New()
	if err != nil {
		h.Write([]byte("failed: " + fetch.KindOf(err).String())) // the page shows the fallback, whatever the failure
	} else {
		h.Write([]byte(strconv.Itoa(resp.Status) + "\n"))
		h.Write(resp.Body)
	}
	return [sha256.Size]byte(h.Sum(nil))
}

// watchLocal fetches the local services' fragments every localPollEvery
// until ctx ends, and reloads the open pages when one changed.
func (s *Server) watchLocal(ctx context.Context, lw *localWatch) {
	t := time.NewTicker(localPollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if lw.poll(ctx, s.engine) {
			s.live.reload()
		}
	}
}

// hasLocalService reports whether any service is served from a
// developer's machine.
func (s *Server) hasLocalService() bool {
	for _, svc := range s.cfg.Services {
		if svc.Local {
			return true
		}
	}
	return false
}

// requestNoCache reports whether a shopper's request asks for answers
// from the origin: a browser's hard reload sends Cache-Control: no-cache
// (and Pragma: no-cache). Dev mode honours it.
func requestNoCache(r *http.Request) bool {
	return httpguts.HeaderValuesContainsToken(r.Header["Cache-Control"], "no-cache") ||
		httpguts.HeaderValuesContainsToken(r.Header["Pragma"], "no-cache")
}
