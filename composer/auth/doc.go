// Package auth signs shoppers in at Inlay's single entry point, and keeps
// their sessions.
//
// Sign-in is OpenID Connect's authorization code flow with PKCE (S256),
// state and nonce, against any provider that publishes discovery. The ID
// token is verified (issuer, audience, expiry, nonce, and only the
// algorithms the provider advertises). The tokens stay on the server: the
// browser holds only an opaque random session id, in the cookie
// __Host-inlay_session.
//
// Sessions live in a [Store]: in process, or in the shared tier (Valkey or
// Redis) so that every replica serves every session. What the store holds
// is sealed with AEAD under the session keys. Idle and absolute lifetimes
// are enforced here, and the access token is refreshed before it expires,
// by one replica at a time per session (a lease in the store), so that a
// rotating refresh token is never sent twice.
//
// Teams learn who the shopper is from an [Identity]: a short-lived JWT that
// Inlay signs (X-Inlay-Identity, verified with /-/auth/jwks.json) or the
// shopper's access token (Authorization: Bearer), per service.
//
// The reserved paths are served by [Auth.ServeHTTP]: /-/auth/login,
// /-/auth/callback, /-/auth/logout, /-/auth/me, /-/auth/jwks.json and
// /-/auth/backchannel-logout.
package auth
