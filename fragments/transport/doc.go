// Package transport is the fetch engine's last stage: it carries one
// service's fragment fetches over connections of its own, and reads each
// answer whole under the contract's checks (a total deadline from connect
// to the last body byte, a body size cap, no redirects followed, only
// text/html accepted).
//
// A [Transport] is net/http's transport, portable, or on Unix the lean
// HTTP/1.1 client ([H1Conns]) for plain-http services, which can also send
// a request now and read its answer later on the caller's goroutine (an
// [Exchange]). Gateway requests go through a [Pool] of their own.
package transport
