package gateway

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/roomgate/roomgate/internal/oidctest"
)

func TestCallbackState(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))

	// Reach the callback URL without following it.
	b := e.browser()
	b.StopAt = func(u *url.URL) bool { return u.Path == "/auth/callback" || u.Host == roomHost }
	resp, _ := e.enter(b, "/standup")
	cb, err := resp.Location()
	if err != nil {
		t.Fatalf("no callback redirect: %v", err)
	}
	loginCookies := b.Cookies(t, e.url("/auth/callback"))

	withState := func(state string) string {
		u := *cb
		q := u.Query()
		q.Set("state", state)
		u.RawQuery = q.Encode()
		return u.String()
	}
	tests := []struct {
		name    string
		url     string
		cookies bool
	}{
		{"missing state", withState(""), true},
		{"other state", withState(strings.Repeat("A", 22)), true},
		{"state of odd shape", withState("../../x"), true},
		{"right state, other browser", cb.String(), false},
		{"no code", strings.Replace(cb.String(), "code=", "nocode=", 1), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attacker := e.browser()
			if tt.cookies {
				u, _ := url.Parse(e.url("/auth/callback"))
				attacker.Client.Jar.SetCookies(u, loginCookies)
			}
			resp, _ := attacker.Follow(t, tt.url)
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d; want 400", resp.StatusCode)
			}
			e.noEntry(resp, attacker)
		})
	}

	// The real callback still works once, then never again.
	b.StopAt = oidctest.StopAtHost(roomHost)
	e.roomToken(first(b.Follow(t, cb.String())), "daily-standup")

	replay := e.browser()
	u, _ := url.Parse(e.url("/auth/callback"))
	replay.Client.Jar.SetCookies(u, loginCookies) // a stolen login cookie and a stolen code
	resp, _ = replay.Follow(t, cb.String())
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("replayed code: status %d; want 400", resp.StatusCode)
	}
	e.noEntry(resp, replay)
}

func TestProviderRefusesSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetAuthorizeError("access_denied")
	b := e.browser()
	resp, _ := e.enter(b, "/standup")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body(t, resp), "cancelled") {
		t.Errorf("access_denied: status %d; want 403 and a page that says so", resp.StatusCode)
	}
	e.noEntry(resp, b)
}
