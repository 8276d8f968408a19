package gateway

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/roomgate/roomgate/internal/metrics"
	"github.com/roomgate/roomgate/mapping"
)

// refreshReuse is how long one refresh answers every request that comes
// with the same refresh token: the requests and tabs that raced the one
// that refreshed, whose cookies still hold the token the provider has just
// replaced.
const refreshReuse = 30 * time.Second

// fresh returns id ready to decide on with rules: its groups unpacked, and
// re-checked at the provider first when they are older than session.recheck
// or were kept for other group patterns than rules has. When it returns
// nil it has answered the request itself, with a redirect or an error
// page, and the caller must stop.
//
// A re-check uses the refresh token when the session kept one, and shows
// the person nothing; otherwise it is a silent sign-in (prompt=none) that
// comes back to returnTo. See refreshSession for what a failed refresh does.
func (s *Server) fresh(w http.ResponseWriter, r *http.Request, rules *mapping.RuleSet, id *identity, returnTo string) *identity {
	v := s.sessions.viewOf(rules)
	current := v.unpack(id)
	if current && s.now().Sub(time.Unix(id.Checked, 0)) < s.cfg.Session.Recheck {
		return id
	}
	why := "groups older than session.recheck"
	if !current {
		why = "the rule set's group patterns changed"
	}
	if rt := s.sessions.grants.refreshToken(r, id); rt != "" {
		s.log.Info("re-checking groups with the refresh token", "request_id", requestID(r), "user_id", id.UserID, "why", why)
		return s.refreshSession(w, r, v, id, rt, returnTo)
	}
	s.log.Info("re-checking groups with a silent sign-in", "request_id", requestID(r), "user_id", id.UserID, "why", why)
	s.startSilentLogin(w, r, id.Provider, returnTo)
	return nil
}

// refreshSession re-reads the person with the refresh token and saves the
// result. When it fails, nothing is decided on the old groups:
//
//   - the provider is unreachable or failing (5xx): the 502 page; the
//     session stays, to be refreshed when the provider is back;
//   - the provider refuses the refresh (invalid_grant: the account was
//     disabled, consent or the session revoked, the token expired), or its
//     answer does not verify: the person is signed out and sent to a normal
//     sign-in, where the provider shows them why they cannot come in, or
//     lets them in again;
//   - the groups are an overage roomgate cannot resolve: signed out, and the
//     page that says so.
func (s *Server) refreshSession(w http.ResponseWriter, r *http.Request, v *groupView, id *identity, rt, returnTo string) *identity {
	res, err := s.flights.do(v.fingerprint+"\x00"+rt, s.now, func() (*refreshed, error) {
		return s.refresh(r.Context(), v, id, rt)
	})
	if err != nil {
		s.identityFailed(w, r, err, func() {
			s.log.Warn("refresh refused; signing the person out", "request_id", requestID(r), "user_id", id.UserID, "err", err)
			s.sessions.clear(w)
			s.signInAgain(w, r, id, returnTo)
		})
		return nil
	}
	next := *res.id // shared with racing requests: save packs into a copy
	if err := s.startSession(w, r, &next, v, res.refreshToken, res.idToken); err != nil {
		s.sessionFailed(w, r, err)
		return nil
	}
	s.log.Info("groups re-checked", "request_id", requestID(r), "user_id", next.UserID, "groups_kept", len(next.Groups))
	return &next
}

// refreshed is what a refresh yields.
type refreshed struct {
	id           *identity
	refreshToken string // the provider's new one, or the old one when it kept it
	idToken      string // "" when the answer had none
}

// refresh redeems rt (RFC 6749 6) and reads the person again: from the new
// ID token when there is one, verified like a sign-in's and about the same
// subject (OIDC Core 12.2), and from userinfo for what it lacks. The
// session's sign-in time and end stay as they were.
func (s *Server) refresh(ctx context.Context, v *groupView, old *identity, rt string) (*refreshed, error) {
	p := s.providerOf(old.Provider)
	if p == nil {
		return nil, fmt.Errorf("gateway: no provider %q any more", old.Provider)
	}
	d, err := p.get(ctx)
	if err != nil {
		return nil, &unavailableError{err}
	}
	ctx, cancel := p.call(ctx, p.exchangeTimeout())
	defer cancel()
	tok, err := d.oauth2.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			// The answer's description may say anything; its code is
			// the part worth logging.
			code := re.ErrorCode
			if !errCode.MatchString(code) {
				code = "no error code"
			}
			return nil, fmt.Errorf("gateway: refresh refused: %s (HTTP %d)", code, re.Response.StatusCode)
		}
		if p.failed(err) {
			s.metrics.ProviderError(p.name(), metrics.ProviderRefresh)
		}
		return nil, &unavailableError{fmt.Errorf("gateway: refresh: %w", err)}
	}
	var idt *oidc.IDToken
	raw, _ := tok.Extra("id_token").(string)
	if raw != "" {
		if idt, err = d.verifier.Verify(ctx, raw); err != nil {
			return nil, fmt.Errorf("gateway: refreshed ID token refused: %w", err)
		}
		if idt.Subject != old.Subject {
			return nil, fmt.Errorf("gateway: refreshed ID token is about subject %q, not %q", idt.Subject, old.Subject)
		}
	}
	claims, err := s.gatherClaims(ctx, p, d, tok, idt, old.Subject)
	if err != nil {
		return nil, err
	}
	id, err := s.identityFrom(ctx, p, tok, claims, old.Subject, v, old)
	if err != nil {
		return nil, err
	}
	id.SignedIn, id.Expires = old.SignedIn, old.Expires
	return &refreshed{id: id, refreshToken: tok.RefreshToken, idToken: raw}, nil
}

// refreshFlights lets one refresh per refresh token reach the provider.
// Providers that rotate refresh tokens (Dex, Okta, oidctest) accept each
// one once, so two requests refreshing with the same cookie would sign the
// slower one out. The zero value is ready to use.
type refreshFlights struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]*flight
}

// flight is one refresh, running or done.
type flight struct {
	done  chan struct{}
	res   *refreshed
	err   error
	until time.Time // zero while running; then how long res answers
}

// do returns the result of the refresh for key: the one running, one that
// succeeded less than refreshReuse ago, or else a new one.
func (f *refreshFlights) do(key string, now func() time.Time, refresh func() (*refreshed, error)) (*refreshed, error) {
	k := sha256.Sum256([]byte(key)) // tokens are not kept as map keys
	f.mu.Lock()
	if f.m == nil {
		f.m = make(map[[sha256.Size]byte]*flight)
	}
	t := now()
	for other, fl := range f.m {
		if !fl.until.IsZero() && !t.Before(fl.until) {
			delete(f.m, other)
		}
	}
	if fl, ok := f.m[k]; ok {
		f.mu.Unlock()
		<-fl.done
		return fl.res, fl.err
	}
	fl := &flight{done: make(chan struct{})}
	f.m[k] = fl
	f.mu.Unlock()

	fl.res, fl.err = refresh()

	f.mu.Lock()
	if fl.err != nil {
		delete(f.m, k)
	} else {
		fl.until = now().Add(refreshReuse)
	}
	f.mu.Unlock()
	close(fl.done)
	return fl.res, fl.err
}
