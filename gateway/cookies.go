package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/roomgate/roomgate/config"
)

// maxCookieBytes bounds every cookie roomgate sets, name, value and
// attributes together: RFC 6265 6.1 promises no more than 4096 bytes, and
// a browser that gets a bigger cookie drops it without a word.
const maxCookieBytes = 4000

// errCookieTooLarge is returned when a cookie would not fit in a browser.
var errCookieTooLarge = errors.New("gateway: cookie larger than browsers keep")

// keyPairs derives an HMAC key and an AES-256 key from each secret. The
// first secret's pair encodes; all pairs decode, which is what lets an
// operator rotate secrets. The purpose label keeps a session cookie from
// ever decoding as another kind of cookie.
func keyPairs(secrets []string, purpose string) [][]byte {
	pairs := make([][]byte, 0, 2*len(secrets))
	for _, s := range secrets {
		pairs = append(pairs, derive(s, purpose+" mac"), derive(s, purpose+" aes"))
	}
	return pairs
}

func derive(secret, label string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(label))
	return m.Sum(nil)
}

// cookieName uses the __Host- prefix on https, which tells browsers to
// accept the cookie only from this host, over https, for every path.
func cookieName(name string, secure bool) string {
	if secure {
		return "__Host-" + name
	}
	return name
}

// pathCookieName is cookieName for a cookie limited to one path, which
// __Host- forbids (browsers drop such a cookie): __Secure- still keeps it to
// https.
func pathCookieName(name string, secure bool) string {
	if secure {
		return "__Secure-" + name
	}
	return name
}

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

// grants keeps the provider's tokens that a session uses later, each in its
// own encrypted cookie, and only when it fits in one (maxCookieBytes):
//
//   - the refresh token (path /), to re-check groups without showing the
//     person anything. Without it, re-checks are silent sign-ins
//     (prompt=none), which work everywhere but take a trip to the provider.
//   - the ID token (path /auth/logout only), as the id_token_hint of logout
//     at the provider. Without it, logout names roomgate by client_id.
//
// Both are bound to the session's subject, so a leftover cookie can never
// serve another person's session.
type grants struct {
	codecs  []securecookie.Codec
	refresh string // cookie names
	hint    string
	secure  bool
	now     func() time.Time
}

// grant is the content of a grants cookie.
type grant struct {
	Subject string `json:"s"`
	Token   string `json:"t"`
}

// hintPath is the only path the ID token cookie is sent to.
const hintPath = "/auth/logout"

func newGrants(cfg config.Session, secure bool, now func() time.Time) *grants {
	codecs := securecookie.CodecsFromPairs(keyPairs(cfg.Secrets, "roomgate grant")...)
	for _, c := range codecs {
		sc := c.(*securecookie.SecureCookie)
		sc.SetSerializer(securecookie.JSONEncoder{})
		sc.MaxAge(int(cfg.Lifetime / time.Second))
		sc.MaxLength(0) // set measures the whole cookie instead
	}
	return &grants{
		codecs:  codecs,
		refresh: cookieName("roomgate_refresh", secure),
		hint:    pathCookieName("roomgate_hint", secure),
		secure:  secure,
		now:     now,
	}
}

func (g *grants) cookie(name, value string, maxAge int) *http.Cookie {
	path := "/"
	if name == g.hint {
		path = hintPath
	}
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     path,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   g.secure,
		SameSite: http.SameSiteLaxMode,
	}
}

// set stores token for the session of id in cookie name and reports
// whether it fit; an empty token, or one too big, removes the cookie.
func (g *grants) set(w http.ResponseWriter, name string, id *identity, token string) (bool, error) {
	if token == "" {
		http.SetCookie(w, g.cookie(name, "", -1))
		return false, nil
	}
	v, err := securecookie.EncodeMulti(name, grant{Subject: id.Subject, Token: token}, g.codecs...)
	if err != nil {
		return false, fmt.Errorf("gateway: encoding %s: %w", name, err)
	}
	c := g.cookie(name, v, int(id.Expires-g.now().Unix()))
	if len(c.String()) > maxCookieBytes {
		http.SetCookie(w, g.cookie(name, "", -1))
		return false, nil
	}
	http.SetCookie(w, c)
	return true, nil
}

// get returns the token in cookie name if it belongs to subject.
func (g *grants) get(r *http.Request, name, subject string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	var gr grant
	if err := securecookie.DecodeMulti(name, c.Value, &gr, g.codecs...); err != nil || gr.Subject != subject {
		return ""
	}
	return gr.Token
}

// save keeps the tokens of a sign-in or refresh for the session of id. An
// empty refresh token means the provider gave none, and removes any kept;
// an empty ID token (a refresh without one) keeps the one kept.
func (g *grants) save(w http.ResponseWriter, id *identity, refreshToken, idToken string) (refreshKept, hintKept bool, err error) {
	if refreshKept, err = g.set(w, g.refresh, id, refreshToken); err != nil {
		return false, false, err
	}
	if idToken == "" {
		return refreshKept, false, nil
	}
	hintKept, err = g.set(w, g.hint, id, idToken)
	return refreshKept, hintKept, err
}

// refreshToken returns the refresh token kept for the session of id, or "".
func (g *grants) refreshToken(r *http.Request, id *identity) string {
	return g.get(r, g.refresh, id.Subject)
}

// idToken returns the ID token kept for the session of id, or "". The
// browser sends it only to /auth/logout.
func (g *grants) idToken(r *http.Request, id *identity) string {
	return g.get(r, g.hint, id.Subject)
}

// clear removes both cookies.
func (g *grants) clear(w http.ResponseWriter) {
	http.SetCookie(w, g.cookie(g.refresh, "", -1))
	http.SetCookie(w, g.cookie(g.hint, "", -1))
}
