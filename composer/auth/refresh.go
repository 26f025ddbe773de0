package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/oauth2"
)

// needsRefresh reports whether the access token expires within
// RefreshMargin and can be refreshed.
func (a *Auth) needsRefresh(s *Session, now time.Time) bool {
	return s.RefreshToken != "" && !s.Expiry.IsZero() && !now.Before(s.Expiry.Add(-RefreshMargin))
}

// refresh returns the session with a fresh access token, refreshed by one
// caller in this process (singleflight) and one replica in the fleet (the
// lease), or nil when the provider refused the refresh token: then the
// session has ended.
func (a *Auth) refresh(ctx context.Context, s *Session) *Session {
	v, _, _ := a.flight.Do(s.hid, func() (any, error) {
		return a.refreshOnce(context.WithoutCancel(ctx), s), nil
	})
	return v.(*Session)
}

// refreshOnce takes the lease and refreshes, or waits for the lease
// holder's refreshed session.
func (a *Auth) refreshOnce(ctx context.Context, s *Session) *Session {
	deadline := a.now().Add(leaseTTL)
	lease := keyLease + s.hid
	for {
		sctx, cancel := storeContext(ctx)
		got, err := a.store.SetNX(sctx, lease, []byte(newID()), leaseTTL)
		cancel()
		if err != nil {
			a.log.LogAttrs(ctx, slog.LevelWarn, "refresh lease not taken", slog.String("error", err.Error()))
			return s
		}
		if got {
			defer func() {
				sctx, cancel := storeContext(ctx)
				defer cancel()
				_ = a.store.Delete(sctx, lease)
			}()
			// Another replica may have refreshed between our read and the
			// lease: read again under it.
			cur, err := a.load(ctx, s.hid)
			if err != nil {
				return s
			}
			if cur == nil || !a.needsRefresh(cur, a.now()) {
				return cur
			}
			return a.redeem(ctx, cur)
		}
		// Another replica refreshes. A token still valid serves meanwhile;
		// an expired one waits for the refreshed session.
		if a.now().Before(s.Expiry) {
			return s
		}
		select {
		case <-time.After(pollEvery):
		case <-ctx.Done():
			return s
		}
		cur, err := a.load(ctx, s.hid)
		if err != nil {
			return s
		}
		if cur == nil || !a.needsRefresh(cur, a.now()) {
			return cur
		}
		if a.now().After(deadline) {
			return s
		}
	}
}

// redeem sends the refresh token to the provider, once, and saves what it
// answers. A refused refresh token ends the session; a provider that does
// not answer leaves it as it is.
func (a *Auth) redeem(ctx context.Context, s *Session) *Session {
	p, err := a.provider(ctx)
	if err != nil {
		a.log.LogAttrs(ctx, slog.LevelWarn, "token refresh failed", slog.String("error", err.Error()))
		return s
	}
	octx, cancel := a.oauthContext(ctx)
	defer cancel()
	tok, err := p.oauth.TokenSource(octx, &oauth2.Token{RefreshToken: s.RefreshToken}).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && (re.ErrorCode == "invalid_grant" || re.Response != nil && re.Response.StatusCode == http.StatusBadRequest) {
			a.log.LogAttrs(ctx, slog.LevelInfo, "refresh token refused: session ended", slog.String("error", re.ErrorCode))
			_ = a.end(ctx, s.hid)
			return nil
		}
		a.log.LogAttrs(ctx, slog.LevelWarn, "token refresh failed", slog.String("error", err.Error()))
		return s
	}
	next := *s
	next.assertions = &assertionCache{} // the claims may change
	next.AccessToken, next.Expiry = tok.AccessToken, a.expiry(tok)
	if tok.RefreshToken != "" {
		next.RefreshToken = tok.RefreshToken
	}
	next.Refreshed++
	if raw, ok := tok.Extra("id_token").(string); ok && raw != "" {
		if idt, err := p.verifier.Verify(octx, raw); err == nil && idt.Subject == s.Sub {
			next.IDToken = raw
			if claims, err := a.claims(idt); err == nil {
				next.Claims = claims
			}
		}
	}
	if err := a.save(ctx, &next, false); err != nil {
		a.log.LogAttrs(ctx, slog.LevelWarn, "refreshed session not saved", slog.String("error", err.Error()))
	}
	return &next
}

// expiry is when the access token expires, by Inlay's clock.
func (a *Auth) expiry(tok *oauth2.Token) time.Time {
	if tok.ExpiresIn > 0 {
		return a.now().Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	return tok.Expiry
}
