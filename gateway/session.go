package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"github.com/roomgate/roomgate/config"
)

// identity is who a session belongs to, as the provider said at sign-in.
// It is the whole content of the session cookie, so it stays small: only
// the groups that some rule can use are kept (mapping.RuleSet.Relevant).
type identity struct {
	UserID   string   `json:"u"`
	Name     string   `json:"n,omitempty"`
	Email    string   `json:"e,omitempty"`
	Avatar   string   `json:"a,omitempty"`
	Groups   []string `json:"g,omitempty"`
	SignedIn int64    `json:"si"` // unix seconds
	Checked  int64    `json:"ck"` // when the groups were read from the provider
	Expires  int64    `json:"x"`  // end of the session: SignedIn + lifetime
}

// identityKey is the one key roomgate uses in gorilla's session values.
const identityKey = "id"

// sessionStore keeps the identity in an encrypted, signed cookie
// (gorilla/sessions over securecookie: AES-256-CTR and HMAC-SHA256), so any
// replica holding the same secrets can serve any person.
type sessionStore struct {
	store    *sessions.CookieStore
	name     string
	lifetime time.Duration
	now      func() time.Time
}

func newSessionStore(cfg config.Session, secure bool, now func() time.Time) (*sessionStore, error) {
	if len(cfg.Secrets) == 0 {
		return nil, errors.New("gateway: no session secret")
	}
	store := sessions.NewCookieStore(keyPairs(cfg.Secrets, "roomgate session")...)
	for _, c := range store.Codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.SetSerializer(identitySerializer{})
		}
	}
	store.MaxAge(int(cfg.Lifetime / time.Second))
	store.Options.HttpOnly = true
	store.Options.Secure = secure
	store.Options.SameSite = http.SameSiteLaxMode
	return &sessionStore{store: store, name: cookieName("roomgate_session", secure), lifetime: cfg.Lifetime, now: now}, nil
}

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

// load returns the person signed in on r, or nil. A missing, tampered,
// truncated, old-key or expired cookie all mean "signed out", never an error.
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

// save writes id as the session cookie, living until id.Expires.
func (s *sessionStore) save(w http.ResponseWriter, r *http.Request, id *identity) error {
	sess := sessions.NewSession(s.store, s.name)
	opts := *s.store.Options
	opts.MaxAge = int(id.Expires - s.now().Unix())
	sess.Options = &opts
	sess.Values[identityKey] = id
	if err := s.store.Save(r, w, sess); err != nil {
		return fmt.Errorf("gateway: saving session: %w", err)
	}
	return nil
}

// clear ends the session in the browser.
func (s *sessionStore) clear(w http.ResponseWriter) {
	opts := *s.store.Options
	opts.MaxAge = -1
	http.SetCookie(w, sessions.NewCookie(s.name, "", &opts))
}

// identitySerializer encodes gorilla's session values, which for roomgate
// are one *identity, as compact JSON instead of gob: smaller cookies and a
// faster hot path.
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
	return json.Marshal(id)
}

func (identitySerializer) Deserialize(src []byte, dst any) error {
	values, ok := dst.(*map[any]any)
	if !ok {
		return fmt.Errorf("gateway: session values of type %T", dst)
	}
	var id identity
	if err := json.Unmarshal(src, &id); err != nil {
		return fmt.Errorf("gateway: decoding session: %w", err)
	}
	if *values == nil {
		*values = make(map[any]any, 1)
	}
	(*values)[identityKey] = &id
	return nil
}

var _ securecookie.Serializer = identitySerializer{}
