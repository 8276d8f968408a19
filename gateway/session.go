package gateway

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/mapping"
)

// identityKey is the one key roomgate uses in gorilla's session values.
const identityKey = "id"

// sessionStore keeps a session in encrypted, signed cookies (gorilla/sessions
// over securecookie: AES-256-CTR and HMAC-SHA256), so any replica holding the
// same secrets can serve any person: the identity in one cookie, and the
// provider's refresh token and ID token, when they fit, in their own (see
// grants).
type sessionStore struct {
	store    *sessions.CookieStore
	name     string
	lifetime time.Duration
	now      func() time.Time
	grants   *grants
	view     atomic.Pointer[groupView] // for the rule set serving now
}

func newSessionStore(cfg config.Session, secure bool, now func() time.Time) (*sessionStore, error) {
	if len(cfg.Secrets) == 0 {
		return nil, errors.New("gateway: no session secret")
	}
	store := sessions.NewCookieStore(keyPairs(cfg.Secrets, "roomgate session")...)
	for _, c := range store.Codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.SetSerializer(identitySerializer{})
			sc.MaxLength(0) // save measures the whole cookie instead
		}
	}
	store.MaxAge(int(cfg.Lifetime / time.Second))
	store.Options.HttpOnly = true
	store.Options.Secure = secure
	store.Options.SameSite = http.SameSiteLaxMode
	return &sessionStore{
		store:    store,
		name:     cookieName("roomgate_session", secure),
		lifetime: cfg.Lifetime,
		now:      now,
		grants:   newGrants(cfg, secure, now),
	}, nil
}

// load returns the person signed in on r, or nil. A missing, tampered,
// truncated, old-key or expired cookie all mean "signed out", never an error.
// The identity's Groups are empty until a groupView unpacks them.
func (s *sessionStore) load(r *http.Request) *identity {
	c, err := r.Cookie(s.name)
	if err != nil {
		return nil
	}
	values := make(map[any]any, 1)
	if err := securecookie.DecodeMulti(s.name, c.Value, &values, s.store.Codecs...); err != nil {
		return nil
	}
	id, _ := values[identityKey].(*identity)
	if id == nil || id.UserID == "" || s.now().Unix() >= id.Expires {
		return nil
	}
	return id
}

// save writes id, its groups packed by a groupView, as the session cookie,
// living until id.Expires. It fails rather than set a cookie a browser
// would drop, which would send the person round the sign-in for ever.
func (s *sessionStore) save(w http.ResponseWriter, _ *http.Request, id *identity) error {
	values := map[any]any{identityKey: id}
	encoded, err := securecookie.EncodeMulti(s.name, values, s.store.Codecs...)
	if err != nil {
		return fmt.Errorf("gateway: saving session: %w", err)
	}
	opts := *s.store.Options
	opts.MaxAge = int(id.Expires - s.now().Unix())
	c := sessions.NewCookie(s.name, encoded, &opts)
	if n := len(c.String()); n > maxCookieBytes {
		return fmt.Errorf("gateway: session of %d groups, %d bytes: %w", len(id.Groups), n, errCookieTooLarge)
	}
	http.SetCookie(w, c)
	return nil
}

// clear ends the session in the browser, with the provider's tokens.
func (s *sessionStore) clear(w http.ResponseWriter) {
	opts := *s.store.Options
	opts.MaxAge = -1
	http.SetCookie(w, sessions.NewCookie(s.name, "", &opts))
	s.grants.clear(w)
}

// viewOf returns the groupView of rs, made once per rule set.
func (s *sessionStore) viewOf(rs *mapping.RuleSet) *groupView {
	if v := s.view.Load(); v != nil && v.rules == rs {
		return v
	}
	v := newGroupView(rs)
	s.view.Store(v)
	return v
}

// identitySerializer encodes gorilla's session values, which for roomgate
// are one *identity, in a compact binary layout (a version byte, then each
// field in order, lengths as varints) instead of gob or JSON: smaller
// cookies, and no reflection on the hot path. The cookie is authenticated,
// so the decoder only has to be strict, not defensive against forgery;
// TestIdentitySerializerKeepsEveryField catches a field left out.
type identitySerializer struct{}

func (identitySerializer) Serialize(src any) ([]byte, error) {
	values, ok := src.(map[any]any)
	if !ok {
		return nil, fmt.Errorf("gateway: session values of type %T", src)
	}
	id, ok := values[identityKey].(*identity)
	if !ok || len(values) != 1 {
		return nil, errors.New("gateway: session values must hold exactly one identity")
	}
	b := make([]byte, 0, 256)
	b = append(b, 1) // format version
	for _, s := range []string{id.Subject, id.UserID, id.Name, id.Email, id.Avatar, id.Fingerprint, id.Patterns} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendVarint(b, id.SignedIn)
	b = binary.AppendVarint(b, id.Checked)
	b = binary.AppendVarint(b, id.Expires)
	b = binary.AppendUvarint(b, uint64(len(id.Names)))
	for _, s := range id.Names {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b, nil
}

var errSessionFormat = errors.New("gateway: session of unknown format")

func (identitySerializer) Deserialize(src []byte, dst any) error {
	values, ok := dst.(*map[any]any)
	if !ok {
		return fmt.Errorf("gateway: session values of type %T", dst)
	}
	if len(src) == 0 || src[0] != 1 {
		return errSessionFormat
	}
	src = src[1:]
	str := func() (string, bool) {
		n, k := binary.Uvarint(src)
		if k <= 0 || n > uint64(len(src)-k) {
			return "", false
		}
		s := string(src[k : k+int(n)])
		src = src[k+int(n):]
		return s, true
	}
	num := func() (int64, bool) {
		v, k := binary.Varint(src)
		if k <= 0 {
			return 0, false
		}
		src = src[k:]
		return v, true
	}
	var id identity
	ok = true
	for _, f := range []*string{&id.Subject, &id.UserID, &id.Name, &id.Email, &id.Avatar, &id.Fingerprint, &id.Patterns} {
		var o bool
		*f, o = str()
		ok = ok && o
	}
	for _, f := range []*int64{&id.SignedIn, &id.Checked, &id.Expires} {
		var o bool
		*f, o = num()
		ok = ok && o
	}
	n, k := binary.Uvarint(src)
	if !ok || k <= 0 || n > uint64(len(src)) {
		return errSessionFormat
	}
	src = src[k:]
	if n > 0 {
		id.Names = make([]string, n)
		for i := range id.Names {
			var o bool
			if id.Names[i], o = str(); !o {
				return errSessionFormat
			}
		}
	}
	if len(src) != 0 {
		return errSessionFormat
	}
	if *values == nil {
		*values = make(map[any]any, 1)
	}
	(*values)[identityKey] = &id
	return nil
}

var _ securecookie.Serializer = identitySerializer{}
