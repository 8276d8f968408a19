package gateway

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/internal/oidctest"
)

const (
	oldSecret = "the-secret-being-retired-0123456789abcdef"
	newSecret = "the-secret-taking-over-0123456789abcdefgh"
)

// TestSecretRotation: with session.secret [new, old] a cookie made with the
// old secret still opens; once old leaves the list it no longer does, and
// new cookies are made with the first secret.
func TestSecretRotation(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	store := func(secrets ...string) *sessionStore {
		t.Helper()
		s, err := newSessionStore(config.Session{Secrets: secrets, Lifetime: 8 * time.Hour}, false, clock)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	id := &identity{Subject: "ada", UserID: "ada", SignedIn: now.Unix(), Checked: now.Unix(), Expires: now.Add(time.Hour).Unix()}
	cookieOf := func(s *sessionStore) *http.Cookie {
		t.Helper()
		w := httptest.NewRecorder()
		if err := s.save(w, nil, id); err != nil {
			t.Fatal(err)
		}
		return w.Result().Cookies()[0]
	}
	madeWithOld := cookieOf(store(oldSecret))
	madeWithNew := cookieOf(store(newSecret, oldSecret))

	tests := []struct {
		name    string
		cookie  *http.Cookie
		secrets []string
		want    bool
	}{
		{"old cookie, old secret", madeWithOld, []string{oldSecret}, true},
		{"old cookie during rotation", madeWithOld, []string{newSecret, oldSecret}, true},
		{"old cookie after the old secret is removed", madeWithOld, []string{newSecret}, false},
		{"new cookie during rotation", madeWithNew, []string{newSecret, oldSecret}, true},
		{"new cookie after rotation", madeWithNew, []string{newSecret}, true},
		{"new cookie is made with the first secret only", madeWithNew, []string{oldSecret}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/standup", nil)
			r.AddCookie(tt.cookie)
			if got := store(tt.secrets...).load(r) != nil; got != tt.want {
				t.Errorf("cookie opens = %v; want %v", got, tt.want)
			}
		})
	}
}

// TestSecretRotationInFlow: an operator adds a new secret in front of the
// old one; people already signed in go straight through, and their refresh
// token still refreshes. Once the old secret is removed they sign in again.
func TestSecretRotationInFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withProviderOptions(oidctest.WithRefreshTokens()))
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	e.roomToken(first(e.enter(b, "/standup")), "daily-standup")

	e.reconfigure(func(c *config.Config) { c.Session.Secrets = []string{newSecret, testSessionKey} })
	if _, hops := e.enter(b, "/standup"); len(hops) != 1 {
		t.Errorf("during rotation: hops %v; want straight into the room", hops)
	}
	e.clock.Advance(11 * time.Minute)
	if _, hops := e.enter(b, "/standup"); len(hops) != 1 {
		t.Errorf("re-check during rotation: hops %v; want a refresh without a page", hops)
	}
	if _, refreshes := grantCounts(e.provider); refreshes != 1 {
		t.Errorf("refreshes: got %d; want 1", refreshes)
	}

	// The refresh re-saved the session with the new secret; a browser
	// still holding an old-secret cookie signs in again once it is gone.
	stale := e.browser()
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	e.reconfigure(func(c *config.Config) { c.Session.Secrets = []string{testSessionKey} })
	e.roomToken(first(e.enter(stale, "/standup")), "daily-standup")
	e.reconfigure(func(c *config.Config) { c.Session.Secrets = []string{newSecret} })
	if _, hops := e.enter(b, "/standup"); len(hops) != 1 {
		t.Errorf("cookie re-saved with the new secret: hops %v; want straight into the room", hops)
	}
	if _, hops := e.enter(stale, "/standup"); len(hops) != 4 {
		t.Errorf("cookie of a removed secret: hops %v; want a sign-in", hops)
	}
}

// TestThousandGroups: a person in 1,000 directory groups, 300 of which a
// glob covers and 60 of which rules name by Entra-style object id, gets
// cookies under 4 KB each, and the decisions of all of their groups.
func TestThousandGroups(t *testing.T) {
	t.Parallel()
	var ids []string
	for i := range 60 {
		ids = append(ids, fmt.Sprintf("%08x-4c2e-4d7b-9a51-3f0c6b1e%04x", i*7919, i))
	}
	rooms := fmt.Sprintf(`
  - path: standup
    room: daily-standup
    rules:
      - groups: [%s]
        role: moderator
      - groups: ["eng-*"]
        role: attendee
  - path: all-hands
    room: all-hands
    rules:
      - groups: ["%s"]
        role: speaker
      - everyone: true
        role: attendee
`, strings.Join(ids[1:], ", "), ids[0])
	var groups []string
	for i := range 640 {
		groups = append(groups, fmt.Sprintf("directory-group-%04d-with-a-long-descriptive-name", i))
	}
	for i := range 300 {
		groups = append(groups, fmt.Sprintf("eng-team-%03d", i))
	}
	groups = append(groups, ids...)
	if len(groups) != 1000 {
		t.Fatalf("%d groups; want 1000", len(groups))
	}

	e := newEnv(t, withRooms(rooms), withProviderOptions(oidctest.WithRefreshTokens()))
	e.provider.SetUser(user("ada", "ada@example.com", groups...))
	b := e.browser()
	if tok := e.roomToken(first(e.enter(b, "/standup")), "daily-standup"); tok.Role != "moderator" {
		t.Errorf("standup role %q; want moderator", tok.Role)
	}
	if tok := e.roomToken(first(e.enter(b, "/all-hands")), "all-hands"); tok.Role != "speaker" {
		t.Errorf("all-hands role %q; want speaker", tok.Role)
	}
	var names []string
	for _, path := range []string{"/", hintPath} {
		for _, c := range b.Cookies(t, e.url(path)) {
			if slices.Contains(names, c.Name) {
				continue
			}
			names = append(names, c.Name)
			// The jar keeps name and value; the attributes roomgate adds
			// (Path, Max-Age, HttpOnly, SameSite, Secure) stay under 96.
			if n := len(c.Name) + len(c.Value) + 96; n >= 4096 {
				t.Errorf("cookie %s: about %d bytes; want under 4096", c.Name, n)
			}
		}
	}
	if !slices.Contains(names, "roomgate_session") || !slices.Contains(names, "roomgate_refresh") {
		t.Errorf("cookies %q; want the session and the refresh token", names)
	}
	// The ID token lists all 1,000 groups: far too big to keep for logout.
	if slices.Contains(names, "roomgate_hint") {
		t.Errorf("an ID token of 1,000 groups was kept in a cookie")
	}
	// The re-check keeps them small too.
	e.clock.Advance(11 * time.Minute)
	if tok := e.roomToken(first(e.enter(b, "/standup")), "daily-standup"); tok.Role != "moderator" {
		t.Errorf("after the re-check: role %q; want moderator", tok.Role)
	}
}

// TestGroupViewPacking: what pack writes, unpack reads back for the same
// patterns and refuses for others.
func TestGroupViewPacking(t *testing.T) {
	t.Parallel()
	rules := parseRooms(t, testRooms)
	other := parseRooms(t, testRooms+`
  - path: board
    room: board
    rules:
      - groups: [board]
        role: moderator
`)
	v, w := newGroupView(rules), newGroupView(other)
	tests := []struct {
		name         string
		groups       []string
		wantNames    []string // written out; the rest are bits
		wantPatterns string
	}{
		{"none", nil, nil, ""},
		{"named groups are bits", []string{"eng-leads", "leadership"}, nil, "Cg"},
		{"a glob's group is written out", []string{"eng-platform"}, []string{"eng-platform"}, ""},
		{"both", []string{"eng-leads", "eng-x"}, []string{"eng-x"}, "Ag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id := &identity{Groups: tt.groups}
			v.pack(id)
			if !slices.Equal(id.Names, tt.wantNames) || id.Patterns != tt.wantPatterns {
				t.Errorf("pack(%q) = %q, %q; want %q, %q", tt.groups, id.Names, id.Patterns, tt.wantNames, tt.wantPatterns)
			}
			back := &identity{Fingerprint: id.Fingerprint, Names: id.Names, Patterns: id.Patterns}
			if !v.unpack(back) {
				t.Fatalf("unpack refused what pack wrote")
			}
			got, want := slices.Sorted(slices.Values(back.Groups)), slices.Sorted(slices.Values(tt.groups))
			if !slices.Equal(got, want) {
				t.Errorf("unpack = %q; want %q", got, want)
			}
			if w.unpack(&identity{Fingerprint: id.Fingerprint, Names: id.Names, Patterns: id.Patterns}) {
				t.Errorf("a rule set with other patterns unpacked groups kept for these")
			}
		})
	}
	// Bits past the patterns, or not base64, are refused.
	for _, bad := range []string{"_w", "////", "!"} {
		if v.unpack(&identity{Fingerprint: v.fingerprint, Patterns: bad}) {
			t.Errorf("unpack accepted Patterns %q", bad)
		}
	}
}

// TestGrantsThatDoNotFit: a refresh token or ID token too big for a cookie
// is not kept, rather than kept where a browser would drop it.
func TestGrantsThatDoNotFit(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	g := newGrants(config.Session{Secrets: []string{testSessionKey}, Lifetime: 8 * time.Hour}, true, func() time.Time { return now })
	id := &identity{Subject: "ada", Expires: now.Add(time.Hour).Unix()}
	tests := []struct {
		name        string
		refresh     string
		idToken     string
		wantRefresh bool
		wantHint    bool
	}{
		{"small tokens (Dex, Okta)", strings.Repeat("r", 64), strings.Repeat("i", 900), true, true},
		{"a Keycloak-size refresh JWT", strings.Repeat("r", 900), strings.Repeat("i", 1500), true, true},
		{"an Entra-size refresh token", strings.Repeat("r", 1800), strings.Repeat("i", 1800), true, true},
		{"too big for a cookie", strings.Repeat("r", 3000), strings.Repeat("i", 5000), false, false},
		{"no refresh token", "", strings.Repeat("i", 900), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			refreshKept, hintKept, err := g.save(w, id, tt.refresh, tt.idToken)
			if err != nil {
				t.Fatal(err)
			}
			if refreshKept != tt.wantRefresh || hintKept != tt.wantHint {
				t.Errorf("kept refresh %v, hint %v; want %v, %v", refreshKept, hintKept, tt.wantRefresh, tt.wantHint)
			}
			r := httptest.NewRequest(http.MethodPost, hintPath, nil)
			for _, h := range w.Result().Header.Values("Set-Cookie") {
				if len(h) > maxCookieBytes {
					t.Errorf("Set-Cookie of %d bytes: %.60s...", len(h), h)
				}
			}
			for _, c := range w.Result().Cookies() {
				if c.MaxAge > 0 {
					r.AddCookie(c)
				}
				if c.Name == g.refresh && c.Path != "/" || c.Name == g.hint && c.Path != hintPath {
					t.Errorf("cookie %s has path %q", c.Name, c.Path)
				}
				if !strings.HasPrefix(c.Name, "__Host-") && !(strings.HasPrefix(c.Name, "__Secure-") && c.Path != "/") {
					t.Errorf("cookie %s on https lacks the prefix its path allows", c.Name)
				}
			}
			if got := g.refreshToken(r, id); (got != "" && got == tt.refresh) != tt.wantRefresh {
				t.Errorf("refresh token read back = %.20q; want kept %v", got, tt.wantRefresh)
			}
			if got := g.idToken(r, id); (got != "" && got == tt.idToken) != tt.wantHint {
				t.Errorf("ID token read back = %.20q; want kept %v", got, tt.wantHint)
			}
			if got := g.refreshToken(r, &identity{Subject: "mallory"}); got != "" {
				t.Errorf("another person's session read the refresh token")
			}
		})
	}
}

// TestOversizedSession: a session that cannot fit in a cookie is an error
// page, never a cookie the browser would silently drop.
func TestOversizedSession(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	s, err := newSessionStore(config.Session{Secrets: []string{testSessionKey}, Lifetime: 8 * time.Hour}, false, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	id := &identity{Subject: "ada", UserID: "ada", Expires: now.Add(time.Hour).Unix(), Names: []string{strings.Repeat("g", 3000)}}
	w := httptest.NewRecorder()
	if err := s.save(w, nil, id); err == nil || !strings.Contains(err.Error(), "larger than browsers keep") {
		t.Errorf("save: got %v; want errCookieTooLarge", err)
	}
	if n := len(w.Result().Cookies()); n != 0 {
		t.Errorf("save set %d cookies; want none", n)
	}
}

// TestCookiePrefixes: on https every cookie carries the strongest prefix
// its path allows. Browsers drop a __Host- cookie whose path is not /, so
// the cookies limited to one path are __Secure-.
func TestCookiePrefixes(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	cfg := config.Session{Secrets: []string{testSessionKey}, Lifetime: 8 * time.Hour}
	sessions, err := newSessionStore(cfg, true, clock)
	if err != nil {
		t.Fatal(err)
	}
	logins, err := newLoginStore(cfg.Secrets, true, clock)
	if err != nil {
		t.Fatal(err)
	}
	id := &identity{Subject: "ada", UserID: "ada", Expires: now.Add(time.Hour).Unix()}
	w := httptest.NewRecorder()
	if err := sessions.save(w, nil, id); err != nil {
		t.Fatal(err)
	}
	if _, _, err := sessions.grants.save(w, id, "refresh-token", "id-token"); err != nil {
		t.Fatal(err)
	}
	if err := logins.save(w, &loginState{State: randomToken(), Started: now.Unix()}); err != nil {
		t.Fatal(err)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 4 {
		t.Fatalf("%d cookies; want session, refresh, hint and login", len(cookies))
	}
	for _, c := range cookies {
		switch {
		case !c.Secure || !c.HttpOnly || c.Domain != "":
			t.Errorf("cookie %s: Secure %v, HttpOnly %v, Domain %q; want Secure, HttpOnly, no Domain", c.Name, c.Secure, c.HttpOnly, c.Domain)
		case c.Path == "/" && !strings.HasPrefix(c.Name, "__Host-"):
			t.Errorf("cookie %s for path / lacks __Host-", c.Name)
		case c.Path != "/" && !strings.HasPrefix(c.Name, "__Secure-"):
			t.Errorf("cookie %s for path %s: got prefix %q; want __Secure- (browsers drop __Host- there)", c.Name, c.Path, c.Name[:min(len(c.Name), 9)])
		}
	}
}

// TestIdentitySerializerKeepsEveryField fills every field of identity that
// the cookie carries with its own value, so a field added to identity but
// not to the binary layout fails here instead of vanishing from sessions.
func TestIdentitySerializerKeepsEveryField(t *testing.T) {
	t.Parallel()
	var want identity
	v := reflect.ValueOf(&want).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		name := v.Type().Field(i).Name
		if name == "Groups" { // carried as Names and Patterns
			continue
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString("value of " + name + " ü\x00\"")
		case reflect.Int64:
			f.SetInt(int64(-1000 - i))
		case reflect.Slice:
			f.Set(reflect.ValueOf([]string{name + "-1", "", name + "-3"}))
		default:
			t.Fatalf("identity.%s has kind %s, which this test does not know", name, f.Kind())
		}
	}
	b, err := identitySerializer{}.Serialize(map[any]any{identityKey: &want})
	if err != nil {
		t.Fatal(err)
	}
	values := map[any]any{}
	if err := (identitySerializer{}).Deserialize(b, &values); err != nil {
		t.Fatal(err)
	}
	got := values[identityKey].(*identity)
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("round trip:\ngot  %+v\nwant %+v", *got, want)
	}
	for n := 0; n < len(b); n++ {
		if err := (identitySerializer{}).Deserialize(b[:n], &map[any]any{}); err == nil {
			t.Errorf("a session cut to %d of %d bytes decoded", n, len(b))
		}
	}
}
