package composer

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/inlayhq/inlay/composer/auth"
	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/fragments"
	"github.com/inlayhq/inlay/fragments/contract"
	"github.com/inlayhq/inlay/fragments/fetch"
	"golang.org/x/net/http/httpguts"
)

// Gateway answers a shared cache may store (RFC 9111: public, s-maxage or
// max-age, without private or no-store, no Set-Cookie, no credentials on
// the request unless public or s-maxage, Vary honoured) go through the
// fragment cache and its tiers: a team's CSS, JS, fonts and images, so
// that a shopper still gets the last good copy when the team is down
// (stale-if-error, or fetch.DefaultAssetGrace when the team gave
// none). A GET or HEAD without a body takes that way; everything else,
// and a key known to be unshareable or over the cache's entry cap
// (fragments.Engine.MaxAssetBytes), streams through the proxy as it
// always did.

// hopByHop are the headers of one connection (RFC 9110 §7.6.1), never
// passed on.
var hopByHop = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// cacheable reports whether r may be answered from the cache: a GET or
// HEAD with no body, no upgrade, no Range (a range is the team's to
// answer) and no request Cache-Control: no-store. Other request
// directives are not honoured, as CDNs do not by default: a browser's
// reload must not take the shop's styles away while a team is down.
func (gw *gateway) cacheable(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if r.ContentLength != 0 || len(r.TransferEncoding) > 0 || r.Header.Get("Upgrade") != "" || r.Header.Get("Range") != "" {
		return false
	}
	if httpguts.HeaderValuesContainsToken(r.Header["Cache-Control"], "no-store") {
		return false
	}
	if gw.identified(r) {
		return false // the team learns who the shopper is: its answer is theirs
	}
	return gw.srv.engine.CachesAssets(gw.svc.Name)
}

// identified reports whether r reaches the team with the signed-in
// shopper's identity (the service's identity is an assertion or the
// access token). Such a request goes through the proxy, which adds it,
// and never through the cache.
func (gw *gateway) identified(r *http.Request) bool {
	return gw.srv.auth != nil && gw.svc.IdentityMode() != config.IdentityNone && auth.FromContext(r.Context()) != nil
}

// assetRequest is the cache's fetch of what r asks the route for: the
// request the proxy would send (the shopper's headers but those of the
// connection, and only the credentials the service may have). Its key
// holds the codings the shopper takes, so that a coded body (gzip, br)
// is only ever served to a shopper who takes the same codings, whether
// or not the team sent Vary: Accept-Encoding.
func (gw *gateway) assetRequest(r *http.Request) *fetch.Request {
	out := r.Clone(context.Background())
	pr := &httputil.ProxyRequest{In: r, Out: out}
	pr.SetURL(gw.svc.BaseURL)
	pr.SetXForwarded()
	h := out.Header
	for _, f := range h["Connection"] {
		for name := range strings.SplitSeq(f, ",") {
			h.Del(textproto.TrimString(name))
		}
	}
	for _, k := range hopByHop {
		h.Del(k)
	}
	gw.scopeCredentials(h, r.Header)
	fields := make([]fetch.Field, 0, len(h))
	for _, k := range slices.Sorted(maps.Keys(h)) {
		fields = append(fields, fetch.Field{Name: k, Values: h[k]})
	}
	u := out.URL.String()
	return &fetch.Request{
		ID:          r.URL.Path,
		Service:     gw.svc.Name,
		URL:         u,
		Key:         "gateway\n" + contract.PrimaryKey(gw.svc.Name, u) + "\n" + acceptedCodings(r.Header),
		Fields:      fields,
		Asset:       true,
		Timeout:     gw.route.HeaderTimeout(),
		IdleTimeout: gw.route.BodyIdleTimeout(),
		Shopper:     fragments.ShopperOf(r.Context()),
	}
}

// acceptedCodings is the set of content codings a request's
// Accept-Encoding takes (q above zero), lower case, sorted and
// comma-joined: "br,deflate,gzip,zstd" for today's browsers.
func acceptedCodings(h http.Header) string {
	var codings []string
	for _, v := range h.Values("Accept-Encoding") {
		for c := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(c, ";")
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" {
				continue
			}
			if q, ok := strings.CutPrefix(strings.ToLower(strings.ReplaceAll(params, " ", "")), "q="); ok {
				if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
					continue
				}
			}
			codings = append(codings, name)
		}
	}
	slices.Sort(codings)
	return strings.Join(slices.Compact(codings), ",")
}

// serveCached answers r from the cache when it may, fetching and storing
// what may be stored; an answer that may not be stored goes to the
// shopper through the proxy, as it would have. It reports false, having
// written nothing, when r is to be proxied as usual.
func (gw *gateway) serveCached(w *gatewayWriter, r *http.Request) bool {
	if !gw.cacheable(r) {
		return false
	}
	req := gw.assetRequest(r)
	eng := gw.srv.engine
	if eng.Passes(req) {
		return false
	}
	var resp *fetch.Response
	var rep fetch.Report
	head := r.Method == http.MethodHead
	if head {
		// A HEAD is answered from what is stored, or by the team.
		var ok bool
		if resp, ok = eng.Peek(req); !ok {
			return false
		}
	} else {
		var err error
		resp, rep, err = eng.Start(r.Context(), req, nil).Wait()
		if err != nil {
			fe, _ := errors.AsType[*fetch.Error](err)
			if fe == nil || fe.Answer == nil {
				gw.fail(w, r, err)
				return true
			}
			resp = fe.Answer // the team's own 5xx, passed on
		}
	}
	defer resp.Release()
	if resp.Live != nil {
		// Not stored: the proxy passes it on as the team sent it.
		gw.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), liveKey{}, resp.Live)))
		return true
	}
	if rep.Cache == fetch.CacheStale {
		gw.srv.observer.GatewayStale(gw.svc.Name)
	}
	if bareError(r, resp.Status, resp.Header) {
		gw.fail(w, r, &teamError{status: resp.Status})
		return true
	}
	if head || rep.Cache == fetch.CacheHit || rep.Cache == fetch.CacheStale || rep.Coalesced {
		setAge(w.Header(), resp.Header, time.Now())
	}
	writeAsset(w, r, resp)
	return true
}

// setAge gives a stored answer served without asking the team its Age
// (RFC 9111 §5.1): the seconds since its Date, or since the team's own
// Age was sent, whichever is more.
func setAge(out, stored http.Header, now time.Time) {
	date, err := http.ParseTime(stored.Get("Date"))
	if err != nil {
		return
	}
	age := max(int64(now.Sub(date)/time.Second), 0)
	if prior, err := strconv.ParseInt(stored.Get("Age"), 10, 64); err == nil && prior > age {
		age = prior
	}
	out.Set("Age", strconv.FormatInt(age, 10))
}

// liveKey carries to the proxy's transport an answer already fetched.
type liveKey struct{}

// liveTransport gives the proxy the answer serveCached fetched, when
// there is one, instead of asking the team again. Once the proxy's
// request ends (its idle deadline, the shopper leaving), the answer's
// body is closed, which ends a read that waits on it.
type liveTransport struct{ next http.RoundTripper }

func (t liveTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	live, ok := r.Context().Value(liveKey{}).(*http.Response)
	if !ok {
		return t.next.RoundTrip(r)
	}
	context.AfterFunc(r.Context(), func() { live.Body.Close() })
	return live, nil
}

// writeAsset writes a stored (or fetched) answer: a 200 through
// http.ServeContent, which answers conditional and range requests from it,
// any other status as it is.
func writeAsset(w http.ResponseWriter, r *http.Request, resp *fetch.Response) {
	h := w.Header()
	for k, vs := range resp.Header {
		if slices.Contains(hopByHop, k) || k == "Content-Length" || k == "Age" && len(h["Age"]) > 0 {
			continue
		}
		h[k] = slices.Clone(vs)
	}
	if resp.Status == http.StatusOK {
		if _, ok := h["Content-Type"]; !ok {
			h["Content-Type"] = nil // as the team sent it: never sniffed
		}
		var mod time.Time
		if lm := resp.Header.Get("Last-Modified"); lm != "" {
			mod, _ = http.ParseTime(lm)
		}
		http.ServeContent(w, r, "", mod, bytes.NewReader(resp.Body))
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(resp.Body)))
	w.WriteHeader(resp.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(resp.Body)
	}
}

// preloader fetches into the cache the assets that stored fragments
// declare, in the background, a few at a time.
type preloader struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
	slots  chan struct{}
}

// preloadCodings is the Accept-Encoding of a preload: what today's
// browsers (Chromium, Firefox) send, so that the variant preloaded is the
// one their shoppers ask for.
const preloadCodings = "gzip, deflate, br, zstd"

// maxPreloads is how many asset preloads run at once; a fragment that
// declares more while they run has the rest fetched when a shopper asks.
const maxPreloads = 4

// preloadAssets is the engine's OnStored hook: each asset of resp served
// through a gateway route of this shop (a path on this origin) that the
// cache does not hold fresh is fetched and stored, as a browser would
// ask for it (preloadCodings), so that it is there when its team goes down.
func (s *Server) preloadAssets(_ *fetch.Request, resp *fetch.Response) {
	for _, a := range resp.Assets {
		gw, path := s.assetRoute(a.URL)
		if gw == nil {
			continue
		}
		r, err := http.NewRequest(http.MethodGet, path, nil)
		if err != nil {
			continue
		}
		r.Header.Set("Accept-Encoding", preloadCodings)
		if s.cfg.PublicURL != "" {
			if pu, err := r.URL.Parse(s.cfg.PublicURL); err == nil {
				r.Host = pu.Host
			}
		}
		escaped, ok := normalizePath(r.URL.EscapedPath())
		if !ok || !strings.HasPrefix(escaped, gw.route.Prefix) || setPath(r, escaped) != nil || !gw.cacheable(r) {
			continue
		}
		req := gw.assetRequest(r)
		if s.engine.HasFresh(req) || s.engine.Passes(req) {
			continue
		}
		s.preloads.start(func() {
			ctx, cancel := context.WithTimeout(context.Background(), req.Timeout)
			defer cancel()
			resp, err := s.engine.Fetch(ctx, req)
			if err == nil {
				resp.Release()
			}
		})
	}
}

// assetRoute returns the gateway route that serves an asset a fragment
// declared, and the asset's path, or nil when it is not a path of this
// origin under a gateway route.
func (s *Server) assetRoute(ref string) (*gateway, string) {
	if !strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "//") || strings.ContainsAny(ref, "\\\r\n") {
		return nil, ""
	}
	var best *gateway
	for _, gw := range s.gateways {
		if gw.cached && strings.HasPrefix(ref, gw.route.Prefix) && (best == nil || len(gw.route.Prefix) > len(best.route.Prefix)) {
			best = gw
		}
	}
	return best, ref
}

// start runs fn in the background when a slot is free; a preload that
// finds none is dropped.
func (p *preloader) start(fn func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	if p.slots == nil {
		p.slots = make(chan struct{}, maxPreloads)
	}
	select {
	case p.slots <- struct{}{}:
	default:
		return
	}
	p.wg.Go(func() {
		defer func() { <-p.slots }()
		fn()
	})
}

// close stops new preloads and waits for those running.
func (p *preloader) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.wg.Wait()
}
