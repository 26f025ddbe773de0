// Package identity is how a team's service learns who the shopper is from
// Inlay: it verifies the X-Inlay-Identity assertion Inlay signs for the
// service, with go-oidc against the shop's key set
// (/-/auth/jwks.json), as docs/signin.md shows teams. The demo teams use
// it; any team may copy it.
package identity

import (
	"context"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Shopper is who a verified X-Inlay-Identity says the shopper is.
type Shopper struct {
	Sub   string `json:"sub"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Verifier verifies the X-Inlay-Identity assertions Inlay signs for one
// service, as any team would: with go-oidc, against the shop's JWKS.
type Verifier struct {
	verifier *oidc.IDTokenVerifier
	client   *http.Client
}

// New verifies assertions issued by the shop at publicURL for the
// service named aud, with the keys at jwksURL.
func New(publicURL, jwksURL, aud string) *Verifier {
	client := &http.Client{Timeout: 5 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	keys := oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), client), jwksURL)
	return &Verifier{
		verifier: oidc.NewVerifier(publicURL, keys, &oidc.Config{ClientID: aud, SupportedSigningAlgs: []string{oidc.EdDSA}}),
		client:   client,
	}
}

// Close closes the connections kept to fetch the key set.
func (id *Verifier) Close() {
	if id != nil {
		id.client.CloseIdleConnections()
	}
}

// Shopper returns the signed-in shopper of r, or nil for an anonymous one
// or an assertion that does not verify. A nil Verifier knows no one.
func (id *Verifier) Shopper(r *http.Request) *Shopper {
	raw := r.Header.Get("X-Inlay-Identity")
	if id == nil || raw == "" {
		return nil
	}
	tok, err := id.verifier.Verify(r.Context(), raw)
	if err != nil {
		return nil
	}
	s := &Shopper{}
	if err := tok.Claims(s); err != nil || s.Sub == "" {
		return nil
	}
	return s
}
