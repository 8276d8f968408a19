package gateway

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/roomgate/roomgate/internal/metrics"
)

// signedOutPath is where the provider sends the browser back after logout
// at the provider: the post_logout_redirect_uri to register there.
const signedOutPath = "/auth/signed-out"

// serveLogout ends the session. It is a POST behind cross-origin protection
// (Sec-Fetch-Site / Origin), and the session cookie is SameSite=Lax, so
// another site cannot sign a person out.
//
// When the provider offers an end-session endpoint (OpenID Connect
// RP-Initiated Logout 1.0), the browser continues there to end the
// provider's session too, with the ID token as id_token_hint when the
// session kept it (it may be too big for a cookie), and always with
// client_id, then comes back to /auth/signed-out. Otherwise, or while the
// provider cannot be reached, the page says the provider may still
// remember the person.
func (s *Server) serveLogout(w http.ResponseWriter, r *http.Request) {
	var hint, refresh string
	p := s.primary()
	if id := s.sessions.load(r); id != nil {
		hint = s.sessions.grants.idToken(r, id)
		refresh = s.sessions.grants.refreshToken(r, id)
		s.log.Info("signed out", "request_id", requestID(r), "user_id", id.UserID)
		if p = s.providerOf(id.Provider); p == nil {
			p = s.primary()
		}
	}
	s.sessions.clear(w)
	d, err := p.get(r.Context())
	if err != nil {
		s.log.Warn("signed out here only: provider not reachable", "request_id", requestID(r), "err", err)
	}
	if err == nil && refresh != "" {
		s.revokeRefreshToken(r, p, d, refresh)
	}
	if err != nil || d.endSession == "" {
		s.render(w, r, http.StatusOK, "signedout.html", map[string]any{"ProviderDone": false, "TitleKey": "signedout.title"})
		return
	}
	end, err := url.Parse(d.endSession)
	if err != nil {
		s.log.Warn("signed out here only: end_session_endpoint is not a URL", "request_id", requestID(r), "err", err)
		s.render(w, r, http.StatusOK, "signedout.html", map[string]any{"ProviderDone": false, "TitleKey": "signedout.title"})
		return
	}
	q := end.Query()
	if hint != "" {
		q.Set("id_token_hint", hint)
	}
	q.Set("client_id", p.cfg.ClientID)
	q.Set("post_logout_redirect_uri", s.cfg.Server.PublicURL.String()+signedOutPath)
	end.RawQuery = q.Encode()
	// The page the provider sends the browser back to may say the provider
	// ended its session only for this browser, which this marker shows.
	http.SetCookie(w, s.signOutMarker("1", int(loginTTL/time.Second)))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, end.String(), http.StatusSeeOther)
}

// serveSignedOut is where the provider sends the browser after ending its
// session too. Anyone can open it, so it says only what is true: still
// signed in, when the browser is; that the provider's session ended too,
// only when this browser's logout went there.
func (s *Server) serveSignedOut(w http.ResponseWriter, r *http.Request) {
	_, err := r.Cookie(s.signOutMarker("", 0).Name)
	marked := err == nil
	if marked {
		http.SetCookie(w, s.signOutMarker("", -1))
	}
	if s.sessions.load(r) != nil {
		s.render(w, r, http.StatusOK, "signedout.html", map[string]any{"StillSignedIn": true, "TitleKey": "still.title"})
		return
	}
	s.render(w, r, http.StatusOK, "signedout.html", map[string]any{"ProviderDone": marked, "TitleKey": "signedout.title"})
}

// signOutMarker is the short-lived cookie that says this browser's logout
// continued at the provider. It is a __Host- cookie on https, so a sibling
// subdomain cannot plant one to make the page claim what did not happen.
func (s *Server) signOutMarker(value string, maxAge int) *http.Cookie {
	secure := s.cfg.Server.PublicURL.Scheme == "https"
	return &http.Cookie{Name: cookieName("roomgate_signout", secure), Value: value, Path: "/",
		MaxAge: maxAge, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
}

// revokeTimeout bounds the revocation call of a logout: the person is
// waiting for the next page.
const revokeTimeout = 3 * time.Second

// revokeRefreshToken asks the provider to revoke the session's refresh
// token (RFC 7009), when discovery names a revocation endpoint, so that a
// copy of the cookies taken before logout cannot refresh for the rest of
// the session. It is best effort: a failure is logged, and the person is
// signed out here either way.
func (s *Server) revokeRefreshToken(r *http.Request, p *provider, d *discovered, token string) {
	if d.revocation == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), revokeTimeout)
	defer cancel()
	form := url.Values{"token": {token}, "token_type_hint": {"refresh_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.revocation, strings.NewReader(form.Encode()))
	if err != nil {
		s.log.Warn("refresh token not revoked: bad revocation_endpoint", "request_id", requestID(r), "err", err)
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// RFC 6749 2.3.1: both are form-encoded before Basic.
	req.SetBasicAuth(url.QueryEscape(p.cfg.ClientID), url.QueryEscape(p.cfg.ClientSecret))
	resp, err := p.client.Do(req)
	if err != nil {
		s.metrics.ProviderError(p.name(), metrics.ProviderRevoke)
		s.log.Warn("refresh token not revoked: provider not reachable", "request_id", requestID(r), "err", err)
		return
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.metrics.ProviderError(p.name(), metrics.ProviderRevoke)
		s.log.Warn("refresh token not revoked: the provider refused", "request_id", requestID(r), "status", resp.StatusCode)
		return
	}
	s.log.Info("refresh token revoked at the provider", "request_id", requestID(r))
}
