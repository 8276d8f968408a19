package gateway

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/roomgate/roomgate/internal/oidctest"
)

// withAdmin gives the env's config an admin: section for the group
// it-helpdesk, as the file would.
func withAdmin() envOption {
	return func(c *envConfig) { c.extra = "admin:\n  groups: [it-helpdesk]\n  reauth: 15m\n" }
}

// signIn signs a person in and returns their browser.
func (e *env) signInAs(u oidctest.User) *oidctest.Browser {
	e.t.Helper()
	e.provider.SetUser(u)
	b := e.browser()
	e.enter(b, "/")
	return b
}

// waitDecision polls the console until a search for q shows want.
func (e *env) waitDecision(b *oidctest.Browser, q, want string) string {
	e.t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		resp, _ := e.enter(b, "/admin/decisions?q="+url.QueryEscape(q))
		page := body(e.t, resp)
		if strings.Contains(page, want) {
			return page
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the console's search for %q never shows %q:\n%.3000s", q, want, page)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAdminFindsARequestID: Carol is refused; the helpdesk pastes the
// request id of her page into the console and sees who she is, the groups
// that mattered, the room, the outcome and the rule, escaped; and signs
// her out everywhere, with a reason, as an audit line.
func TestAdminFindsARequestID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withAdmin())
	carol := user("carol", "carol@example.com", "marketing", "leadership", "building-3")
	carol.Claims["name"] = `Carol <script>alert("x")</script>`
	cb := e.signInAs(carol)
	resp, _ := e.enter(cb, "/standup")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("carol at the stand-up: %d; want 403", resp.StatusCode)
	}
	rid := resp.Header.Get("X-Request-Id")
	if rid == "" || !strings.Contains(body(t, resp), rid) {
		t.Fatalf("the 403 page does not show its request id %q", rid)
	}

	helpdesk := e.signInAs(user("hal", "hal@example.com", "it-helpdesk"))
	page := e.waitDecision(helpdesk, rid, "carol@example.com")
	for _, want := range []string{"Carol &lt;script&gt;", "<code>carol</code>", "<code>leadership</code>", "of 3", "/standup", ">deny<", "no rule"} {
		if !strings.Contains(page, want) {
			t.Errorf("the decision lacks %q:\n%.3000s", want, page)
		}
	}
	if strings.Contains(page, "<script>alert") {
		t.Error("a hostile name reached the console unescaped")
	}
	// Found by her email and by part of her name too.
	e.waitDecision(helpdesk, "CAROL@example.com", rid)
	e.waitDecision(helpdesk, "carol <script", rid)

	resp = e.post(helpdesk, "/admin/revoke", url.Values{"user": {"carol"}, "reason": {"laptop stolen, ticket 4711"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body(t, resp), "ends on every replica") {
		t.Fatalf("sign out everywhere: %d %.500s", resp.StatusCode, body(t, resp))
	}
	if !regexp.MustCompile(`"msg":"revocation","audit":true.*"admin":"hal".*"value":"carol","reason":"laptop stolen, ticket 4711"`).MatchString(e.logs.String()) {
		t.Error("no audit line names the admin, the person and the reason")
	}
	e.clock.Advance(time.Second)
	if _, hops := e.enter(cb, "/all-hands"); len(hops) < 2 || !strings.HasPrefix(hops[1].String(), e.provider.Issuer()) {
		t.Errorf("carol after sign out everywhere: hops %v; want the provider again", hops)
	}
}

// TestAdminHiddenFromOthers: someone the admin: section does not cover,
// and everyone when the file has none, get what the paths would show if
// there were no console: /admin is a room path no room has; deeper paths
// are nothing; forms are refused cross-origin first.
func TestAdminHiddenFromOthers(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"not helpdesk", "no admin section"} {
		opts := []envOption{withAdmin()}
		u := user("ben", "ben@example.com", "engineering")
		if name == "no admin section" {
			opts = nil
			u = user("hal", "hal@example.com", "it-helpdesk")
		}
		e := newEnv(t, opts...)
		// Signed out: /admin starts a sign-in, as /nosuchroom does.
		signedOut := e.browser()
		signedOut.StopAt = func(u *url.URL) bool { return strings.HasPrefix(u.String(), e.provider.Issuer()) }
		for _, path := range []string{"/admin", "/nosuchroom"} {
			resp, _ := signedOut.Follow(t, e.url(path))
			if loc, _ := resp.Location(); resp.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), e.provider.Issuer()) {
				t.Errorf("%s, signed out, %s: %d; want the sign-in", name, path, resp.StatusCode)
			}
		}
		b := e.signInAs(u)
		norm := func(s string) string {
			s = regexp.MustCompile(`<code>[0-9a-f]{16}</code>`).ReplaceAllString(s, "")
			return strings.NewReplacer("/admin", "/X", "/nosuchroom", "/X").Replace(s)
		}
		a, _ := e.enter(b, "/admin")
		n, _ := e.enter(b, "/nosuchroom")
		if a.StatusCode != http.StatusNotFound || norm(body(t, a)) != norm(body(t, n)) {
			t.Errorf("%s: /admin answers %d, not as a room path no room has:\n%.1000s", name, a.StatusCode, body(t, a))
		}
		for _, path := range []string{"/admin/decisions", "/admin/explain", "/admin/rooms/standup"} {
			resp, _ := e.enter(b, path)
			other, _ := e.enter(b, strings.Replace(path, "admin", "elsewhere", 1))
			if resp.StatusCode != http.StatusNotFound || norm(body(t, resp)) != norm(body(t, other)) {
				t.Errorf("%s: %s answers %d", name, path, resp.StatusCode)
			}
		}
		if resp := e.post(b, "/admin/revoke", url.Values{"user": {"carol"}, "reason": {"x"}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: POST /admin/revoke: %d; want 404", name, resp.StatusCode)
		}
	}
}

// TestAdminReauthAndCSRF: a helpdesk sign-in older than admin.reauth goes
// back to the provider with max_age and prompt=login; an answer whose
// auth_time is too old is refused; a fresh one opens the console.
// Cross-origin posts are refused; pages are not cached or framed.
func TestAdminReauthAndCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withAdmin())
	hal := e.signInAs(user("hal", "hal@example.com", "it-helpdesk"))
	resp, _ := e.enter(hal, "/admin")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body(t, resp), "Helpdesk console") {
		t.Fatalf("the console: %d", resp.StatusCode)
	}
	for h, want := range map[string]string{"Cache-Control": "no-store", "X-Frame-Options": "DENY"} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s: %q; want %q", h, got, want)
		}
	}

	for _, path := range []string{"/admin/revoke", "/admin/invitations/revoke"} {
		req, _ := http.NewRequest(http.MethodPost, e.url(path), strings.NewReader("user=carol&reason=x&id=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "https://evil.example")
		if resp := hal.Do(t, req); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a cross-origin POST %s: %d; want 403", path, resp.StatusCode)
		}
	}
	// Every page asks for a recent sign-in, and a form from an older one
	// does nothing but send the browser to the console.
	e.clock.Advance(16 * time.Minute)
	stop := e.browser()
	stop.Client.Jar = hal.Client.Jar
	// The provider remembers the sign-in of 16 minutes ago, as providers
	// with single sign-on do: the groups' re-check passes, and says so.
	e.provider.MutateIDTokens(func(tok *oidctest.IDToken) { tok.Claims["auth_time"] = e.clock.Now().Add(-16 * time.Minute).Unix() })
	stop.StopAt = func(u *url.URL) bool { return u.Query().Get("max_age") != "" }
	for _, path := range []string{"/admin", "/admin/decisions?q=x", "/admin/explain", "/admin/rooms/standup"} {
		resp, _ := stop.Follow(t, e.url(path))
		loc, _ := resp.Location()
		if loc == nil || loc.Query().Get("max_age") != "900" {
			t.Errorf("%s with a sign-in 16 minutes old: %d %v; want the provider with max_age=900", path, resp.StatusCode, loc)
		}
	}
	if resp := e.post(stop, "/admin/revoke", url.Values{"user": {"carol"}, "reason": {"x"}}); strings.Contains(body(t, resp), "ends on every replica") {
		t.Error("a sign out everywhere from a sign-in older than reauth was carried out")
	}
	e.provider.MutateIDTokens()
	e.clock.Advance(-16 * time.Minute)

	e.clock.Advance(16 * time.Minute)
	before := len(e.provider.AuthorizeRequests())
	// The provider answers with the old sign-in: refused.
	e.provider.MutateIDTokens(func(tok *oidctest.IDToken) { tok.Claims["auth_time"] = e.clock.Now().Add(-time.Hour).Unix() })
	resp, _ = e.enter(hal, "/admin")
	reqs := e.provider.AuthorizeRequests()
	if last := reqs[len(reqs)-1]; len(reqs) == before || last.Query.Get("max_age") != "900" || last.Prompt != "login" {
		t.Fatalf("after reauth: the last authorize request %+v; want max_age=900 and prompt=login", last)
	}
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an old auth_time: %d; want the sign-in refused", resp.StatusCode)
	}
	// Signing in again for real opens it.
	e.provider.MutateIDTokens()
	resp, _ = e.enter(hal, "/admin")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body(t, resp), "Helpdesk console") {
		t.Errorf("after a fresh sign-in: %d", resp.StatusCode)
	}
}

// TestAdminExplainAndRoom: the explain form decides as roomgate explain
// does; a room page shows its rules and who may invite.
func TestAdminExplainAndRoom(t *testing.T) {
	t.Parallel()
	rooms := guestRooms + "  - path: retired\n    room: retired\n    rules:\n      - {groups: [old-timers], role: attendee, until: \"2020-01-01\"}\n"
	e := newEnv(t, withAdmin(), withRooms(rooms))
	hal := e.signInAs(user("hal", "hal@example.com", "it-helpdesk"))
	resp, _ := e.enter(hal, "/admin/explain?groups=eng-leads&room=standup")
	page := body(t, resp)
	for _, want := range []string{"=&gt; rules[0]", "allowed as moderator", "may invite guests"} {
		if !strings.Contains(page, want) {
			t.Errorf("explain lacks %q:\n%.2000s", want, page)
		}
	}
	resp, _ = e.enter(hal, "/admin/rooms/standup")
	if page := body(t, resp); !strings.Contains(page, "may invite guests") || !strings.Contains(page, "eng-leads") {
		t.Errorf("the room page:\n%.2000s", page)
	}
	// A moment that is not one is said so, and the decision is for now:
	// the all-hands rule below ended in 2020, so now it covers no one.
	resp, _ = e.enter(hal, "/admin/explain?groups=old-timers&room=retired&at=nonsense")
	if page := body(t, resp); !strings.Contains(page, "not RFC 3339") || !strings.Contains(page, "denied") {
		t.Errorf("explain with a bad moment:\n%.2000s", page)
	}
	// In German.
	req, _ := http.NewRequest(http.MethodGet, e.url("/admin/decisions"), nil)
	req.Header.Set("Accept-Language", "de")
	if page := body(t, hal.Do(t, req)); !strings.Contains(page, "Helpdesk-Konsole") || !strings.Contains(page, "Entscheidungen") {
		t.Errorf("the console in German:\n%.1000s", page)
	}
}
