package gateway

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/roomgate/roomgate/internal/oidctest"
)

// logout posts the sign-out form as a same-origin page would.
func (e *env) logout(b *oidctest.Browser) (*http.Response, []string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url("/auth/logout"), nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, hops := b.FollowRequest(e.t, req)
	var paths []string
	for _, h := range hops {
		paths = append(paths, h.Path)
	}
	return resp, paths
}

// subjectOf reads the sub of a JWT without verifying it.
func subjectOf(t *testing.T, jwt string) string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("id_token_hint is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct{ Sub string }
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims.Sub
}

func TestLogoutAtProvider(t *testing.T) {
	t.Parallel()
	many := make([]string, 1000)
	for i := range many {
		many[i] = fmt.Sprintf("directory-group-%04d", i)
	}
	tests := []struct {
		name      string
		provider  []oidctest.Option
		user      oidctest.User
		signedIn  bool
		wantHops  []string
		wantText  string
		wantHint  bool // id_token_hint sent
		wantAtIdP bool // the provider was asked to end its session
	}{
		{
			name: "end-session endpoint, ID token kept", user: user("ada", "ada@example.com", "eng-leads"), signedIn: true,
			wantHops: []string{"/auth/logout", "/logout", "/auth/signed-out"}, wantText: "ended its session too",
			wantHint: true, wantAtIdP: true,
		},
		{
			name: "ID token too big to keep: client_id only", user: user("ada", "ada@example.com", append(many, "eng-leads")...), signedIn: true,
			wantHops: []string{"/auth/logout", "/logout", "/auth/signed-out"}, wantText: "ended its session too",
			wantAtIdP: true,
		},
		{
			name: "not signed in here: the provider's session still ends", user: user("ada", "ada@example.com", "eng-leads"),
			wantHops: []string{"/auth/logout", "/logout", "/auth/signed-out"}, wantText: "ended its session too",
			wantAtIdP: true,
		},
		{
			name: "no end-session endpoint (Google)", provider: []oidctest.Option{oidctest.WithoutEndSession()},
			user: user("ada", "ada@example.com", "eng-leads"), signedIn: true,
			wantHops: []string{"/auth/logout"}, wantText: "may still remember you",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withProviderOptions(append(tt.provider, oidctest.WithRefreshTokens())...))
			e.provider.SetUser(tt.user)
			b := e.browser()
			if tt.signedIn {
				e.roomToken(first(e.enter(b, "/standup")), "daily-standup")
			}

			resp, hops := e.logout(b)
			if strings.Join(hops, " ") != strings.Join(tt.wantHops, " ") {
				t.Errorf("hops %q; want %q", hops, tt.wantHops)
			}
			if page := body(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(page, tt.wantText) {
				t.Errorf("status %d; want 200 with %q:\n%s", resp.StatusCode, tt.wantText, page)
			}
			for _, path := range []string{"/", "/auth/logout"} {
				for _, name := range []string{"roomgate_session", "roomgate_refresh", "roomgate_hint"} {
					if e.hasCookie(b, path, name) {
						t.Errorf("%s still sent to %s after logout", name, path)
					}
				}
			}
			reqs := e.provider.LogoutRequests()
			if !tt.wantAtIdP {
				if len(reqs) != 0 {
					t.Errorf("%d end-session requests; want none", len(reqs))
				}
				return
			}
			if len(reqs) != 1 {
				t.Fatalf("%d end-session requests; want 1", len(reqs))
			}
			lr := reqs[0]
			if lr.ClientID != e.provider.ClientID() || lr.PostLogoutRedirectURI != e.url("/auth/signed-out") {
				t.Errorf("client_id %q, post_logout_redirect_uri %q; want %q, %q", lr.ClientID, lr.PostLogoutRedirectURI, e.provider.ClientID(), e.url("/auth/signed-out"))
			}
			if (lr.IDTokenHint != "") != tt.wantHint {
				t.Fatalf("id_token_hint sent = %v; want %v", lr.IDTokenHint != "", tt.wantHint)
			}
			if tt.wantHint {
				if sub := subjectOf(t, lr.IDTokenHint); sub != "ada" {
					t.Errorf("id_token_hint is about %q; want ada", sub)
				}
				if strings.Contains(e.logs.String(), lr.IDTokenHint) {
					t.Errorf("the ID token reached the log")
				}
			}
			// The provider's session is over: the next room asks the person.
			_, hops2 := e.enter(b, "/standup")
			if len(hops2) != 4 {
				t.Errorf("after logout: hops %v; want a new sign-in", hops2)
			}
		})
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	e.roomToken(first(e.enter(b, "/standup")), "daily-standup")

	// Another site cannot sign the person out.
	req, _ := http.NewRequest(http.MethodPost, e.url("/auth/logout"), nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.example")
	if resp := b.Do(t, req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site logout: status %d; want 403", resp.StatusCode)
	}
	if _, hops := e.enter(b, "/standup"); len(hops) != 1 {
		t.Errorf("cross-site logout ended the session")
	}

	req, _ = http.NewRequest(http.MethodPost, e.url("/auth/logout"), nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, _ := b.FollowRequest(t, req) // through the provider's end-session endpoint and back
	if resp.StatusCode != http.StatusOK || !strings.Contains(body(t, resp), "signed out") {
		t.Fatalf("logout: status %d; want the signed-out page", resp.StatusCode)
	}
	resp, hops := e.enter(b, "/standup")
	if len(hops) != 4 {
		t.Errorf("after logout: hops %v; want a new sign-in", hops)
	}
	e.roomToken(resp, "daily-standup")
}

// TestLogoutRevokesTheRefreshToken: logout revokes the refresh token at the
// provider (RFC 7009), so a copy of the cookies taken before logout cannot
// refresh the session once its groups need a re-check: it is sent to sign
// in again instead.
func TestLogoutRevokesTheRefreshToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withProviderOptions(oidctest.WithRefreshTokens()))
	e.reconfigure(withScopes("openid", "profile", "email", "groups", "offline_access"))
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	e.roomToken(first(e.enter(b, "/standup")), "daily-standup")
	if !e.hasCookie(b, "/", "roomgate_refresh") {
		t.Fatal("no refresh token kept; the test needs one")
	}
	stolen := e.browser()
	u, _ := url.Parse(e.url("/"))
	stolen.Client.Jar.SetCookies(u, b.Cookies(t, e.url("/")))

	e.logout(b)
	if got := e.provider.Revocations(); len(got) != 1 || got[0] != "refresh_token" {
		t.Fatalf("revocations at the provider: %q; want one of a refresh_token", got)
	}
	e.clock.Advance(10 * time.Minute)
	stolen.StopAt = func(u *url.URL) bool { return strings.HasSuffix(u.Path, "/authorize") || u.Host == roomHost }
	resp, _ := e.enter(stolen, "/standup")
	if loc, _ := resp.Location(); loc == nil || !strings.HasPrefix(loc.String(), e.provider.Issuer()+"/authorize") {
		t.Errorf("the copied cookies after logout: status %d, Location %v; want a sign-in at the provider", resp.StatusCode, loc)
	}
}

// TestSignedOutPageTellsTheTruth: opened by hand, /auth/signed-out says a
// signed-in person is still signed in, and never that the provider ended
// its session unless this browser's logout went there.
func TestSignedOutPageTellsTheTruth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	e.roomToken(first(e.enter(b, "/standup")), "daily-standup")
	if page := body(t, b.Do(t, mustGet(t, e.url("/auth/signed-out")))); !strings.Contains(page, "still signed in") || strings.Contains(page, "ended its session") {
		t.Errorf("signed in, the page says:\n%s", page)
	}
	if page := body(t, e.browser().Do(t, mustGet(t, e.url("/auth/signed-out")))); !strings.Contains(page, "You are signed out") || strings.Contains(page, "ended its session too") {
		t.Errorf("a stranger's visit, the page says:\n%s", page)
	}
	if _, hops := e.logout(b); hops[len(hops)-1] != "/auth/signed-out" {
		t.Fatalf("logout went %v", hops)
	}
	if page := body(t, b.Do(t, mustGet(t, e.url("/auth/signed-out")))); strings.Contains(page, "ended its session too") {
		t.Errorf("a second visit still claims the provider's logout:\n%s", page)
	}
}
