package gateway

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/internal/oidctest"
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
		s, err := newSessionStore(config.Session{Secrets: secrets, Lifetime: 8 * time.Hour}, false, clock, maxCookieHeader)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	id := &identity{Subject: "ada", UserID: "ada", SignedIn: now.Unix(), Checked: now.Unix(), Expires: now.Add(time.Hour).Unix()}
	cookieOf := func(s *sessionStore) *http.Cookie {
		t.Helper()
		w := httptest.NewRecorder()
		if _, err := s.save(w, nil, id); err != nil {
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

// TestGrantsThatDoNotFit: a refresh token or ID token too big for a cookie
// is not kept, rather than kept where a browser would drop it.
func TestGrantsThatDoNotFit(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	g, err := newGrants(config.Session{Secrets: []string{testSessionKey}, Lifetime: 8 * time.Hour}, true, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	id := &identity{Subject: "ada", Expires: now.Add(time.Hour).Unix()}
	// What a session of a few groups leaves of the Cookie header budget
	// beside three pending sign-ins.
	const room = 2700
	tests := []struct {
		name        string
		refresh     string
		idToken     string
		wantRefresh bool
		wantHint    bool
	}{
		{"small tokens (Dex, Okta)", strings.Repeat("r", 64), strings.Repeat("i", 900), true, true},
		{"a Keycloak-size refresh JWT: the ID token does not fit beside it", strings.Repeat("r", 900), strings.Repeat("i", 1500), true, false},
		{"an Entra-size refresh token", strings.Repeat("r", 1800), strings.Repeat("i", 1800), true, false},
		{"too big for the header", strings.Repeat("r", 3000), strings.Repeat("i", 5000), false, false},
		{"no refresh token", "", strings.Repeat("i", 900), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			refreshKept, hintKept, err := g.save(w, id, tt.refresh, tt.idToken, room)
			if err != nil {
				t.Fatal(err)
			}
			if refreshKept != tt.wantRefresh || hintKept != tt.wantHint {
				t.Errorf("kept refresh %v, hint %v; want %v, %v", refreshKept, hintKept, tt.wantRefresh, tt.wantHint)
			}
			r := httptest.NewRequest(http.MethodPost, "/auth/logout", nil)
			for _, h := range w.Result().Header.Values("Set-Cookie") {
				if len(h) > maxCookieBytes {
					t.Errorf("Set-Cookie of %d bytes: %.60s...", len(h), h)
				}
			}
			for _, c := range w.Result().Cookies() {
				if c.MaxAge > 0 {
					r.AddCookie(c)
				}
				if c.Path != "/" || !strings.HasPrefix(c.Name, "__Host-") {
					t.Errorf("cookie %s on https: path %q; want a __Host- cookie for /", c.Name, c.Path)
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

// TestCookiePrefixes: on https every cookie is a __Host- cookie (path /, no
// domain), so no sibling subdomain can plant or shadow one: not even the
// signed-out marker, which would make the signed-out page claim that the
// provider ended a session.
func TestCookiePrefixes(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	cfg := config.Session{Secrets: []string{testSessionKey}, Lifetime: 8 * time.Hour}
	sessions, err := newSessionStore(cfg, true, clock, maxCookieHeader)
	if err != nil {
		t.Fatal(err)
	}
	logins, err := newLoginStore(cfg.Secrets, true, clock)
	if err != nil {
		t.Fatal(err)
	}
	id := &identity{Subject: "ada", UserID: "ada", Expires: now.Add(time.Hour).Unix()}
	w := httptest.NewRecorder()
	if _, err := sessions.save(w, nil, id); err != nil {
		t.Fatal(err)
	}
	if _, _, err := sessions.grants.save(w, id, "refresh-token", "id-token", maxCookieHeader); err != nil {
		t.Fatal(err)
	}
	if err := logins.save(w, httptest.NewRequest(http.MethodGet, "/", nil), &loginState{State: randomToken(), Started: now.Unix()}); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("https://meet.example.com")
	http.SetCookie(w, (&Server{cfg: &config.Config{Server: config.Server{PublicURL: u}}}).signOutMarker("1", 60))
	cookies := w.Result().Cookies()
	if len(cookies) != 5 {
		t.Fatalf("%d cookies; want session, refresh, hint, login and the signed-out marker", len(cookies))
	}
	for _, c := range cookies {
		switch {
		case !c.Secure || !c.HttpOnly || c.Domain != "":
			t.Errorf("cookie %s: Secure %v, HttpOnly %v, Domain %q; want Secure, HttpOnly, no Domain", c.Name, c.Secure, c.HttpOnly, c.Domain)
		case c.Path != "/" || !strings.HasPrefix(c.Name, "__Host-"):
			t.Errorf("cookie %s for path %s; want a __Host- cookie for /", c.Name, c.Path)
		}
	}
}
