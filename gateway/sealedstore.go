package gateway

import (
	"encoding/base64"
	"fmt"
	"net/http"

	"github.com/gorilla/sessions"
)

// sealedStore is a gorilla/sessions Store whose sessions live in cookies
// sealed with roomgate's AEAD (sealer): each session is one cookie, and its
// payload, the bytes under payloadKey in Values, is sealed for the cookie's
// name. A cookie that does not open (tampered, another kind, an old key)
// is a new, empty session, never an error. The session, its token cookies
// and each sign-in in progress each have a store of their own, with keys of
// their own purpose.
type sealedStore struct {
	seal *sealer
	opts sessions.Options // every cookie's attributes; a session's MaxAge is its own
}

// payloadKey is the Values key of a session's sealed bytes.
const payloadKey = "payload"

func newSealedStore(secrets []string, purpose string, secure bool) (*sealedStore, error) {
	seal, err := newSealer(secrets, purpose)
	if err != nil {
		return nil, err
	}
	return &sealedStore{seal: seal, opts: sessions.Options{
		Path:     "/",
		HttpOnly: true,
		Secure:   secure,
		// Lax, not Strict: the provider's redirect back is a cross-site
		// top-level navigation, and the cookies must come with it.
		SameSite: http.SameSiteLaxMode,
	}}, nil
}

// Get implements sessions.Store: the session in r's cookie called name.
func (s *sealedStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return s.New(r, name)
}

// New implements sessions.Store: the session of r's cookie called name
// when it opens, else a new one.
func (s *sealedStore) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	opts := s.opts
	sess.Options = &opts
	sess.IsNew = true
	if c, err := r.Cookie(name); err == nil {
		if plain, ok := s.seal.open(name, c.Value); ok {
			sess.Values[payloadKey] = plain
			sess.IsNew = false
		}
	}
	return sess, nil
}

// Save implements sessions.Store: it seals the payload into the cookie,
// or removes the cookie when MaxAge is negative. A cookie a browser would
// drop is refused with errCookieTooLarge.
func (s *sealedStore) Save(_ *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	if sess.Options.MaxAge < 0 {
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		return nil
	}
	plain, _ := sess.Values[payloadKey].([]byte)
	c := sessions.NewCookie(sess.Name(), s.seal.seal(sess.Name(), plain), sess.Options)
	if n := len(c.String()); n > maxCookieBytes {
		return fmt.Errorf("gateway: cookie %s of %d bytes: %w", sess.Name(), n, errCookieTooLarge)
	}
	http.SetCookie(w, c)
	return nil
}

// payload is the sealed bytes of sess; nil for a new session.
func payload(sess *sessions.Session) []byte {
	b, _ := sess.Values[payloadKey].([]byte)
	return b
}

// cookieBytes is what a cookie of name holding plain adds to a Cookie
// header, "name=value; ", known before it is sealed: the value is the
// nonce, the ciphertext and the tag, base64url.
func (s *sealedStore) cookieBytes(name string, plain int) int {
	a := s.seal.aeads[0]
	return len(name) + 1 + base64.RawURLEncoding.EncodedLen(a.NonceSize()+plain+a.Overhead()) + 2
}

// write saves a session of name holding plain for maxAge seconds (removes
// it when maxAge is negative).
func (s *sealedStore) write(r *http.Request, w http.ResponseWriter, name string, plain []byte, maxAge int) error {
	sess := sessions.NewSession(s, name)
	opts := s.opts
	opts.MaxAge = maxAge
	sess.Options = &opts
	sess.Values[payloadKey] = plain
	return sess.Save(r, w)
}

var _ sessions.Store = (*sealedStore)(nil)
