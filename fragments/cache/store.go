package cache

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/inlayhq/inlay/fragments/fetch"
)

// put stores resp if its headers allow, and returns the entry it stored
// (nil for none), with the header names it varies on. A success that may
// not be shared leaves a hit-for-miss marker instead.
func (c *Cache) put(req *fetch.Request, resp *fetch.Response) (stored *entry, vary []string) {
	now := time.Now()
	pk := fetch.PrimaryKey(req)
	if resp.Live != nil {
		// An asset answer that may not be stored, or too large to be:
		// its next requests stream past the cache.
		if resp.Status == http.StatusOK {
			c.set(pk, &entry{pass: true, passBody: int(c.maxEntry), size: int64(len(pk)) + entryOverhead}, c.hitForMiss)
		}
		return nil, nil
	}
	f, vary, ok, pass := storability(req, resp, now, c.negative)
	if !ok {
		if pass {
			c.set(pk, &entry{pass: true, passBody: len(resp.Body), size: int64(len(pk)) + entryOverhead}, c.hitForMiss)
		}
		return nil, nil
	}
	if what := credentialInBody(req, resp.Body); what != "" {
		// A per-shopper body marked shareable: a mistake of the
		// service's that would show one shopper's page to the next.
		c.stats.CredentialRefused.Add(1)
		c.logger.LogAttrs(context.Background(), slog.LevelWarn, "fragment not cached: its body holds a credential the shopper sent, though it is marked shareable",
			slog.String("fragment", req.ID), slog.String("service", req.Service), slog.String("credential", what),
			slog.String("fix", "send Cache-Control: private or no-store on per-shopper responses"))
		c.set(pk, &entry{pass: true, passBody: len(resp.Body), size: int64(len(pk)) + entryOverhead}, c.hitForMiss)
		return nil, nil
	}
	key := pk
	if len(vary) > 0 {
		key = variantKey(pk, req, vary)
	}
	e := &entry{resp: resp, freshness: f, size: responseSize(key, resp)}
	if e.size > c.maxEntry {
		return nil, nil
	}
	ttl := f.Expires().Sub(now)
	if len(vary) > 0 {
		c.index(pk, vary, f.Expires(), now)
	}
	c.set(key, e, ttl)
	resp.Keep() // the cache's own budget holds it now
	c.stats.Stored.Add(1)
	return e, vary
}

// index records under a primary key the header names its responses vary
// on, kept as long as the longest-lived variant.
func (c *Cache) index(pk string, names []string, until, now time.Time) {
	if v, ok := c.store.Get(pk); ok {
		if old, ok := v.(*variants); ok && slices.Equal(old.names, names) && !until.After(old.until) {
			return
		}
	}
	v := &variants{names: names, until: until, size: int64(len(pk)) + entryOverhead}
	for _, n := range names {
		v.size += int64(len(n))
	}
	c.set(pk, v, until.Sub(now))
}

// entryOverhead approximates the bookkeeping bytes of one entry.
const entryOverhead = 256

func responseSize(key string, resp *fetch.Response) int64 {
	n := int64(len(key)+len(resp.Body)) + entryOverhead
	for k, vs := range resp.Header {
		n += int64(len(k))
		for _, v := range vs {
			n += int64(len(v))
		}
	}
	return n
}

// itemSize is the accounted size of a stored item.
func itemSize(v any) int64 {
	switch v := v.(type) {
	case *entry:
		return v.size
	case *variants:
		return v.size
	}
	return 0
}

// set stores v for ttl, evicting entries first if the budget needs it.
func (c *Cache) set(key string, v any, ttl time.Duration) {
	size := itemSize(v)
	c.storeMu.Lock()
	defer c.storeMu.Unlock()
	c.store.Delete(key) // accounts for the item it replaces, expired or not
	if c.bytes.Load()+size > c.maxBytes {
		c.evict(size)
	}
	c.store.Set(key, v, ttl)
	c.bytes.Add(size)
}

// evict drops expired entries and then, if need be, the oldest stored
// others until the new entry fits with a tenth of the budget to spare, so that a full cache does
// not evict on every store.
func (c *Cache) evict(need int64) {
	c.store.DeleteExpired()
	target := c.maxBytes - c.maxBytes/10 - need
	if c.bytes.Load() <= target {
		return
	}
	c.store.Oldest(func(k string) bool {
		c.store.Delete(k)
		c.stats.Evictions.Add(1)
		return c.bytes.Load() > target
	})
}

// minCredentialBytes is the shortest credential credentialInBody looks
// for: a shorter value (lang=en, a flag) is too likely to be in a page
// by chance, and too short to be a secret.
const minCredentialBytes = 8

// credentialInBody returns which credential of req's (a cookie, named, or
// "Authorization") body holds, or "" for none: the store-time tripwire for
// a per-shopper body that its service marked shareable. Only a request
// that carried credentials is looked at, so the cost falls on shareable
// credentialed responses alone; the value itself is never returned.
func credentialInBody(req *fetch.Request, body []byte) string {
	if len(body) < minCredentialBytes {
		return ""
	}
	for _, line := range req.Values("Cookie") {
		for pair := range strings.SplitSeq(line, ";") {
			name, value, _ := strings.Cut(strings.TrimSpace(pair), "=")
			value = strings.Trim(value, `"`)
			if len(value) >= minCredentialBytes && containsCredential(body, value) {
				return "cookie " + strings.TrimSpace(name)
			}
		}
	}
	for _, v := range req.Values("Authorization") {
		// The credential after the scheme (Bearer, Basic, ...), or the
		// whole value when it names none.
		_, cred, ok := strings.Cut(strings.TrimSpace(v), " ")
		if !ok {
			cred = v
		}
		cred = strings.TrimSpace(cred)
		if len(cred) >= minCredentialBytes && containsCredential(body, cred) {
			return "Authorization"
		}
	}
	return ""
}

// containsCredential reports whether body holds cred. It looks for cred's
// least common byte in HTML (a digit or capital before punctuation, and
// punctuation before lower case and markup) with bytes.IndexByte and
// compares the whole credential there: a JWT starts with "eyJ", and an 'e'
// at every few bytes of a page costs bytes.Index about thirty times more.
func containsCredential(body []byte, cred string) bool {
	j := credentialAnchor(cred)
	c := cred[j]
	end := len(body) - len(cred) + j + 1 // past the anchor's last possible place
	for i := j; i < end; i++ {
		k := bytes.IndexByte(body[i:end], c)
		if k < 0 {
			return false
		}
		i += k
		if string(body[i-j:i-j+len(cred)]) == cred {
			return true
		}
	}
	return false
}

// credentialAnchor returns the index of the byte of cred that
// containsCredential looks for: the first of the rarest class.
func credentialAnchor(cred string) int {
	best, score := 0, 5
	for i := 0; i < len(cred); i++ {
		s := 2 // punctuation
		switch c := cred[i]; {
		case c >= 'a' && c <= 'z', strings.IndexByte(` <>"=/`, c) >= 0:
			s = 4
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			s = 1
		}
		if s < score {
			best, score = i, s
		}
	}
	return best
}
