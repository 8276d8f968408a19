package gateway

import (
	"io"
	"net/http"
)

// serveHealthz answers while the process can serve at all.
func (s *Server) serveHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// serveReadyz answers 200 once a rule set is loaded and the provider has
// been discovered; until then a load balancer should send people elsewhere.
func (s *Server) serveReadyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	switch {
	case s.rules.Load() == nil:
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "not ready: no rule set loaded\n")
	case !s.primary().ready():
		// The primary's people are most; another provider down hurts
		// only its own, who get the 502 page.
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "not ready: provider not discovered yet\n")
	case !s.revoked.Ready():
		// A replica that has not loaded every live revocation could let a
		// revoked person in.
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "not ready: revocations not loaded from the store yet\n")
	case !s.revoked.Up():
		// Still ready: every revocation known keeps applying, and taking
		// every replica out would end every meeting.
		io.WriteString(w, "ready; store unreachable: known revocations apply, new ones cannot be shared\n")
	default:
		io.WriteString(w, "ready\n")
	}
}

// Ready reports what /readyz answers: a rule set, the provider discovered,
// and every live revocation loaded.
func (s *Server) Ready() bool {
	return s.rules.Load() != nil && s.primary().ready() && s.revoked.Ready()
}
