package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"

	"github.com/roomgate/roomgate/internal/store"
)

// logoutEvent is the member of a logout token's events claim that makes it
// one (OpenID Connect Back-Channel Logout 1.0, 2.4).
const logoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// maxLogoutTokenAge bounds how old a logout token's iat may be, and so how
// long its jti must be remembered to refuse a replay.
const maxLogoutTokenAge = 5 * time.Minute

// serveBackchannelLogout ends sessions when the provider says so: a POST of
// a logout_token (Back-Channel Logout 1.0, 2.5), validated as 2.6 says, ends
// every session of its sid, or of its sub when it has no sid, on every
// replica. 200 when accepted; 400 otherwise, and also when the revocation
// could not be shared with the other replicas (this one applies it
// anyway): never a 200 for a logout that did not take effect everywhere.
func (s *Server) serveBackchannelLogout(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	client := throttleKey(s.clientIP(r))
	answer := func(status int, code string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": code})
	}
	// Anyone can post here; a provider's tokens never fail, so failures
	// from one network are throttled like failed sign-ins.
	if !s.logouts.allowed(client, s.now()) {
		s.log.Warn("back-channel logout throttled: too many refused tokens from one address", "request_id", requestID(r), "client_ip", s.clientIP(r))
		w.Header().Set("Retry-After", "10")
		answer(http.StatusTooManyRequests, "slow_down")
		return
	}
	refuse := func(code string, err error) {
		s.log.Warn("back-channel logout refused", "request_id", requestID(r), "err", err)
		if code == "invalid_request" {
			s.logouts.failed(client, s.now())
		}
		answer(http.StatusBadRequest, code)
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		refuse("invalid_request", err)
		return
	}
	raw := r.PostForm.Get("logout_token")
	if raw == "" {
		refuse("invalid_request", errors.New("no logout_token"))
		return
	}
	// The token names its issuer; it is verified with that provider's
	// keys, for that provider's client, and ends only that provider's
	// people's sessions.
	p := s.providerByIssuer(unverifiedIssuer(raw))
	if p == nil {
		refuse("invalid_request", errors.New("gateway: logout token from an issuer that is none of the providers"))
		return
	}
	d, err := p.get(r.Context())
	if err != nil {
		refuse("temporarily_unavailable", err)
		return
	}
	ctx, cancel := p.call(r.Context(), p.exchangeTimeout())
	defer cancel()
	lt, err := s.verifyLogoutToken(ctx, p, d, raw)
	if err != nil {
		refuse("invalid_request", err)
		return
	}
	// 2.6 step 8: a jti used once, across replicas.
	fresh, err := s.revoked.Store().UseOnce(ctx, "jti:"+lt.Issuer+":"+lt.JTI, 2*maxLogoutTokenAge)
	switch {
	case err != nil:
		refuse("temporarily_unavailable", fmt.Errorf("gateway: the store cannot record the logout token's jti: %w", err))
		return
	case !fresh:
		refuse("invalid_request", errors.New("gateway: logout token replayed (jti already used)"))
		return
	}
	// 2.7: a sid ends that session of the provider's; a sub alone, every
	// session of the person. With both, the sessions that remember no sid
	// (cookies from before sessions kept it) are the person's too.
	rev := store.Revocation{Kind: store.KindSession, Value: qualified(p.id, lt.SID), At: s.now(), Expires: s.now().Add(s.cfg.Session.Lifetime)}
	revs := []store.Revocation{rev}
	switch {
	case lt.SID == "":
		revs[0].Kind, revs[0].Value = store.KindSubject, qualified(p.id, lt.Subject)
	case lt.Subject != "":
		rev.Kind, rev.Value = store.KindSubjectWithoutSession, qualified(p.id, lt.Subject)
		revs = append(revs, rev)
	}
	for _, rev := range revs {
		if err := s.revoke(r.Context(), rev, "back-channel logout", requestID(r)); err != nil {
			refuse("temporarily_unavailable", err)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

// unverifiedIssuer returns the iss a JWT claims, read without verifying
// anything: only to choose the provider whose keys then verify it all.
// "" when raw is no JWT.
func unverifiedIssuer(raw string) string {
	var c jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(raw, &c); err != nil {
		return ""
	}
	return c.Issuer
}

// providerByIssuer returns the provider whose issuer is iss, or nil.
func (s *Server) providerByIssuer(iss string) *provider {
	for _, p := range s.providers {
		if iss != "" && p.cfg.Issuer == iss {
			return p
		}
	}
	return nil
}

// logoutToken is what a verified logout token says.
type logoutToken struct {
	Issuer, Subject, SID, JTI string
}

// verifyLogoutToken checks raw as Back-Channel Logout 1.0, 2.6 says: a JWT
// signed with the provider's keys, iss the issuer and aud roomgate's client
// id (go-oidc, OIDC Core 3.1.3.7), iat no older than maxLogoutTokenAge and
// not in the future, a jti, the logout event, a sid or a sub, and no nonce
// (so an ID token can never pass for one).
func (s *Server) verifyLogoutToken(ctx context.Context, p *provider, d *discovered, raw string) (*logoutToken, error) {
	v := oidc.NewVerifier(p.cfg.Issuer, d.logoutKeys, &oidc.Config{
		ClientID: p.cfg.ClientID, Now: s.now, SkipExpiryCheck: true, SupportedSigningAlgs: d.algorithms,
	})
	tok, err := v.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("gateway: logout token: %w", err)
	}
	var c struct {
		IAT    *int64                     `json:"iat"`
		Exp    *int64                     `json:"exp"`
		JTI    string                     `json:"jti"`
		SID    string                     `json:"sid"`
		Nonce  *json.RawMessage           `json:"nonce"`
		Events map[string]json.RawMessage `json:"events"`
	}
	if err := tok.Claims(&c); err != nil {
		return nil, fmt.Errorf("gateway: logout token claims: %w", err)
	}
	now := s.now()
	switch {
	case c.IAT == nil:
		return nil, errors.New("gateway: logout token without iat")
	case now.Sub(time.Unix(*c.IAT, 0)) > maxLogoutTokenAge:
		return nil, fmt.Errorf("gateway: logout token issued %s ago; at most %s", now.Sub(time.Unix(*c.IAT, 0)).Round(time.Second), maxLogoutTokenAge)
	case time.Unix(*c.IAT, 0).Sub(now) > time.Minute:
		return nil, errors.New("gateway: logout token issued in the future")
	case c.Exp != nil && !now.Before(time.Unix(*c.Exp, 0)):
		return nil, errors.New("gateway: logout token expired")
	case c.JTI == "" || len(c.JTI) > 256:
		return nil, errors.New("gateway: logout token without a usable jti")
	case c.Nonce != nil:
		return nil, errors.New("gateway: logout token with a nonce (2.6: it must have none)")
	case c.SID == "" && tok.Subject == "":
		return nil, errors.New("gateway: logout token with neither sid nor sub")
	}
	ev, ok := c.Events[logoutEvent]
	var obj map[string]any
	if !ok || json.Unmarshal(ev, &obj) != nil {
		return nil, errors.New("gateway: logout token without the back-channel logout event")
	}
	return &logoutToken{Issuer: tok.Issuer, Subject: tok.Subject, SID: c.SID, JTI: c.JTI}, nil
}

// revoke ends the sessions rev names on every replica, writing the audit
// line. When the store cannot take it, this replica applies it anyway and
// the error says the others could not be told.
func (s *Server) revoke(ctx context.Context, rev store.Revocation, by, requestID string) error {
	err := s.revoked.Store().Revoke(ctx, rev)
	if err != nil {
		s.revoked.AddLocal(rev)
	} else {
		s.revoked.Add(rev)
	}
	s.log.Info("revocation", "audit", true, "request_id", requestID, "by", by, "kind", string(rev.Kind), "value", rev.Value,
		"shared", err == nil && s.revoked.Store().Shared(), "until", rev.Expires.UTC().Format(time.RFC3339))
	if err != nil {
		return fmt.Errorf("gateway: revocation applied on this replica only; the store did not take it: %w", err)
	}
	return nil
}
