package gateway

import (
	"net/http"
	"net/url"
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
	var hint string
	if id := s.sessions.load(r); id != nil {
		hint = s.sessions.grants.idToken(r, id)
		s.log.Info("signed out", "request_id", requestID(r), "user_id", id.UserID)
	}
	s.sessions.clear(w)
	d, err := s.provider.get(r.Context())
	if err != nil {
		s.log.Warn("signed out here only: provider not reachable", "request_id", requestID(r), "err", err)
	}
	if err != nil || d.endSession == "" {
		s.render(w, r, http.StatusOK, "signedout.html", map[string]any{"ProviderDone": false})
		return
	}
	end, err := url.Parse(d.endSession)
	if err != nil {
		s.log.Warn("signed out here only: end_session_endpoint is not a URL", "request_id", requestID(r), "err", err)
		s.render(w, r, http.StatusOK, "signedout.html", map[string]any{"ProviderDone": false})
		return
	}
	q := end.Query()
	if hint != "" {
		q.Set("id_token_hint", hint)
	}
	q.Set("client_id", s.cfg.OIDC.ClientID)
	q.Set("post_logout_redirect_uri", s.cfg.Server.PublicURL.String()+signedOutPath)
	end.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, end.String(), http.StatusSeeOther)
}

// serveSignedOut is where the provider sends the browser after ending its
// session too.
func (s *Server) serveSignedOut(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "signedout.html", map[string]any{"ProviderDone": true})
}
