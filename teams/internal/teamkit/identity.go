package teamkit

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

// Identity verifies the X-Inlay-Identity assertions Inlay signs for one
// service, as any team would: with go-oidc, against the shop's JWKS.
type Identity struct {
	verifier *oidc.IDTokenVerifier
	client   *http.Client
}

// NewIdentity verifies assertions issued by the shop at publicURL for the
// service named aud, with the keys at jwksURL.
func NewIdentity(publicURL, jwksURL, aud string) *Identity {
	client := &http.Client{Timeout: 5 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	keys := oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), client), jwksURL)
	return &Identity{
		verifier: oidc.NewVerifier(publicURL, keys, &oidc.Config{ClientID: aud, SupportedSigningAlgs: []string{oidc.EdDSA}}),
		client:   client,
	}
}

// Close closes the connections kept to fetch the key set.
func (id *Identity) Close() {
	if id != nil {
		id.client.CloseIdleConnections()
	}
}

// Shopper returns the signed-in shopper of r, or nil for an anonymous one
// or an assertion that does not verify. A nil Identity knows no one.
func (id *Identity) Shopper(r *http.Request) *Shopper {
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
