package gateway

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// loginTTL is how long a person has to finish signing in at the provider.
const loginTTL = 10 * time.Minute

// maxPendingLogins is how many sign-ins one browser may have in progress at
// once: enough for the tabs a person opens together. Starting another one
// drops the oldest, so no site that sends a browser through /auth/login
// again and again can pile up cookies until the browser evicts the session
// or the Cookie header outgrows a proxy's limit.
const maxPendingLogins = 3

// loginState is what roomgate remembers about one sign-in in progress, in
// an encrypted cookie of its own named after its state: one cookie per
// sign-in, so several tabs can sign in at once without overwriting each
// other.
type loginState struct {
	State    string // the cookie's name says it too, and the sealing binds the two
	Nonce    string // OIDC Core 3.1.2.1: binds the ID token to this browser
	Verifier string // RFC 7636 PKCE code verifier
	Return   string // where to go afterwards: a path of this gateway (safeReturnPath)
	Started  int64  // unix seconds
	Silent   bool   // a re-check with prompt=none; see serveCallback
	MaxAge   int64  // seconds: OIDC's max_age, asked for (0: not asked)
	Provider string // the id of the provider the sign-in went to; "" for the primary
}

// loginStore reads and writes loginState cookies, through a sealedStore.
// On https they are __Host- cookies, which a browser takes only from this
// host, so a page on a sibling subdomain cannot plant a sign-in of its own
// choosing (login CSRF); __Host- requires the path /, so they come with
// every request while they live, which is why they are small and few.
type loginStore struct {
	store  *sealedStore
	prefix string
	now    func() time.Time
}

func newLoginStore(secrets []string, secure bool, now func() time.Time) (*loginStore, error) {
	store, err := newSealedStore(secrets, "roomgate login", secure)
	if err != nil {
		return nil, err
	}
	return &loginStore{store: store, prefix: cookieName("roomgate_login_", secure), now: now}, nil
}

// forget removes the login cookie of state.
func (l *loginStore) forget(w http.ResponseWriter, state string) {
	l.store.write(nil, w, l.prefix+state, nil, -1)
}

// maxLoginCookieBytes is the most one pending sign-in adds to the Cookie
// header: its name, '=', the sealed value and "; ".
func (l *loginStore) maxLoginCookieBytes() int {
	ls := loginState{State: randomToken(), Nonce: randomToken(), Verifier: strings.Repeat("v", 43), Return: "/" + strings.Repeat("r", maxReturnPath-1), Started: 1 << 40, Silent: true, MaxAge: 86400, Provider: strings.Repeat("p", 32)}
	return l.store.cookieBytes(l.prefix+ls.State, len(ls.encode()))
}

// encode lays ls out as a version byte, a flag byte, the start time, the
// max_age and the strings, each after its length.
func (ls *loginState) encode() []byte {
	b := make([]byte, 0, 160)
	b = append(b, 3, 0) // version 1 had no max_age, 2 no provider
	if ls.Silent {
		b[1] = 1
	}
	b = binary.AppendVarint(b, ls.Started)
	b = binary.AppendVarint(b, ls.MaxAge)
	for _, s := range []string{ls.Nonce, ls.Verifier, ls.Return, ls.Provider} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

func decodeLoginState(state string, b []byte) (*loginState, bool) {
	if len(b) < 2 || b[0] < 1 || b[0] > 3 || b[1] > 1 {
		return nil, false
	}
	version := b[0]
	ls := &loginState{State: state, Silent: b[1] == 1}
	b = b[2:]
	var k int
	if ls.Started, k = binary.Varint(b); k <= 0 {
		return nil, false
	}
	b = b[k:]
	if version >= 2 {
		if ls.MaxAge, k = binary.Varint(b); k <= 0 || ls.MaxAge < 0 {
			return nil, false
		}
		b = b[k:]
	}
	fields := []*string{&ls.Nonce, &ls.Verifier, &ls.Return, &ls.Provider}
	if version < 3 {
		fields = fields[:3] // sign-ins begun before an upgrade went to the primary
	}
	for _, f := range fields {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, false
		}
		*f, b = string(b[k:k+int(n)]), b[k+int(n):]
	}
	return ls, len(b) == 0
}

// pending returns this browser's sign-ins in progress, oldest first, and the
// names of its login cookies that are expired, forged or unreadable.
func (l *loginStore) pending(r *http.Request) (live []*loginState, stale []string) {
	for _, c := range r.Cookies() {
		state, ok := strings.CutPrefix(c.Name, l.prefix)
		if !ok {
			continue
		}
		if ls := l.read(r, state); ls != nil {
			live = append(live, ls)
		} else {
			stale = append(stale, state)
		}
	}
	slices.SortStableFunc(live, func(a, b *loginState) int { return cmp.Compare(a.Started, b.Started) })
	return live, stale
}

// read opens r's login cookie of state; nil when it is not a live sign-in
// of this gateway.
func (l *loginStore) read(r *http.Request, state string) *loginState {
	if !isToken(state) {
		return nil
	}
	sess, _ := l.store.Get(r, l.prefix+state)
	if sess.IsNew {
		return nil
	}
	ls, ok := decodeLoginState(state, payload(sess))
	if !ok {
		return nil
	}
	if age := l.now().Unix() - ls.Started; age < 0 || age > int64(loginTTL/time.Second) {
		return nil
	}
	return ls
}

// save starts remembering ls in this browser. It removes the browser's
// stale login cookies and, when maxPendingLogins are in progress already,
// the oldest of them.
func (l *loginStore) save(w http.ResponseWriter, r *http.Request, ls *loginState) error {
	if len(ls.Return) > maxReturnPath {
		return fmt.Errorf("gateway: return path of %d bytes", len(ls.Return))
	}
	live, stale := l.pending(r)
	for _, state := range stale {
		l.forget(w, state)
	}
	for len(live) >= maxPendingLogins {
		l.forget(w, live[0].State)
		live = live[1:]
	}
	return l.store.write(r, w, l.prefix+ls.State, ls.encode(), int(loginTTL/time.Second))
}

// take returns the sign-in in progress for state and forgets it, with the
// browser's stale login cookies, so a callback can be used once. It returns
// nil when there is none, or it is forged, or too old.
func (l *loginStore) take(w http.ResponseWriter, r *http.Request, state string) *loginState {
	_, stale := l.pending(r)
	for _, s := range stale {
		if s != state {
			l.forget(w, s)
		}
	}
	if !isToken(state) {
		return nil
	}
	if _, err := r.Cookie(l.prefix + state); err != nil {
		return nil
	}
	l.forget(w, state)
	return l.read(r, state)
}
