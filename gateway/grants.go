package gateway

import (
	"encoding/binary"
	"errors"
	"net/http"
	"time"

	"github.com/roomgate/roomgate/config"
)

// grants keeps the provider's tokens that a session uses later, each in its
// own encrypted cookie, and only when it fits in one (maxCookieBytes):
//
//   - the refresh token (path /), to re-check groups without showing the
//     person anything. Without it, re-checks are silent sign-ins
//     (prompt=none), which work everywhere but take a trip to the provider.
//   - the ID token, as the id_token_hint of logout at the provider.
//     Without it, logout names roomgate by client_id.
//
// Both are __Host- cookies on https (path /, no domain), so no sibling
// subdomain can plant or shadow them.
//
// Both are bound to the session's subject, so a leftover cookie can never
// serve another person's session.
type grants struct {
	store   *sealedStore
	refresh string // cookie names
	hint    string
	now     func() time.Time
}

func newGrants(cfg config.Session, secure bool, now func() time.Time) (*grants, error) {
	store, err := newSealedStore(cfg.Secrets, "roomgate grant", secure)
	if err != nil {
		return nil, err
	}
	return &grants{
		store:   store,
		refresh: cookieName("roomgate_refresh", secure),
		hint:    cookieName("roomgate_hint", secure),
		now:     now,
	}, nil
}

// set stores token for the session of id in cookie name when it adds at
// most room bytes to the Cookie header, and returns what it added; an empty
// token, or one too big, removes the cookie.
func (g *grants) set(w http.ResponseWriter, name string, id *identity, token string, room int) (int, error) {
	if token == "" {
		return 0, g.store.write(nil, w, name, nil, -1)
	}
	// The subject first, after its length, then the token: the cookie
	// serves only the session of the person it was kept for.
	plain := binary.AppendUvarint(nil, uint64(len(id.Subject)))
	plain = append(append(plain, id.Subject...), token...)
	if n := g.store.cookieBytes(name, len(plain)); n <= room {
		err := g.store.write(nil, w, name, plain, int(id.Expires-g.now().Unix()))
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, errCookieTooLarge) {
			return 0, err
		}
	}
	return 0, g.store.write(nil, w, name, nil, -1)
}

// get returns the token in cookie name if it belongs to subject.
func (g *grants) get(r *http.Request, name, subject string) string {
	sess, _ := g.store.Get(r, name)
	if sess.IsNew {
		return ""
	}
	plain := payload(sess)
	n, k := binary.Uvarint(plain)
	if k <= 0 || n > uint64(len(plain)-k) || string(plain[k:k+int(n)]) != subject {
		return ""
	}
	return string(plain[k+int(n):])
}

// save keeps the tokens of a sign-in or refresh for the session of id, as
// far as they fit in room bytes of the Cookie header: the refresh token
// first (it spares the person sign-ins), then the ID token. An empty refresh
// token means the provider gave none, and removes any kept; an empty ID
// token (a refresh without one) keeps the one kept.
func (g *grants) save(w http.ResponseWriter, id *identity, refreshToken, idToken string, room int) (refreshKept, hintKept bool, err error) {
	used, err := g.set(w, g.refresh, id, refreshToken, room)
	if err != nil {
		return false, false, err
	}
	if idToken == "" {
		return used > 0, false, nil
	}
	hint, err := g.set(w, g.hint, id, idToken, room-used)
	return used > 0, hint > 0, err
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
	g.store.write(nil, w, g.refresh, nil, -1)
	g.store.write(nil, w, g.hint, nil, -1)
}
