package gateway

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/roomgate/roomgate/config"
)

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
