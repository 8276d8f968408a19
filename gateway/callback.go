package gateway

import (
	"cmp"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/roomgate/roomgate/internal/metrics"
)

// exchangeTimeout bounds the back-channel calls of one callback.
const exchangeTimeout = 15 * time.Second

// errCode is the shape of an OAuth error code (RFC 6749 4.1.2.1); anything
// else from the query string is not repeated anywhere.
var errCode = regexp.MustCompile(`^[a-z_]{1,64}$`)

// serveCallback finishes a sign-in: it checks state against this browser's
// login cookie, exchanges the code with the PKCE verifier, verifies the ID
// token and its nonce, reads the person, and starts the session.
func (s *Server) serveCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ls := s.logins.take(w, r, q.Get("state"))
	if ls == nil {
		s.metrics.SignIn(metrics.SignInStateInvalid)
		s.fail(w, r, http.StatusBadRequest, pageLoginExpired, errors.New("gateway: callback without a matching login state"))
		return
	}
	if e := q.Get("error"); e != "" {
		if !errCode.MatchString(e) {
			e = "invalid_error"
		}
		s.signInRefused(w, r, ls, e)
		return
	}
	code := q.Get("code")
	if code == "" {
		s.metrics.SignIn(metrics.SignInStateInvalid)
		s.fail(w, r, http.StatusBadRequest, pageLoginExpired, errors.New("gateway: callback without code"))
		return
	}
	d, err := s.provider.get(r.Context())
	if err != nil {
		s.metrics.SignIn(metrics.SignInProviderError)
		s.providerDown(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(s.provider.context(r.Context()), exchangeTimeout)
	defer cancel()

	tok, err := d.oauth2.Exchange(ctx, code, oauth2.VerifierOption(ls.Verifier))
	if err != nil {
		s.metrics.SignIn(metrics.SignInExchangeFailed)
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			// The provider refused the code: replayed, expired, or a PKCE
			// verifier that does not match. Start again.
			s.fail(w, r, http.StatusBadRequest, pageLoginExpired, fmt.Errorf("gateway: code exchange refused: %w", err))
			return
		}
		s.metrics.ProviderError(metrics.ProviderExchange)
		s.providerDown(w, r, fmt.Errorf("gateway: code exchange: %w", err))
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		s.metrics.SignIn(metrics.SignInTokenInvalid)
		s.fail(w, r, http.StatusBadGateway, pageProviderDown, errors.New("gateway: token response without id_token"))
		return
	}
	idt, err := d.verifier.Verify(ctx, raw)
	if err != nil {
		s.metrics.SignIn(metrics.SignInTokenInvalid)
		s.fail(w, r, http.StatusBadRequest, pageLoginFailed, fmt.Errorf("gateway: ID token refused: %w", err))
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(ls.Nonce)) != 1 {
		s.metrics.SignIn(metrics.SignInTokenInvalid)
		s.fail(w, r, http.StatusBadRequest, pageLoginFailed, errors.New("gateway: ID token nonce does not match this sign-in"))
		return
	}
	v := s.sessions.viewOf(s.rules.Load())
	id, err := s.readIdentity(ctx, d, tok, idt, v)
	if err != nil {
		if ls.Silent {
			s.sessions.clear(w)
		}
		var unavailable *unavailableError
		if errors.As(err, &unavailable) {
			s.metrics.SignIn(metrics.SignInProviderError)
		} else {
			s.metrics.SignIn(metrics.SignInRefused)
		}
		s.identityFailed(w, r, err)
		return
	}
	if old := s.sessions.load(r); ls.Silent && old != nil && old.Subject == id.Subject {
		// A re-check does not lengthen the sign-in: after
		// session.lifetime the person signs in again.
		id.SignedIn, id.Expires = old.SignedIn, old.Expires
	}
	if err := s.startSession(w, r, id, v, tok.RefreshToken, raw); err != nil {
		s.fail(w, r, http.StatusInternalServerError, pageInternal, err)
		return
	}
	s.metrics.SignIn(metrics.SignInSuccess)
	s.log.Info("signed in", "request_id", requestID(r), "user_id", id.UserID, "groups_kept", len(id.Groups), "silent", ls.Silent)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, ls.Return, http.StatusFound)
}

// startSession writes the session cookie for id and keeps the provider's
// tokens that fit.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, id *identity, v *groupView, refreshToken, idToken string) error {
	v.pack(id)
	if err := s.sessions.save(w, r, id); err != nil {
		return err
	}
	_, _, err := s.sessions.grants.save(w, id, refreshToken, idToken)
	return err
}

// signInRefused answers a callback that carries an error from the provider.
// A silent re-check that the provider cannot answer without the person
// (OIDC Core 3.1.2.6) becomes a normal sign-in; any other refusal of a
// re-check ends the session, so nothing is decided on what it held.
func (s *Server) signInRefused(w http.ResponseWriter, r *http.Request, ls *loginState, code string) {
	err := fmt.Errorf("gateway: provider answered %s", code)
	if ls.Silent {
		switch code {
		case "login_required", "interaction_required", "consent_required", "account_selection_required":
			// Not a sign-in that ended: the person is asked in the usual way.
			s.log.Info("silent re-check needs the person; signing in again", "request_id", requestID(r), "answer", code)
			s.startLogin(w, r, ls.Return)
			return
		}
		s.sessions.clear(w)
	}
	s.metrics.SignIn(metrics.SignInProviderError)
	if code == "access_denied" {
		s.fail(w, r, http.StatusForbidden, pageLoginDenied, err)
		return
	}
	s.fail(w, r, http.StatusBadRequest, pageLoginFailed, err)
}

// readIdentity reads the person from the verified ID token of a sign-in,
// asking userinfo for what the ID token lacks (many providers keep groups
// there), and keeps the groups v says a session needs.
func (s *Server) readIdentity(ctx context.Context, d *discovered, tok *oauth2.Token, idt *oidc.IDToken, v *groupView) (*identity, error) {
	claims, err := s.gatherClaims(ctx, d, tok, idt, idt.Subject)
	if err != nil {
		return nil, err
	}
	return s.identityFrom(ctx, tok, claims, idt.Subject, v, nil)
}

// gatherClaims returns the claims of idt (nil after a refresh without an ID
// token) completed from userinfo where the configured claims are missing.
// Userinfo must be about subject (OIDC Core 5.3.2). When the groups can
// only come from userinfo and it does not answer, nothing is decided on a
// guess: the error is an unavailableError.
func (s *Server) gatherClaims(ctx context.Context, d *discovered, tok *oauth2.Token, idt *oidc.IDToken, subject string) (map[string]any, error) {
	claims := map[string]any{}
	if idt != nil {
		if err := idt.Claims(&claims); err != nil {
			return nil, fmt.Errorf("gateway: reading ID token claims: %w", err)
		}
	}
	c := s.cfg.OIDC.Claims
	needInfo := false
	for _, name := range []string{c.Groups, c.Name, c.Email, c.UserID} {
		if _, ok := claimValue(claims, name); !ok {
			needInfo = true
		}
	}
	_, haveGroups := claimValue(claims, c.Groups)
	haveGroups = haveGroups || overage(claims, c.Groups)
	if !needInfo || d.oidc.UserInfoEndpoint() == "" {
		if idt == nil {
			return nil, errors.New("gateway: refresh answered without an ID token and the provider has no userinfo endpoint")
		}
		return claims, nil
	}
	info, err := d.oidc.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		if idt == nil || !haveGroups {
			s.metrics.ProviderError(metrics.ProviderUserinfo)
			return nil, &unavailableError{fmt.Errorf("gateway: userinfo: %w", err)}
		}
		s.metrics.ProviderError(metrics.ProviderUserinfo)
		s.log.Warn("userinfo unavailable; using the ID token alone", "err", err)
		return claims, nil
	}
	var extra map[string]any
	if err := info.Claims(&extra); err != nil {
		return nil, fmt.Errorf("gateway: reading userinfo: %w", err)
	}
	// OIDC Core 5.3.2: userinfo is about the same subject or it is not
	// used at all.
	if sub, _ := extra["sub"].(string); sub != subject {
		return nil, fmt.Errorf("gateway: userinfo subject %q does not match subject %q", sub, subject)
	}
	for k, v := range extra {
		if _, ok := claims[k]; !ok {
			claims[k] = v
		}
	}
	return claims, nil
}

// identityFrom builds the session's identity from the person's claims.
// Groups come from the configured claim, and only from there: absent means
// none. An Entra ID groups overage is resolved through Microsoft Graph when
// configured, and is otherwise an overageError. After a refresh, prev is
// the session's identity, whose user id, name, email and avatar stand in
// for claims the refreshed answer left out.
func (s *Server) identityFrom(ctx context.Context, tok *oauth2.Token, claims map[string]any, subject string, v *groupView, prev *identity) (*identity, error) {
	c := s.cfg.OIDC.Claims
	now := s.now()
	id := &identity{
		Subject:  subject,
		UserID:   claimUserID(claims, c.UserID),
		Name:     claimString(claims, c.Name),
		Avatar:   claimString(claims, c.Avatar),
		SignedIn: now.Unix(),
		Checked:  now.Unix(),
		Expires:  now.Add(s.cfg.Session.Lifetime).Unix(),
	}
	if emailVerified(claims) {
		id.Email = claimString(claims, c.Email)
	}
	if prev != nil {
		id.UserID = cmp.Or(id.UserID, prev.UserID)
		id.Name = cmp.Or(id.Name, prev.Name)
		id.Avatar = cmp.Or(id.Avatar, prev.Avatar)
		if _, ok := claimValue(claims, c.Email); !ok {
			id.Email = prev.Email
		}
	}
	switch {
	case id.UserID == "":
		return nil, fmt.Errorf("gateway: no user id in claim %q", c.UserID)
	case len(id.UserID) > maxIDBytes || len(subject) > maxIDBytes:
		return nil, fmt.Errorf("gateway: user id or subject longer than %d bytes", maxIDBytes)
	}
	id.Name = cut(id.Name, maxNameBytes)
	id.Email = boundEmail(id.Email)
	if len(id.Avatar) > maxAvatarBytes {
		s.log.Info("picture URL too long to keep; entering without it", "user_id", id.UserID, "bytes", len(id.Avatar))
		id.Avatar = ""
	}
	groups, present, skipped := claimStrings(claims, c.Groups)
	if skipped > 0 {
		s.log.Warn("ignored group claim members that are not strings", "claim", c.Groups, "count", skipped, "user_id", id.UserID)
	}
	if !present {
		if overage(claims, c.Groups) {
			var err error
			if groups, err = s.resolveOverage(ctx, tok, id); err != nil {
				return nil, err
			}
		} else {
			s.log.Info("no groups claim for this person", "claim", c.Groups, "user_id", id.UserID)
		}
	}
	id.Groups = v.keep(groupNames(groups, c.GroupNames))
	return id, nil
}

// identityFailed answers a sign-in or re-check whose answer could not be
// turned into an identity.
func (s *Server) identityFailed(w http.ResponseWriter, r *http.Request, err error) {
	var unavailable *unavailableError
	var over *overageError
	switch {
	case errors.As(err, &unavailable):
		s.providerDown(w, r, err)
	case errors.As(err, &over):
		s.fail(w, r, http.StatusBadGateway, pageGroupsOverage, err)
	default:
		s.fail(w, r, http.StatusBadRequest, pageLoginFailed, err)
	}
}
