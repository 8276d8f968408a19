package gateway

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// serveLogin starts a sign-in that returns to ?next= (a path of this
// gateway; anything else returns to /). Pages use it for "Sign in again".
func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request) {
	next, ok := safeReturnPath(r.URL.Query().Get("next"))
	if !ok {
		next = "/"
	}
	s.startLogin(w, r, next)
}

// startLogin sends the browser to the provider's authorization endpoint
// (authorization code flow with PKCE), remembering where to come back to.
func (s *Server) startLogin(w http.ResponseWriter, r *http.Request, returnTo string) {
	s.beginLogin(w, r, returnTo, "")
}

// startSilentLogin is startLogin with prompt=none (OIDC Core 3.1.2.1): the
// provider answers at once, without showing the person anything, either
// with a code for whoever is signed in there or with login_required (or
// interaction_required, consent_required), which the callback turns into a
// normal sign-in.
func (s *Server) startSilentLogin(w http.ResponseWriter, r *http.Request, returnTo string) {
	s.beginLogin(w, r, returnTo, "none")
}

// serveSwitchAccount signs the person out here and starts a sign-in in
// which the provider lets them pick another account: prompt=select_account
// where discovery lists it, else prompt=login (OIDC Core 3.1.2.1). It is a
// POST behind cross-origin protection, like logout.
func (s *Server) serveSwitchAccount(w http.ResponseWriter, r *http.Request) {
	next, ok := safeReturnPath(r.FormValue("next"))
	if !ok {
		next = "/"
	}
	s.sessions.clear(w)
	prompt := "login"
	if d, err := s.provider.get(r.Context()); err == nil && slices.Contains(d.prompts, "select_account") {
		prompt = "select_account"
	}
	s.beginLogin(w, r, next, prompt)
}

// beginLogin sends the browser to the provider; prompt is "" or an OIDC
// prompt value ("none" makes it a silent re-check).
func (s *Server) beginLogin(w http.ResponseWriter, r *http.Request, returnTo string, prompt string) {
	s.beginLoginWith(w, r, returnTo, prompt, 0)
}

// beginLoginWith is beginLogin with OIDC's max_age when maxAge is set: the
// provider must have seen the person prove who they are within it, and
// the callback checks the ID token's auth_time (the helpdesk console).
func (s *Server) beginLoginWith(w http.ResponseWriter, r *http.Request, returnTo string, prompt string, maxAge time.Duration) {
	silent := prompt == "none"
	if _, ok := safeReturnPath(returnTo); !ok {
		returnTo = "/"
	}
	d, err := s.provider.get(r.Context())
	if err != nil {
		s.providerDown(w, r, err)
		return
	}
	ls := &loginState{
		State:    randomToken(),
		Nonce:    randomToken(),
		Verifier: oauth2.GenerateVerifier(),
		Return:   returnTo,
		Started:  s.now().Unix(),
		Silent:   silent,
		MaxAge:   int64(maxAge / time.Second),
	}
	if err := s.logins.save(w, r, ls); err != nil {
		s.fail(w, r, http.StatusInternalServerError, pageInternal, err)
		return
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(ls.Nonce), oauth2.S256ChallengeOption(ls.Verifier)}
	if prompt != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", prompt))
	}
	if maxAge > 0 {
		opts = append(opts, oauth2.SetAuthURLParam("max_age", maxAgeOf(maxAge)))
	}
	url := d.oauth2.AuthCodeURL(ls.State, opts...)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, url, http.StatusFound)
}

// maxAgeOf is a duration as OIDC's max_age: whole seconds.
func maxAgeOf(d time.Duration) string { return strconv.Itoa(int(d / time.Second)) }

// randomToken returns 128 random bits, base64url: for state, nonce, jti.
func randomToken() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// isToken reports whether s looks like randomToken's output, which keeps an
// attacker's state parameter from naming arbitrary cookies.
func isToken(s string) bool {
	if len(s) != 22 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
