package transport

import (
	"net/http"
	"time"
)

// NewH2CTransport returns a transport like [NewTransport] that speaks
// HTTP/2 without TLS, with prior knowledge (h2c), to every http:// URL: all
// fetches to one service share one connection, or a few once a connection
// carries as many streams as the service allows. The service must accept
// h2c; one that speaks only HTTP/1.1 fails every request. It dials any
// address: see [DialPolicy.NewH2CTransport] for one that refuses internal
// addresses.
func NewH2CTransport() *http.Transport {
	return newH2CTransport(nil)
}

func newH2CTransport(policy *DialPolicy) *http.Transport {
	t := newTransport(policy)
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true) // and not HTTP1: prior knowledge, no Upgrade
	t.Protocols = p
	t.HTTP2 = &http.HTTP2Config{
		// With every fetch of a service on one connection, a connection that
		// stopped answering must not linger: ping it when it has been silent,
		// and close it when the ping goes unanswered.
		SendPingTimeout: 10 * time.Second,
		PingTimeout:     5 * time.Second,
	}
	return t
}
