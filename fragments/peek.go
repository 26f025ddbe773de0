package fragments

import "time"

// Peek returns the stored response for req, fresh or still within a stale
// window, without fetching and without counting a hit. It serves
// placeholders and early hints, which want what is known now or nothing.
func (c *Cache) Peek(req *Request) (*Response, bool) {
	v, ok := c.store.Get(req.cacheKey())
	if !ok {
		return nil, false
	}
	e := v.(*entry)
	if e.pass || !time.Now().Before(e.expires()) {
		return nil, false
	}
	return e.resp, true
}
