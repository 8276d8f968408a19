package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/roomgate/roomgate/config"

	"github.com/roomgate/roomgate/internal/oidctest"
)

// noRoomToken fails the test if resp sends the browser anywhere but the
// gateway or the provider, or sets a session.
func (e *env) noEntry(resp *http.Response, b *oidctest.Browser) {
	e.t.Helper()
	if loc, err := resp.Location(); err == nil && loc.Host == roomHost {
		e.t.Fatalf("sent into a room: %s", loc)
	}
	for _, c := range b.Cookies(e.t, e.url("/")) {
		if strings.Contains(c.Name, "roomgate_session") {
			e.t.Fatalf("a session cookie was set")
		}
	}
	if resp.StatusCode >= 500 {
		e.t.Fatalf("status %d; want a 4xx or a sign-in", resp.StatusCode)
	}
}

// TestBrokenIDTokens: every kind of bad ID token ends on an error page,
// with no session and no room token.
func TestBrokenIDTokens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mut  oidctest.Mutation
	}{
		{"wrong issuer", oidctest.WrongIssuer},
		{"wrong audience", oidctest.WrongAudience},
		{"expired", oidctest.Expired},
		{"not yet valid", oidctest.NotYetValid},
		{"wrong nonce", oidctest.WrongNonce},
		{"missing nonce", oidctest.MissingNonce},
		{"alg none", oidctest.AlgNone},
		{"HS256 with the client secret", oidctest.HS256ClientSecret},
		{"unknown key", oidctest.UnknownKey},
		{"impostor key under the right kid", oidctest.ImpostorKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
			e.provider.MutateNextIDToken(tt.mut)
			b := e.browser()
			resp, _ := e.enter(b, "/standup")
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d; want 400", resp.StatusCode)
			}
			e.noEntry(resp, b)
			if page := body(t, resp); !strings.Contains(page, "could not be completed") {
				t.Errorf("page does not explain:\n%.400s", page)
			}
		})
	}
}

// TestTamperedSessionCookie: any change to the session cookie means
// "signed out": back to the provider, never an error and never a room.
func TestTamperedSessionCookie(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	e.roomToken(first(e.enter(b, "/standup")), "daily-standup")
	var session *http.Cookie
	for _, c := range b.Cookies(t, e.url("/")) {
		if c.Name == "roomgate_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatal("no session cookie")
	}
	v := session.Value
	flip := func(i int) string {
		bs := []byte(v)
		if bs[i] == 'A' {
			bs[i] = 'B'
		} else {
			bs[i] = 'A'
		}
		return string(bs)
	}
	tests := []struct{ name, value string }{
		{"flipped first byte", flip(0)},
		{"flipped middle byte", flip(len(v) / 2)},
		{"flipped last byte", flip(len(v) - 1)},
		{"truncated", v[:len(v)/2]},
		{"empty", ""},
		{"garbage", "not-a-cookie"},
		{"signed with another secret", mustForeignSession(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := mustGet(t, e.url("/standup"))
			req.AddCookie(&http.Cookie{Name: "roomgate_session", Value: tt.value})
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, _ := resp.Location()
			if resp.StatusCode != http.StatusFound || loc == nil || loc.Host == roomHost || !strings.HasSuffix(loc.Path, "/authorize") {
				t.Errorf("status %d to %v; want a sign-in at the provider", resp.StatusCode, loc)
			}
		})
	}
}

// mustForeignSession is a well-formed session cookie for a moderator,
// made with another secret, as another deployment would make it.
func mustForeignSession(t *testing.T) string {
	t.Helper()
	now := time.Now()
	cfg := config.Session{Secrets: []string{"another-secret-of-sufficient-length-0123456789"}, Lifetime: 8 * time.Hour}
	other, err := newSessionStore(cfg, false, func() time.Time { return now }, maxCookieHeader)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	id := &identity{UserID: "mallory", Groups: []string{"eng-leads"}, Expires: now.Add(time.Hour).Unix()}
	if _, err := other.save(w, httptest.NewRequest(http.MethodGet, "/", nil), id); err != nil {
		t.Fatal(err)
	}
	c := w.Result().Cookies()
	if len(c) != 1 {
		t.Fatalf("foreign session: %d cookies; want 1", len(c))
	}
	return c[0].Value
}
