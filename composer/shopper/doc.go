// Package shopper names the shopper a request comes from with a stable,
// anonymous id: what a service's canary keys on, so that a shopper sees
// one version of a team on every page and on every replica.
//
// A signed-in shopper's id is derived from the session's sub (a hash of
// it, never the sub itself), and is the same on every device. Any other
// shopper's id is a random 128-bit value kept in the cookie
// __Host-inlay_shopper, minted on the first request that lacks a valid
// one. Neither holds personal data.
package shopper
