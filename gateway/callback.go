package gateway

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
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
		s.fail(w, r, http.StatusBadRequest, pageLoginExpired, errors.New("gateway: callback without code"))
		return
	}
	d, err := s.provider.get(r.Context())
	if err != nil {
		s.providerDown(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(s.provider.context(r.Context()), exchangeTimeout)
	defer cancel()

	tok, err := d.oauth2.Exchange(ctx, code, oauth2.VerifierOption(ls.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			// The provider refused the code: replayed, expired, or a PKCE
			// verifier that does not match. Start again.
			s.fail(w, r, http.StatusBadRequest, pageLoginExpired, fmt.Errorf("gateway: code exchange refused: %w", err))
			return
		}
		s.providerDown(w, r, fmt.Errorf("gateway: code exchange: %w", err))
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		s.fail(w, r, http.StatusBadGateway, pageProviderDown, errors.New("gateway: token response without id_token"))
		return
	}
	idt, err := d.verifier.Verify(ctx, raw)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, pageLoginFailed, fmt.Errorf("gateway: ID token refused: %w", err))
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(ls.Nonce)) != 1 {
		s.fail(w, r, http.StatusBadRequest, pageLoginFailed, errors.New("gateway: ID token nonce does not match this sign-in"))
		return
	}
	id, err := s.readIdentity(ctx, d, tok, idt)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, pageLoginFailed, err)
		return
	}
	if err := s.sessions.save(w, r, id); err != nil {
		s.fail(w, r, http.StatusInternalServerError, pageInternal, err)
		return
	}
	s.log.Info("signed in", "request_id", requestID(r), "user_id", id.UserID, "groups_kept", len(id.Groups))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, ls.Return, http.StatusFound)
}

// signInRefused answers a callback that carries an error from the provider.
func (s *Server) signInRefused(w http.ResponseWriter, r *http.Request, ls *loginState, code string) {
	err := fmt.Errorf("gateway: provider answered %s", code)
	if code == "access_denied" {
		s.fail(w, r, http.StatusForbidden, pageLoginDenied, err)
		return
	}
	s.fail(w, r, http.StatusBadRequest, pageLoginFailed, err)
}

// readIdentity reads the person from the verified ID token, asking userinfo
// for what the ID token lacks (many providers keep groups there).
func (s *Server) readIdentity(ctx context.Context, d *discovered, tok *oauth2.Token, idt *oidc.IDToken) (*identity, error) {
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("gateway: reading ID token claims: %w", err)
	}
	c := s.cfg.OIDC.Claims
	needInfo := false
	for _, name := range []string{c.Groups, c.Name, c.Email, c.UserID} {
		if _, ok := claimValue(claims, name); !ok {
			needInfo = true
		}
	}
	if needInfo && d.oidc.UserInfoEndpoint() != "" {
		info, err := d.oidc.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			s.log.Warn("userinfo unavailable; using the ID token alone", "err", err)
		} else {
			var extra map[string]any
			if err := info.Claims(&extra); err == nil {
				// OIDC Core 5.3.2: userinfo is about the same subject or
				// it is not used at all.
				if sub, _ := extra["sub"].(string); sub != idt.Subject {
					return nil, fmt.Errorf("gateway: userinfo subject %q does not match ID token subject %q", sub, idt.Subject)
				}
				for k, v := range extra {
					if _, ok := claims[k]; !ok {
						claims[k] = v
					}
				}
			}
		}
	}
	now := s.now()
	id := &identity{
		UserID:   claimUserID(claims, c.UserID),
		Name:     claimString(claims, c.Name),
		Avatar:   claimString(claims, c.Avatar),
		SignedIn: now.Unix(),
		Checked:  now.Unix(),
		Expires:  now.Add(s.cfg.Session.Lifetime).Unix(),
	}
	if id.UserID == "" {
		return nil, fmt.Errorf("gateway: no user id in claim %q", c.UserID)
	}
	if emailVerified(claims) {
		id.Email = claimString(claims, c.Email)
	}
	groups, present, skipped := claimStrings(claims, c.Groups)
	if skipped > 0 {
		s.log.Warn("ignored group claim members that are not strings", "claim", c.Groups, "count", skipped, "user_id", id.UserID)
	}
	if !present {
		s.log.Info("no groups claim for this person", "claim", c.Groups, "user_id", id.UserID)
	}
	id.Groups = s.rules.Load().Relevant(groups)
	return id, nil
}
