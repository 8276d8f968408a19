package gateway

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gorilla/securecookie"
	"golang.org/x/oauth2"
)

// loginTTL is how long a person has to finish signing in at the provider.
const loginTTL = 10 * time.Minute

// loginState is what roomgate remembers about one sign-in in progress,
// in an encrypted cookie of its own: one cookie per sign-in, named after its
// state, so several tabs can sign in at once without overwriting each other.
type loginState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`           // OIDC Core 3.1.2.1: binds the ID token to this browser
	Verifier string `json:"v"`           // RFC 7636 PKCE code verifier
	Return   string `json:"r"`           // where to go afterwards: a path of this gateway
	Started  int64  `json:"t"`           // unix seconds
	Silent   bool   `json:"q,omitempty"` // a re-check with prompt=none; see serveCallback
}

// loginStore reads and writes loginState cookies. They are sent only to
// /auth/callback and live loginTTL.
type loginStore struct {
	codecs []securecookie.Codec
	prefix string
	secure bool
	now    func() time.Time
}

func newLoginStore(secrets []string, secure bool, now func() time.Time) (*loginStore, error) {
	codecs := securecookie.CodecsFromPairs(keyPairs(secrets, "roomgate login")...)
	for _, c := range codecs {
		sc := c.(*securecookie.SecureCookie)
		sc.SetSerializer(securecookie.JSONEncoder{})
		sc.MaxAge(int(loginTTL / time.Second))
	}
	return &loginStore{codecs: codecs, prefix: pathCookieName("roomgate_login_", secure), secure: secure, now: now}, nil
}

func (l *loginStore) cookie(state, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     l.prefix + state,
		Value:    value,
		Path:     "/auth/callback",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   l.secure,
		// Lax, not Strict: the provider's redirect back is a cross-site
		// top-level navigation, and the cookie must come with it.
		SameSite: http.SameSiteLaxMode,
	}
}

func (l *loginStore) save(w http.ResponseWriter, ls *loginState) error {
	v, err := securecookie.EncodeMulti(l.prefix+ls.State, ls, l.codecs...)
	if err != nil {
		return fmt.Errorf("gateway: encoding login state: %w", err)
	}
	http.SetCookie(w, l.cookie(ls.State, v, int(loginTTL/time.Second)))
	return nil
}

// take returns the sign-in in progress for state and forgets it, so a
// callback can be used once. It returns nil when there is none, or it is
// forged, or too old.
func (l *loginStore) take(w http.ResponseWriter, r *http.Request, state string) *loginState {
	if !isToken(state) {
		return nil
	}
	c, err := r.Cookie(l.prefix + state)
	if err != nil {
		return nil
	}
	http.SetCookie(w, l.cookie(state, "", -1))
	var ls loginState
	if err := securecookie.DecodeMulti(c.Name, c.Value, &ls, l.codecs...); err != nil {
		return nil
	}
	age := l.now().Unix() - ls.Started
	if ls.State != state || age < 0 || age > int64(loginTTL/time.Second) {
		return nil
	}
	return &ls
}

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
	s.beginLogin(w, r, returnTo, false)
}

// startSilentLogin is startLogin with prompt=none (OIDC Core 3.1.2.1): the
// provider answers at once, without showing the person anything, either
// with a code for whoever is signed in there or with login_required (or
// interaction_required, consent_required), which the callback turns into a
// normal sign-in.
func (s *Server) startSilentLogin(w http.ResponseWriter, r *http.Request, returnTo string) {
	s.beginLogin(w, r, returnTo, true)
}

func (s *Server) beginLogin(w http.ResponseWriter, r *http.Request, returnTo string, silent bool) {
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
	}
	if err := s.logins.save(w, ls); err != nil {
		s.fail(w, r, http.StatusInternalServerError, pageInternal, err)
		return
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(ls.Nonce), oauth2.S256ChallengeOption(ls.Verifier)}
	if silent {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "none"))
	}
	url := d.oauth2.AuthCodeURL(ls.State, opts...)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, url, http.StatusFound)
}

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
