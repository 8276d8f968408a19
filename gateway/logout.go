package gateway

import "net/http"

// serveLogout ends the session. It is a POST behind cross-origin protection
// (Sec-Fetch-Site / Origin), and the session cookie is SameSite=Lax, so
// another site cannot sign a person out.
func (s *Server) serveLogout(w http.ResponseWriter, r *http.Request) {
	if id := s.sessions.load(r); id != nil {
		s.log.Info("signed out", "request_id", requestID(r), "user_id", id.UserID)
	}
	s.sessions.clear(w)
	s.render(w, r, http.StatusOK, "signedout.html", map[string]any{"ProviderDone": false})
}
