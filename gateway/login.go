package gateway

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// serveLogin starts a sign-in that returns to ?next= (a path of this
// gateway; anything else returns to /). Pages use it for "Sign in again",
// and the chooser (chooser.go) for its choices: ?provider=ID signs in
// with that provider, ?email= with the one whose email_domains hold the
// address's domain, passing the address on as login_hint.
func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	next, ok := safeReturnPath(q.Get("next"))
	if !ok {
		next = "/"
	}
	switch {
	case q.Has("provider"):
		p := s.providerNamed(q.Get("provider"))
		if p == nil {
			s.showChooser(w, r, next, "chooser.unknown")
			return
		}
		s.beginLoginWith(w, r, p, next, "", 0, "")
	case q.Has("email"):
		email := strings.TrimSpace(q.Get("email"))
		p := s.providerForEmail(email)
		if p == nil {
			s.showChooser(w, r, next, "chooser.nodomain")
			return
		}
		s.beginLoginWith(w, r, p, next, "", 0, email)
	default:
		s.startLogin(w, r, next)
	}
}

// startLogin signs a person in who has no session, to come back to
// returnTo: straight to the provider when there is one, or when the room
// at returnTo names one (providers: [id]); else the chooser.
func (s *Server) startLogin(w http.ResponseWriter, r *http.Request, returnTo string) {
	if choices := s.choicesFor(returnTo); len(choices) == 1 {
		s.beginLogin(w, r, choices[0], returnTo, "")
		return
	}
	s.showChooser(w, r, returnTo, "")
}

// signInAgain signs in again a person whose session ended (revoked,
// refresh refused), with the provider that signed them in.
func (s *Server) signInAgain(w http.ResponseWriter, r *http.Request, id *identity, returnTo string) {
	if p := s.providerOf(id.Provider); p != nil {
		s.beginLogin(w, r, p, returnTo, "")
		return
	}
	s.startLogin(w, r, returnTo)
}

// startSilentLogin is a sign-in at provider (its id; "" is the primary)
// with prompt=none (OIDC Core 3.1.2.1): the provider answers at once,
// without showing the person anything, either with a code for whoever is
// signed in there or with login_required (or interaction_required,
// consent_required), which the callback turns into a normal sign-in.
func (s *Server) startSilentLogin(w http.ResponseWriter, r *http.Request, provider, returnTo string) {
	p := s.providerOf(provider)
	if p == nil {
		s.sessions.clear(w)
		s.startLogin(w, r, returnTo)
		return
	}
	s.beginLogin(w, r, p, returnTo, "none")
}

// serveSwitchAccount signs the person out here and starts a sign-in in
// which the provider lets them pick another account: prompt=select_account
// where discovery lists it, else prompt=login (OIDC Core 3.1.2.1). With
// several providers, the chooser comes first: the other account may be
// another provider's. It is a POST behind cross-origin protection, like
// logout.
func (s *Server) serveSwitchAccount(w http.ResponseWriter, r *http.Request) {
	next, ok := safeReturnPath(r.FormValue("next"))
	if !ok {
		next = "/"
	}
	s.sessions.clear(w)
	choices := s.choicesFor(next)
	if len(choices) > 1 {
		s.showChooser(w, r, next, "")
		return
	}
	p := choices[0]
	prompt := "login"
	if d, err := p.get(r.Context()); err == nil && slices.Contains(d.prompts, "select_account") {
		prompt = "select_account"
	}
	s.beginLogin(w, r, p, next, prompt)
}

// beginLogin sends the browser to provider p; prompt is "" or an OIDC
// prompt value ("none" makes it a silent re-check).
func (s *Server) beginLogin(w http.ResponseWriter, r *http.Request, p *provider, returnTo string, prompt string) {
	s.beginLoginWith(w, r, p, returnTo, prompt, 0, "")
}

// beginLoginWith is beginLogin with OIDC's max_age when maxAge is set: the
// provider must have seen the person prove who they are within it, and
// the callback checks the ID token's auth_time (the helpdesk console); and
// with login_hint when hint is set (the chooser's email box).
func (s *Server) beginLoginWith(w http.ResponseWriter, r *http.Request, p *provider, returnTo string, prompt string, maxAge time.Duration, hint string) {
	silent := prompt == "none"
	if _, ok := safeReturnPath(returnTo); !ok {
		returnTo = "/"
	}
	d, err := p.get(r.Context())
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
		Provider: p.id,
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
	if hint != "" && len(hint) <= maxHintBytes {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", hint))
	}
	url := d.oauth2.AuthCodeURL(ls.State, opts...)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, url, http.StatusFound)
}

// maxHintBytes bounds the login_hint passed on: the longest address there
// is (RFC 5321).
const maxHintBytes = 254

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
