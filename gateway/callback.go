package gateway

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"golang.org/x/oauth2"

	"github.com/roomgate/roomgate/internal/metrics"
)

// exchangeTimeout bounds the back-channel calls of one callback or
// refresh: the token endpoint, then userinfo (and Graph), each bounded by
// oidc.timeout.
func (p *provider) exchangeTimeout() time.Duration { return 3 * p.cfg.Timeout }

// errCode is the shape of an OAuth error code (RFC 6749 4.1.2.1); anything
// else from the query string is not repeated anywhere.
var errCode = regexp.MustCompile(`^[a-z_]{1,64}$`)

// serveCallback finishes a sign-in: it checks state against this browser's
// login cookie, exchanges the code with the PKCE verifier, verifies the ID
// token and its nonce, reads the person, and starts the session.
//
// The primary's redirect URI is /auth/callback, another provider's
// /auth/callback/{id}; the sign-in must have started with the provider
// whose URI the browser came back to (state bound to the provider), and
// the answer must name that provider's issuer (RFC 9207), so a response
// from one provider can never finish a sign-in begun with another.
func (s *Server) serveCallback(w http.ResponseWriter, r *http.Request) {
	p := s.primary()
	if name := r.PathValue("provider"); name != "" {
		if p = s.providerOf(name); p == nil || p == s.primary() {
			s.serveNotFound(w, r)
			return
		}
	}
	// Only failures draw from the client's budget (throttle.go), so an
	// office signing in at nine is never refused, and a stranger guessing
	// is.
	client := throttleKey(s.clientIP(r))
	if !s.callbacks.allowed(client, s.now()) {
		s.metrics.SignIn(p.name(), metrics.SignInThrottled)
		s.log.Warn("callback throttled: too many failed sign-ins from one address", "request_id", requestID(r), "client_ip", s.clientIP(r))
		w.Header().Set("Retry-After", "10")
		s.fail(w, r, http.StatusTooManyRequests, pageTooManySignIns, nil)
		return
	}
	refuse := func(status int, page problem, err error) {
		s.callbacks.failed(client, s.now())
		s.recordSignIn(r, nil, page.Key)
		s.fail(w, r, status, page, err)
	}
	q := r.URL.Query()
	ls := s.logins.take(w, r, q.Get("state"))
	if ls == nil {
		s.metrics.SignIn(p.name(), metrics.SignInStateInvalid)
		refuse(http.StatusBadRequest, pageLoginExpired, errors.New("gateway: callback without a matching login state"))
		return
	}
	if ls.Provider != p.id {
		s.metrics.SignIn(p.name(), metrics.SignInStateInvalid)
		refuse(http.StatusBadRequest, pageLoginFailed, fmt.Errorf("gateway: a sign-in begun with provider %q came back to the redirect URI of %q", ls.Provider, p.name()))
		return
	}
	if e := q.Get("error"); e != "" {
		if !errCode.MatchString(e) {
			e = "invalid_error"
		}
		s.signInRefused(w, r, p, ls, e)
		return
	}
	code := q.Get("code")
	if code == "" {
		s.metrics.SignIn(p.name(), metrics.SignInStateInvalid)
		refuse(http.StatusBadRequest, pageLoginExpired, errors.New("gateway: callback without code"))
		return
	}
	if !s.used.use(ls.State) {
		s.metrics.SignIn(p.name(), metrics.SignInStateInvalid)
		refuse(http.StatusBadRequest, pageLoginExpired, errors.New("gateway: callback state used before"))
		return
	}
	d, err := p.get(r.Context())
	if err != nil {
		s.metrics.SignIn(p.name(), metrics.SignInProviderError)
		s.providerDown(w, r, err)
		return
	}
	// RFC 9207 2.4: the answer must come from our provider, not from
	// another one a mix-up attack sent the browser to.
	if iss, sent := q["iss"]; (sent || d.issParam) && (len(iss) != 1 || iss[0] != p.cfg.Issuer) {
		s.metrics.SignIn(p.name(), metrics.SignInStateInvalid)
		refuse(http.StatusBadRequest, pageLoginFailed, fmt.Errorf("gateway: authorization response iss %q is not the issuer (RFC 9207)", q["iss"]))
		return
	}
	ctx, cancel := p.call(r.Context(), p.exchangeTimeout())
	defer cancel()

	tok, err := d.oauth2.Exchange(ctx, code, oauth2.VerifierOption(ls.Verifier))
	if err != nil {
		s.metrics.SignIn(p.name(), metrics.SignInExchangeFailed)
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			// The provider refused the code: replayed, expired, or a PKCE
			// verifier that does not match. Start again.
			refuse(http.StatusBadRequest, pageLoginExpired, fmt.Errorf("gateway: code exchange refused: %w", err))
			return
		}
		if p.failed(err) {
			s.metrics.ProviderError(p.name(), metrics.ProviderExchange)
		}
		s.providerDown(w, r, fmt.Errorf("gateway: code exchange: %w", err))
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		s.metrics.SignIn(p.name(), metrics.SignInTokenInvalid)
		s.fail(w, r, http.StatusBadGateway, pageProviderDown, errors.New("gateway: token response without id_token"))
		return
	}
	idt, err := d.verifier.Verify(ctx, raw)
	if err != nil {
		s.metrics.SignIn(p.name(), metrics.SignInTokenInvalid)
		refuse(http.StatusBadRequest, pageLoginFailed, fmt.Errorf("gateway: ID token refused: %w", err))
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(ls.Nonce)) != 1 {
		s.metrics.SignIn(p.name(), metrics.SignInTokenInvalid)
		refuse(http.StatusBadRequest, pageLoginFailed, errors.New("gateway: ID token nonce does not match this sign-in"))
		return
	}
	if ls.MaxAge > 0 {
		// OIDC Core 3.1.2.1: asked with max_age, the ID token says when
		// the person last authenticated; too long ago is refused. A
		// provider that leaves auth_time out (Dex) was asked with
		// prompt=login too, and is trusted to have honoured it.
		var c struct {
			AuthTime *int64 `json:"auth_time"`
		}
		if err := idt.Claims(&c); err != nil || c.AuthTime != nil && s.now().Sub(time.Unix(*c.AuthTime, 0)) > time.Duration(ls.MaxAge)*time.Second+time.Minute {
			s.metrics.SignIn(p.name(), metrics.SignInTokenInvalid)
			refuse(http.StatusBadRequest, pageLoginFailed, fmt.Errorf("gateway: asked for a sign-in within %ds, the provider answered with an older one (auth_time)", ls.MaxAge))
			return
		}
	}
	v := s.sessions.viewOf(s.rules.Load())
	id, err := s.readIdentity(ctx, p, d, tok, idt, v)
	if err != nil {
		if ls.Silent {
			s.sessions.clear(w)
		}
		var unavailable *unavailableError
		if errors.As(err, &unavailable) {
			s.metrics.SignIn(p.name(), metrics.SignInProviderError)
		} else {
			s.metrics.SignIn(p.name(), metrics.SignInRefused)
		}
		s.recordSignIn(r, nil, "identity: "+identityProblem(err))
		s.identityFailed(w, r, err, func() {
			s.fail(w, r, http.StatusBadRequest, pageLoginFailed, err)
		})
		return
	}
	if old := s.sessions.load(r); ls.Silent && old != nil && old.Subject == id.Subject && old.Provider == id.Provider {
		// A re-check does not lengthen the sign-in: after
		// session.lifetime the person signs in again.
		id.SignedIn, id.Expires = old.SignedIn, old.Expires
	}
	// A revocation counts against sessions that signed in up to its second
	// (fail closed on a tie); this one signed in after it was known.
	if at, ok := s.revoked.Latest(id.UserID, id.subjectKey(), id.sidKey()); ok && !time.Unix(id.SignedIn, 0).After(at) {
		id.SignedIn = at.Unix() + 1
	}
	if err := s.startSession(w, r, id, v, tok.RefreshToken, raw); err != nil {
		s.sessionFailed(w, r, err)
		return
	}
	s.metrics.SignIn(p.name(), metrics.SignInSuccess)
	s.rememberProvider(w, p)
	s.log.Info("signed in", "request_id", requestID(r), "user_id", id.UserID, "provider", p.name(), "groups_kept", len(id.Groups), "silent", ls.Silent)
	w.Header().Set("Cache-Control", "no-store")
	s.redirect(w, r, ls.Return, http.StatusFound)
}

// signInRefused answers a callback that carries an error from the provider.
// A silent re-check that the provider cannot answer without the person
// (OIDC Core 3.1.2.6) becomes a normal sign-in; any other refusal of a
// re-check ends the session, so nothing is decided on what it held.
func (s *Server) signInRefused(w http.ResponseWriter, r *http.Request, p *provider, ls *loginState, code string) {
	err := fmt.Errorf("gateway: provider answered %s", code)
	if ls.Silent {
		switch code {
		case "login_required", "interaction_required", "consent_required", "account_selection_required":
			// Not a sign-in that ended: the person is asked in the usual way.
			s.log.Info("silent re-check needs the person; signing in again", "request_id", requestID(r), "answer", code)
			s.beginLogin(w, r, p, ls.Return, "")
			return
		}
		s.sessions.clear(w)
	}
	s.metrics.SignIn(p.name(), metrics.SignInProviderError)
	s.recordSignIn(r, nil, "the provider answered "+code)
	if code == "access_denied" {
		s.fail(w, r, http.StatusForbidden, pageLoginDenied, err)
		return
	}
	s.fail(w, r, http.StatusBadRequest, pageLoginFailed, err)
}
