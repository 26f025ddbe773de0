package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// Session is one signed-in shopper, as the store holds it (sealed).
type Session struct {
	// Sub is the provider's subject: who the shopper is.
	Sub string `json:"sub"`
	// SID is the provider's session id, when its ID token names one.
	SID string `json:"sid,omitempty"`
	// Claims are the configured claims of the ID token, sent to teams and
	// shown by /-/auth/me.
	Claims map[string]any `json:"claims,omitempty"`
	// AccessToken and RefreshToken are the shopper's tokens; Expiry is
	// when the access token expires (zero: unknown).
	AccessToken  string    `json:"at,omitempty"`
	RefreshToken string    `json:"rt,omitempty"`
	Expiry       time.Time `json:"exp,omitzero"`
	// IDToken is the raw ID token, sent as id_token_hint on logout.
	IDToken string `json:"idt,omitempty"`
	// Created is when the shopper signed in; Seen when the session was
	// last used (to the precision of touchEvery).
	Created time.Time `json:"created"`
	Seen    time.Time `json:"seen"`
	// Refreshed counts the refreshes of the access token.
	Refreshed int `json:"refreshed,omitempty"`

	hid        string          // the hashed id: the session's name in the store
	assertions *assertionCache // this process's assertions for the session; nil: none kept
}

// newID returns a new random session id or state: 32 bytes, base64url.
func newID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// hashID names an id in the store: a leak of the store's key names gives
// no cookie away.
func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(sum[:18])
}

// Store key prefixes.
const (
	keySession = "s:" // + hashID(session id): the sealed Session
	keyFlow    = "f:" // + hashID(state): the sealed login flow
	keyLease   = "r:" // + hashID(session id): the refresh lease
	keyBySub   = "u:" // + hashID(sub): the set of session hids
	keyBySID   = "i:" // + hashID(sid): the set of session hids
	keyJTI     = "j:" // + hashID(jti): a logout token seen
)

// flow is one sign-in in progress, from /-/auth/login to the callback.
type flow struct {
	Verifier string    `json:"v"`
	Nonce    string    `json:"n"`
	Next     string    `json:"next"`
	Created  time.Time `json:"created"`
}
