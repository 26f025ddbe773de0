package auth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Prefix is the path prefix of the reserved paths.
const Prefix = "/-/auth/"

// ServeHTTP serves the reserved paths under /-/auth/.
func (a *Auth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	route := r.URL.Path[len(Prefix)-1:]
	if len(r.URL.Path) < len(Prefix) {
		route = ""
	}
	method := map[string]string{
		"/login": http.MethodGet, "/callback": http.MethodGet, "/me": http.MethodGet, "/jwks.json": http.MethodGet,
		"/logout": http.MethodPost, "/backchannel-logout": http.MethodPost,
	}[route]
	switch {
	case method == "":
		a.errorPage(w, r, http.StatusNotFound)
		return
	case r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead):
		w.Header().Set("Allow", method)
		a.errorPage(w, r, http.StatusMethodNotAllowed)
		return
	}
	switch route {
	case "/login":
		a.login(w, r)
	case "/callback":
		a.callback(w, r)
	case "/logout":
		a.logout(w, r)
	case "/me":
		a.me(w, r)
	case "/jwks.json":
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(a.signer.JWKS(a.now()))
	case "/backchannel-logout":
		a.backchannel(w, r)
	}
}

func (a *Auth) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, Secure: a.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

// login starts the authorization code flow: PKCE, state and nonce, kept
// on the server; the browser keeps the state in a cookie that binds the
// flow to it.
func (a *Auth) login(w http.ResponseWriter, r *http.Request) {
	if pu, err := url.Parse(a.publicURL); err == nil && !strings.EqualFold(r.Host, pu.Host) {
		// The flow's cookie must be set on the origin the provider sends
		// the shopper back to: a shop reached by another of its names
		// (localhost for 127.0.0.1, say) goes there first.
		http.Redirect(w, r, a.publicURL+Prefix+"login?next="+url.QueryEscape(SafeNext(r.URL.Query().Get("next"))), http.StatusFound)
		return
	}
	p, err := a.provider(r.Context())
	if err != nil {
		a.log.LogAttrs(r.Context(), slog.LevelWarn, "sign-in: provider unavailable", slog.String("error", err.Error()))
		a.errorPage(w, r, http.StatusBadGateway)
		return
	}
	state, f := newID(), &flow{Verifier: oauth2.GenerateVerifier(), Nonce: newID(), Next: SafeNext(r.URL.Query().Get("next")), Created: a.now()}
	plain, _ := json.Marshal(f)
	ctx, cancel := storeContext(r.Context())
	defer cancel()
	key := keyFlow + hashID(state)
	if err := a.store.Set(ctx, key, a.keys.Seal(plain, []byte(key)), FlowLifetime); err != nil {
		a.log.LogAttrs(r.Context(), slog.LevelWarn, "sign-in: flow not saved", slog.String("error", err.Error()))
		a.errorPage(w, r, http.StatusServiceUnavailable)
		return
	}
	http.SetCookie(w, a.cookie(a.flowCookie, state, int(FlowLifetime/time.Second)))
	http.Redirect(w, r, p.oauth.AuthCodeURL(state, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), http.StatusFound)
}

// callback ends the flow: the state must be the browser's, the flow is
// used once, the code is redeemed with the PKCE verifier, and the ID
// token must verify and carry the flow's nonce. The shopper gets a new
// session id: any id from before sign-in is dropped (no fixation).
func (a *Auth) callback(w http.ResponseWriter, r *http.Request) {
	f, ok := a.takeFlow(w, r)
	if !ok {
		return
	}
	if e := r.URL.Query().Get("error"); e != "" {
		a.refuse(w, r, http.StatusUnauthorized, "provider: "+e, nil)
		return
	}
	p, err := a.provider(r.Context())
	if err != nil {
		a.refuse(w, r, http.StatusBadGateway, "provider unavailable", err)
		return
	}
	octx, ocancel := a.oauthContext(r.Context())
	defer ocancel()
	tok, ok := a.exchangeCode(octx, w, r, p, f)
	if !ok {
		return
	}
	idt, raw, claims, ok := a.verifyIDToken(octx, w, r, p, tok, f)
	if !ok {
		return
	}
	a.userinfoClaims(octx, p, tok, idt.Subject, claims)
	a.startSession(w, r, f, tok, idt, raw, claims)
}

// refuse ends a sign-in that cannot go on: it logs why, drops the
// flow's cookie and answers with the error page for status.
func (a *Auth) refuse(w http.ResponseWriter, r *http.Request, status int, why string, err error) {
	attrs := []slog.Attr{slog.String("why", why)}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	a.log.LogAttrs(r.Context(), slog.LevelWarn, "sign-in refused", attrs...)
	http.SetCookie(w, a.cookie(a.flowCookie, "", -1))
	a.errorPage(w, r, status)
}

// takeFlow checks that the callback's state is the one in the browser's
// flow cookie and takes the flow from the store, so that it is used once.
// When it reports false, the shopper has been refused.
func (a *Auth) takeFlow(w http.ResponseWriter, r *http.Request) (*flow, bool) {
	state := r.URL.Query().Get("state")
	c, err := r.Cookie(a.flowCookie)
	if err != nil || state == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(state)) != 1 {
		a.refuse(w, r, http.StatusBadRequest, "state mismatch", nil)
		return nil, false
	}
	ctx, cancel := storeContext(r.Context())
	key := keyFlow + hashID(state)
	sealed, err := a.store.Take(ctx, key)
	cancel()
	if err != nil || sealed == nil {
		a.refuse(w, r, http.StatusBadRequest, "no such sign-in (used or expired)", err)
		return nil, false
	}
	plain, err := a.keys.Open(sealed, []byte(key))
	var f flow
	if err == nil {
		err = json.Unmarshal(plain, &f)
	}
	if err != nil {
		a.refuse(w, r, http.StatusBadRequest, "flow record", err)
		return nil, false
	}
	return &f, true
}

// exchangeCode redeems the callback's code for tokens with the flow's PKCE
// verifier. A provider that turns the code down (a 4xx) is the
// request's fault; one that fails otherwise is a bad gateway. When it
// reports false, the shopper has been refused.
func (a *Auth) exchangeCode(octx context.Context, w http.ResponseWriter, r *http.Request, p *provider, f *flow) (*oauth2.Token, bool) {
	tok, err := p.oauth.Exchange(octx, r.URL.Query().Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		status := http.StatusBadGateway
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			status = http.StatusBadRequest
		}
		a.refuse(w, r, status, "code exchange", err)
		return nil, false
	}
	return tok, true
}

// verifyIDToken checks the ID token that came with tok: its signature
// and audience, the flow's nonce and, when present, the access token's
// hash. It returns the token, its raw form and its claims; when it
// reports false, the shopper has been refused.
func (a *Auth) verifyIDToken(octx context.Context, w http.ResponseWriter, r *http.Request, p *provider, tok *oauth2.Token, f *flow) (*oidc.IDToken, string, map[string]any, bool) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		a.refuse(w, r, http.StatusBadGateway, "no id_token", nil)
		return nil, "", nil, false
	}
	idt, err := p.verifier.Verify(octx, raw)
	if err != nil {
		a.refuse(w, r, http.StatusUnauthorized, "id token", err)
		return nil, "", nil, false
	}
	if err := a.checkAudience(idt); err != nil {
		a.refuse(w, r, http.StatusUnauthorized, "id token audience", err)
		return nil, "", nil, false
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		a.refuse(w, r, http.StatusUnauthorized, "nonce mismatch", nil)
		return nil, "", nil, false
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			a.refuse(w, r, http.StatusUnauthorized, "at_hash", err)
			return nil, "", nil, false
		}
	}
	claims, err := a.claims(idt)
	if err != nil {
		a.refuse(w, r, http.StatusUnauthorized, "claims", err)
		return nil, "", nil, false
	}
	return idt, raw, claims, true
}

// startSession ends any session from before sign-in, saves a new one
// under a new id, sets its cookie, drops the flow's and sends the
// shopper on to the flow's next page.
func (a *Auth) startSession(w http.ResponseWriter, r *http.Request, f *flow, tok *oauth2.Token, idt *oidc.IDToken, raw string, claims map[string]any) {
	var sid struct {
		SID string `json:"sid"`
	}
	_ = idt.Claims(&sid)
	// The session id from before sign-in, if any, ends here.
	if old, err := r.Cookie(a.sessionCookie); err == nil && old.Value != "" {
		_ = a.end(r.Context(), hashID(old.Value))
	}
	now := a.now()
	id := newID()
	s := &Session{
		Sub: idt.Subject, SID: sid.SID, Claims: claims,
		AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Expiry: a.expiry(tok), IDToken: raw,
		Created: now, Seen: now, hid: hashID(id), assertions: &assertionCache{},
	}
	if err := a.save(r.Context(), s, true); err != nil {
		a.refuse(w, r, http.StatusServiceUnavailable, "session not saved", err)
		return
	}
	http.SetCookie(w, a.cookie(a.flowCookie, "", -1))
	http.SetCookie(w, a.cookie(a.sessionCookie, id, int(a.maxAge/time.Second)))
	http.Redirect(w, r, f.Next, http.StatusFound)
}

// checkAudience refuses an ID token that names audiences besides Inlay,
// or another authorized party (OpenID Connect Core §3.1.3.7): go-oidc
// checks only that Inlay is among them.
func (a *Auth) checkAudience(idt *oidc.IDToken) error {
	for _, aud := range idt.Audience {
		if aud != a.cfg.ClientID {
			return fmt.Errorf("untrusted audience %q", aud)
		}
	}
	var azp struct {
		AZP string `json:"azp"`
	}
	if err := idt.Claims(&azp); err == nil && azp.AZP != "" && azp.AZP != a.cfg.ClientID {
		return fmt.Errorf("authorized party %q", azp.AZP)
	}
	return nil
}

// userinfoClaims fills the configured claims the ID token left out from
// the provider's userinfo endpoint, whose sub must be the ID token's.
func (a *Auth) userinfoClaims(ctx context.Context, p *provider, tok *oauth2.Token, sub string, claims map[string]any) {
	if len(claims) == len(a.cfg.Claims) || p.oidc.UserInfoEndpoint() == "" {
		return
	}
	info, err := p.oidc.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || info.Subject != sub {
		if err != nil {
			a.log.LogAttrs(ctx, slog.LevelWarn, "sign-in: userinfo", slog.String("error", err.Error()))
		}
		return
	}
	var all map[string]any
	if info.Claims(&all) != nil {
		return
	}
	for _, c := range a.cfg.Claims {
		if _, ok := claims[c]; !ok {
			if v, ok := all[c]; ok {
				claims[c] = v
			}
		}
	}
}

// logout ends the session everywhere, then sends the shopper to the
// provider's end_session_endpoint when it has one. Only the shop's own
// pages may ask (a cross-site form would log shoppers out).
func (a *Auth) logout(w http.ResponseWriter, r *http.Request) {
	if !a.SameOrigin(r) {
		a.errorPage(w, r, http.StatusForbidden)
		return
	}
	target := a.publicURL + "/"
	if c, err := r.Cookie(a.sessionCookie); err == nil && c.Value != "" {
		hid := hashID(c.Value)
		s, _ := a.load(r.Context(), hid)
		if err := a.end(r.Context(), hid); err != nil {
			a.log.LogAttrs(r.Context(), slog.LevelWarn, "logout: session not deleted", slog.String("error", err.Error()))
			a.errorPage(w, r, http.StatusServiceUnavailable)
			return
		}
		if p, err := a.provider(r.Context()); err == nil && p.endSession != "" && s != nil {
			v := url.Values{"client_id": {a.cfg.ClientID}, "post_logout_redirect_uri": {a.publicURL + "/"}}
			if s.IDToken != "" {
				v.Set("id_token_hint", s.IDToken)
			}
			target = p.endSession + "?" + v.Encode()
		}
	}
	http.SetCookie(w, a.cookie(a.sessionCookie, "", -1))
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// me answers the session's claims as JSON, 401 when signed out.
func (a *Auth) me(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	id := a.Resolve(r)
	if id == nil {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"signed_in":false}` + "\n"))
		return
	}
	out := map[string]any{"signed_in": true, "sub": id.s.Sub}
	for k, v := range id.s.Claims {
		out[k] = v
	}
	_ = json.NewEncoder(w).Encode(out)
}

// backchannel ends every session of the sid or sub a verified logout
// token names (OpenID Connect Back-Channel Logout 1.0).
func (a *Auth) backchannel(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	bad := func(why string, err error) {
		attrs := []slog.Attr{slog.String("why", why)}
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		a.log.LogAttrs(r.Context(), slog.LevelWarn, "back-channel logout refused", attrs...)
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_request"}` + "\n"))
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	raw := r.PostFormValue("logout_token")
	if raw == "" {
		bad("no logout_token", nil)
		return
	}
	p, err := a.provider(r.Context())
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	octx, cancel := a.oauthContext(r.Context())
	defer cancel()
	lt, err := p.verifier.VerifyLogout(octx, raw)
	if err != nil {
		bad("logout token", err)
		return
	}
	now := a.now()
	if lt.IssuedAt.IsZero() || lt.IssuedAt.After(now.Add(time.Minute)) || lt.IssuedAt.Before(now.Add(-FlowLifetime)) {
		bad("logout token iat", nil)
		return
	}
	ctx, scancel := storeContext(r.Context())
	defer scancel()
	fresh, err := a.store.SetNX(ctx, keyJTI+hashID(lt.Issuer+"\x00"+lt.TokenID), []byte{1}, 2*FlowLifetime)
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if !fresh {
		bad("logout token replayed", nil)
		return
	}
	// The sessions of the provider session sid when the token names one
	// and Inlay knows it, else every session of sub.
	var hids []string
	if lt.SessionID != "" {
		if hids, err = a.store.Members(ctx, keyBySID+hashID(lt.SessionID)); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
	}
	if len(hids) == 0 && lt.Subject != "" {
		if hids, err = a.store.Members(ctx, keyBySub+hashID(lt.Subject)); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
	}
	if err := a.end(r.Context(), hids...); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	a.log.LogAttrs(r.Context(), slog.LevelInfo, "back-channel logout", slog.Int("sessions", len(hids)))
	w.WriteHeader(http.StatusOK)
}
