// Package checkfragment is the library behind `inlay check-fragment`: it fetches a
// fragment once, exactly as Inlay's client does, and judges the response
// against the fragment contract, reporting each problem with a short fix.
//
// The rules themselves (content type, status, cacheability, markup
// containment, redirects, body size) are package contract's, the same the
// server applies; this package adds what only a person needs: the
// consequence of each breach for the page, advice (slow or large
// fragments, caching headers that defeat the cache, markup a browser would
// repair, a Vary that misses a header the body depends on) and the report,
// as text or JSON.
//
//	rep := checkfragment.Check(ctx, checkfragment.Options{URL: u, ID: "box", Timeout: time.Second, MaxBytes: contract.DefaultMaxBodyBytes})
//	_ = rep.WriteText(os.Stdout)
package checkfragment
