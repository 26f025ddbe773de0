// Package frontdoor guards the shopper-facing server against ambiguous
// request framing, which Go hides from handlers. Go's server drops a
// Content-Length sent with Transfer-Encoding, ignores Transfer-Encoding on HTTP/1.0 and
// unfolds obs-fold before a handler runs, so none of them is visible in
// the http.Request. The front door therefore keeps the raw bytes of each
// request head (Listener) and judges them (CheckFraming):
//
//   - Transfer-Encoding with Content-Length: answered, then the connection
//     is closed (RFC 9112 §6.1: the server MUST close it);
//   - Transfer-Encoding on HTTP/1.0, where it is not defined: 400, closed;
//   - a header folded over two lines (obs-fold, RFC 9112 §5.2): 400.
//
// A head that could not be recorded (pipelined requests, read ahead with
// the previous one) is served, and its connection closed after it.
package frontdoor
