package gateway

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/mapping"
)

// sessionStore keeps a session in a cookie sealed with AES-256-GCM,
// through gorilla/sessions (sealedStore), so any replica holding the same
// secrets can serve any person: the identity in one cookie, and the
// provider's refresh token and ID token, when they fit, in their own (see
// grants).
type sessionStore struct {
	store    *sealedStore
	name     string
	lifetime time.Duration
	now      func() time.Time
	grants   *grants
	view     atomic.Pointer[groupView] // for the rule set serving now
	previous atomic.Pointer[groupView] // for the one before, while requests that began with it may run
	keep     time.Duration             // how long previous is kept: keepPrevious
	budget   int                       // Cookie header bytes for the session and its grants
	issuers  []*provider               // the providers a session may belong to, the primary first
}

// newSessionStore makes the session store; budget is how much of the
// Cookie header the session and its token cookies may take together.
func newSessionStore(cfg config.Session, secure bool, now func() time.Time, budget int) (*sessionStore, error) {
	store, err := newSealedStore(cfg.Secrets, "roomgate session", secure)
	if err != nil {
		return nil, err
	}
	grants, err := newGrants(cfg, secure, now)
	if err != nil {
		return nil, err
	}
	return &sessionStore{
		store:    store,
		name:     cookieName("roomgate_session", secure),
		lifetime: cfg.Lifetime,
		now:      now,
		grants:   grants,
		keep:     keepPrevious,
		budget:   budget,
	}, nil
}

// load returns the person signed in on r, or nil. A missing, tampered,
// truncated, old-key or expired cookie all mean "signed out", never an error.
// The identity's Groups are empty until a groupView unpacks them.
func (s *sessionStore) load(r *http.Request) *identity {
	sess, _ := s.store.Get(r, s.name) // never fails: a bad cookie is a new session
	if sess.IsNew {
		return nil
	}
	id, err := decodeIdentity(payload(sess))
	if err != nil || id.UserID == "" || s.now().Unix() >= id.Expires {
		return nil
	}
	// The session belongs to the provider with its issuer; one from
	// before sessions named it, to the primary, the only one there was.
	// A provider no longer configured signs its people out.
	if len(s.issuers) > 0 {
		p := s.issuers[0]
		if id.Issuer != "" {
			p = nil
			for _, q := range s.issuers {
				if q.cfg.Issuer == id.Issuer {
					p = q
				}
			}
		}
		if p == nil {
			return nil
		}
		id.Provider, id.Issuer = p.id, p.cfg.Issuer
	}
	return id
}

// save writes id, its groups packed by a groupView, as the session cookie,
// living until id.Expires, and returns what it adds to the Cookie header.
// It fails rather than set a cookie a browser would drop, which would send
// the person round the sign-in for ever, or one that would leave no room
// in the header for the sign-ins in progress.
func (s *sessionStore) save(w http.ResponseWriter, r *http.Request, id *identity) (int, error) {
	plain := encodeIdentity(id)
	n := s.store.cookieBytes(s.name, len(plain))
	if n > s.budget {
		return 0, fmt.Errorf("gateway: session of %d groups, %d bytes: %w", len(id.Groups), n, errCookieTooLarge)
	}
	if err := s.store.write(r, w, s.name, plain, int(id.Expires-s.now().Unix())); err != nil {
		return 0, fmt.Errorf("gateway: session of %d groups: %w", len(id.Groups), err)
	}
	return n, nil
}

// clear ends the session in the browser, with the provider's tokens.
func (s *sessionStore) clear(w http.ResponseWriter) {
	s.store.write(nil, w, s.name, nil, -1)
	s.grants.clear(w)
}

// viewOf returns the groupView of rs, made once per rule set.
func (s *sessionStore) viewOf(rs *mapping.RuleSet) *groupView {
	if v := s.view.Load(); v != nil && v.rules == rs {
		return v
	}
	if v := s.previous.Load(); v != nil && v.rules == rs {
		return v // a request that began before a reload
	}
	return newGroupView(rs) // a rule set prepare never saw: made for this request only
}

// keepPrevious is how long the view of the rule set before a reload is
// kept for the requests that began before it: the longest a request may
// run (the server's WriteTimeout). Kept longer, a large rule set would
// stay in memory beside the one serving until the next reload.
const keepPrevious = 30 * time.Second

// prepare makes the view of rs before any request sees rs: for a rule file
// of thousands of rooms it takes a while, which the reload pays, not the
// requests that would otherwise each make it at once.
func (s *sessionStore) prepare(rs *mapping.RuleSet) {
	v := newGroupView(rs)
	if old := s.view.Load(); old != nil {
		s.previous.Store(old) // before the new view, so that no request finds neither
		time.AfterFunc(s.keep, func() { s.previous.CompareAndSwap(old, nil) })
	}
	s.view.Store(v)
}

// encodeIdentity lays id out compactly for the session cookie: a version
// byte, then each field in order, lengths as varints. No reflection on the
// hot path, and a small cookie. The cookie is authenticated, so the decoder
// only has to be strict, not defensive against forgery;
// TestIdentityEncodingKeepsEveryField catches a field left out.
func encodeIdentity(id *identity) []byte {
	b := make([]byte, 0, 256)
	b = append(b, 4) // format version; 1 had no Sid, 2 no AuthTime and GroupCount, 3 no Issuer
	for _, s := range []string{id.Subject, id.UserID, id.Name, id.Email, id.Avatar, id.Fingerprint, id.Patterns, id.Sid} {
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
	b = binary.AppendVarint(b, id.AuthTime)
	b = binary.AppendUvarint(b, uint64(id.GroupCount))
	b = binary.AppendUvarint(b, uint64(len(id.Issuer)))
	return append(b, id.Issuer...)
}

var errSessionFormat = errors.New("gateway: session of unknown format")

// decodeIdentity reads what encodeIdentity wrote.
func decodeIdentity(src []byte) (*identity, error) {
	if len(src) == 0 || src[0] < 1 || src[0] > 4 {
		return nil, errSessionFormat
	}
	version := src[0]
	// Every string is cut from this one copy: one allocation, not one a
	// field.
	all := string(src)
	pos := 1
	str := func() (string, bool) {
		n, k := binary.Uvarint(src[pos:])
		if k <= 0 || n > uint64(len(src)-pos-k) {
			return "", false
		}
		s := all[pos+k : pos+k+int(n)]
		pos += k + int(n)
		return s, true
	}
	num := func() (int64, bool) {
		v, k := binary.Varint(src[pos:])
		if k <= 0 {
			return 0, false
		}
		pos += k
		return v, true
	}
	id := &identity{}
	ok := true
	fields := []*string{&id.Subject, &id.UserID, &id.Name, &id.Email, &id.Avatar, &id.Fingerprint, &id.Patterns, &id.Sid}
	if version == 1 {
		fields = fields[:7] // sessions of the release before Sid read on
	}
	for _, f := range fields {
		var o bool
		*f, o = str()
		ok = ok && o
	}
	for _, f := range []*int64{&id.SignedIn, &id.Checked, &id.Expires} {
		var o bool
		*f, o = num()
		ok = ok && o
	}
	n, k := binary.Uvarint(src[pos:])
	if !ok || k <= 0 || n > uint64(len(src)-pos) {
		return nil, errSessionFormat
	}
	pos += k
	if n > 0 {
		id.Names = make([]string, n)
		for i := range id.Names {
			var o bool
			if id.Names[i], o = str(); !o {
				return nil, errSessionFormat
			}
		}
	}
	id.AuthTime = id.SignedIn // sessions of releases before it read on
	if version >= 3 {
		var o bool
		if id.AuthTime, o = num(); !o {
			return nil, errSessionFormat
		}
		count, k := binary.Uvarint(src[pos:])
		if k <= 0 || count > 1<<20 {
			return nil, errSessionFormat
		}
		id.GroupCount, pos = int(count), pos+k
	}
	if version >= 4 {
		var o bool
		if id.Issuer, o = str(); !o {
			return nil, errSessionFormat
		}
	}
	if pos != len(src) {
		return nil, errSessionFormat
	}
	return id, nil
}

// startSession writes the session cookie for id and keeps the provider's
// tokens that fit.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, id *identity, v *groupView, refreshToken, idToken string) error {
	v.pack(id)
	used, err := s.sessions.save(w, r, id)
	if err != nil {
		return err
	}
	_, _, err = s.sessions.grants.save(w, id, refreshToken, idToken, s.sessions.budget-used)
	return err
}

// sessionFailed answers a sign-in or re-check whose session could not be
// saved. A person whose groups do not fit in a session is told so, and the
// session they had ends: nothing is decided on groups that could not be
// kept.
func (s *Server) sessionFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errCookieTooLarge) {
		s.sessions.clear(w)
		s.fail(w, r, http.StatusInternalServerError, pageGroupsTooLarge, err)
		return
	}
	s.fail(w, r, http.StatusInternalServerError, pageInternal, err)
}
