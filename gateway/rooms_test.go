package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/internal/metrics"
	"github.com/roomgate/roomgate/internal/oidctest"
)

func TestSignInAndEnterRoom(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads", "unrelated"))
	b := e.browser()

	resp, hops := e.enter(b, "/standup")
	tok := e.roomToken(resp, "daily-standup")
	if len(hops) != 4 {
		t.Errorf("hops %v; want gateway, provider, callback, room path", hops)
	}
	checks := []struct{ name, got, want string }{
		{"td", tok.TeamID, testTeam},
		{"rd", tok.Room, "daily-standup"},
		{"role", tok.Role, "moderator"},
		{"u", tok.Name, "Ada Tester"},
		{"ud", tok.UserID, "ada"},
		{"initials", tok.Initials, "AT"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("claim %s = %q; want %q", c.name, c.got, c.want)
		}
	}
	if ttl := tok.ExpiresAt.Sub(tok.IssuedAt.Time); ttl != 2*time.Minute {
		t.Errorf("exp - iat = %v; want 2m", ttl)
	}

	// The authorize request used PKCE S256, a nonce and a state.
	reqs := e.provider.AuthorizeRequests()
	if len(reqs) != 1 {
		t.Fatalf("authorize requests: got %d; want 1", len(reqs))
	}
	ar := reqs[0]
	if ar.CodeChallengeMethod != "S256" || ar.CodeChallenge == "" || ar.Nonce == "" || ar.State == "" {
		t.Errorf("authorize request %+v; want S256 PKCE, nonce and state", ar)
	}
	if ar.RedirectURI != e.url("/auth/callback") {
		t.Errorf("redirect_uri = %q; want %q", ar.RedirectURI, e.url("/auth/callback"))
	}

	// Signed in: the next visit goes straight through, without the provider.
	resp, hops = e.enter(b, "/all-hands")
	if tok := e.roomToken(resp, "7f9c2b1e-0000-4000-8000-000000000001"); tok.Role != "attendee" {
		t.Errorf("all-hands role = %q; want attendee", tok.Role)
	}
	if len(hops) != 1 {
		t.Errorf("second visit hops %v; want the gateway only", hops)
	}
	if n := len(e.provider.AuthorizeRequests()); n != 1 {
		t.Errorf("authorize requests after second visit: got %d; want 1", n)
	}

	// The audit line names the rule and the jti, never the token.
	logs := e.logs.String()
	if !strings.Contains(logs, `"rule":"config.yaml:`) || !strings.Contains(logs, `"jti":"`+tok.ID+`"`) {
		t.Errorf("audit log lacks rule or jti:\n%s", logs)
	}
	loc, _ := resp.Location()
	if strings.Contains(logs, loc.Query().Get("token")) {
		t.Errorf("a room token reached the log")
	}
}

func TestDecisions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		user       oidctest.User
		path       string
		wantStatus int
		wantRole   string
		wantText   string
	}{
		{"lead is moderator", user("ada", "ada@example.com", "eng-leads"), "/standup", http.StatusFound, "moderator", ""},
		{"glob group is attendee", user("ben", "ben@example.com", "eng-platform"), "/standup", http.StatusFound, "attendee", ""},
		{"contractor denied by email rule", user("dan", "Dan@Contractor.Example", "engineering"), "/standup", http.StatusForbidden, "", "keep you out"},
		{"no rule admits marketing", user("cleo", "cleo@example.com", "marketing"), "/standup", http.StatusForbidden, "", "no rule for"},
		{"no groups at all", user("nobody", "nobody@example.com"), "/standup", http.StatusForbidden, "", "no rule for"},
		{"everyone enters all-hands", user("cleo", "cleo@example.com", "marketing"), "/all-hands", http.StatusFound, "attendee", ""},
		{"group names are case-sensitive", user("eve", "eve@example.com", "Eng-Leads"), "/standup", http.StatusForbidden, "", "no rule for"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.provider.SetUser(tt.user)
			resp, _ := e.enter(e.browser(), tt.path)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d; want %d (body %.300s)", resp.StatusCode, tt.wantStatus, body(t, resp))
			}
			if tt.wantStatus == http.StatusFound {
				if tok := e.roomToken(resp, strings.TrimPrefix(e.mustRoom(tt.path), "/")); tok.Role != tt.wantRole {
					t.Errorf("role %q; want %q", tok.Role, tt.wantRole)
				}
				return
			}
			page := body(t, resp)
			if !strings.Contains(page, tt.wantText) || !strings.Contains(page, "Daily stand-up") || !strings.Contains(page, "the test desk") {
				t.Errorf("403 page does not say which room, why and whom to ask:\n%s", page)
			}
			if !strings.Contains(page, resp.Header.Get("X-Request-Id")) {
				t.Errorf("403 page lacks the request id")
			}
		})
	}
}

// mustRoom maps a room path to its Digital Samba room.
func (e *env) mustRoom(path string) string {
	room, ok := e.gw.Rules().Lookup(strings.TrimPrefix(path, "/"))
	if !ok {
		e.t.Fatalf("no room %s", path)
	}
	return room.Room
}

// TestRoomNamesCannotBeProbed: signed out, a room and any other
// single-segment path get the same answer, a sign-in, so nobody outside can
// tell which rooms exist; roomgate's own paths and deeper paths are 404.
// Signed in, an unknown room is a 404 page.
func TestRoomNamesCannotBeProbed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	shape := func(resp *http.Response) string {
		loc, err := resp.Location()
		if err != nil {
			return fmt.Sprintf("%d", resp.StatusCode)
		}
		q := loc.Query()
		for _, k := range []string{"state", "nonce", "code_challenge"} {
			q.Set(k, "x")
		}
		loc.RawQuery = q.Encode()
		return fmt.Sprintf("%d %s %d cookies", resp.StatusCode, loc, len(resp.Cookies()))
	}
	room := shape(e.browser().Do(t, mustGet(t, e.url("/standup"))))
	for _, path := range []string{"/no-such-room", "/Standup", "/x"} {
		if got := shape(e.browser().Do(t, mustGet(t, e.url(path)))); got != room {
			t.Errorf("signed out, GET %s: %s; want the same as a room: %s", path, got, room)
		}
	}
	for _, path := range []string{"/auth", "/metrics", "/healthz/x", "/standup/extra"} {
		resp := e.browser().Do(t, mustGet(t, e.url(path)))
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d; want 404", path, resp.StatusCode)
		}
		if page := body(t, resp); !strings.Contains(page, "<!doctype html>") || strings.Contains(page, "goroutine") {
			t.Errorf("GET %s: not a clean HTML page: %.200s", path, page)
		}
	}
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	resp, _ := e.enter(b, "/no-such-room")
	if page := body(t, resp); resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "/no-such-room") {
		t.Errorf("signed in, GET /no-such-room: status %d; want the 404 page naming it (%.200s)", resp.StatusCode, page)
	}
}

// TestHeadMintsNothing: HEAD on a room or the room list, signed in or out,
// starts no sign-in, mints no token and writes no audit line.
func TestHeadMintsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	e.roomToken(first(e.enter(b, "/standup")), "daily-standup")
	before := strings.Count(e.logs.String(), `"audit":true`)
	for _, browser := range []*oidctest.Browser{b, e.browser()} {
		for _, path := range []string{"/standup", "/", "/no-such-room"} {
			req, _ := http.NewRequest(http.MethodHead, e.url(path), nil)
			resp := browser.Do(t, req)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Location") != "" || len(resp.Cookies()) != 0 {
				t.Errorf("HEAD %s: status %d, Location %q, %d cookies; want 200 and nothing else", path, resp.StatusCode, resp.Header.Get("Location"), len(resp.Cookies()))
			}
		}
	}
	if after := strings.Count(e.logs.String(), `"audit":true`); after != before {
		t.Errorf("HEAD wrote %d audit lines; want none", after-before)
	}
}

func TestIndexListsRoomsWithRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	resp, hops := e.enter(b, "/")
	if resp.StatusCode != http.StatusOK || len(hops) != 4 {
		t.Fatalf("GET / signed out: status %d after %v; want 200 after sign-in", resp.StatusCode, hops)
	}
	page := body(t, resp)
	for _, want := range []string{"Hello, Ada Tester", `href="/standup"`, "Daily stand-up", "moderator", `href="/all-hands"`, "attendee", `action="/auth/logout"`} {
		if !strings.Contains(page, want) {
			t.Errorf("room list lacks %q:\n%s", want, page)
		}
	}

	e2 := newEnv(t)
	e2.provider.SetUser(user("cleo", "cleo@example.com", "marketing"))
	resp, _ = e2.enter(e2.browser(), "/")
	page = body(t, resp)
	if strings.Contains(page, "/standup") || !strings.Contains(page, "/all-hands") {
		t.Errorf("marketing's room list should hold all-hands only:\n%s", page)
	}
}

// TestOpeningHours: outside its hours a room gives the 403 page that says
// when it opens (never that the person may not enter), the room list shows
// it with its next opening, the audit line and the metric say closed; a
// lead whose rule has early is let in before; inside, the token's exp is
// never later than the end of the opening.
func TestOpeningHours(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	e := newEnv(t, withMetrics(m), withRooms(""))
	// At 10:00 UTC, so that the opening is later the same day whatever
	// the hour the test runs: an opening on another day names the day
	// (failed in CI at 23:25 UTC).
	now := e.clock.Now().UTC()
	e.clock.Advance(time.Date(now.Year(), now.Month(), now.Day()+1, 10, 0, 0, 0, time.UTC).Sub(now))
	base := e.clock.Now().UTC().Truncate(time.Minute)
	from, to := base.Add(42*time.Minute), base.Add(46*time.Minute)
	e.reconfigure(func(c *config.Config) {
		c.Rules = parseRooms(t, fmt.Sprintf(`
  - path: standup
    room: daily-standup
    open:
      timezone: UTC
      dates:
        - {from: %q, to: %q}
    rules:
      - groups: [eng-leads]
        role: moderator
        early: 45m
      - groups: ["eng-*"]
        role: attendee
`, from.Format("2006-01-02T15:04"), to.Format("2006-01-02T15:04")))
	})
	e.provider.SetUser(user("bob", "bob@example.com", "eng-web"))
	b := e.browser()
	resp, _ := e.enter(b, "/standup")
	page := body(t, resp)
	if strings.Contains(page, "Error 403") || !strings.Contains(page, "Closed now") {
		t.Errorf("the closed page is headed as an error:\n%s", page)
	}
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "opens at "+from.Format("15:04")+" UTC, in 42 minutes") ||
		!strings.Contains(page, "You may enter") || strings.Contains(page, "keep you out") || strings.Contains(page, "no rule") {
		t.Errorf("closed room: status %d; want 403 saying when it opens, and that they may enter then:\n%s", resp.StatusCode, page)
	}
	if !strings.Contains(e.logs.String(), `"reason":"closed: rules[1]`) {
		t.Errorf("audit line does not say closed:\n%s", e.logs.String())
	}
	if !strings.Contains(scrape(t, e), `roomgate_room_denials_total{reason="closed",room="standup"} 1`) {
		t.Errorf("the denial metric does not count closed")
	}
	resp, _ = e.enter(b, "/")
	if page := body(t, resp); !strings.Contains(page, "closed now: opens at "+from.Format("15:04")+" UTC") {
		t.Errorf("room list does not show the closed room's opening:\n%s", page)
	}

	lead := e.browser()
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	e.roomToken(first(e.enter(lead, "/standup")), "daily-standup")

	// A minute before the end: iat + ttl (2m) falls after it, so the clamp
	// decides exp.
	e.clock.Advance(45 * time.Minute)
	tok := e.roomToken(first(e.enter(b, "/standup")), "daily-standup")
	if tok.ExpiresAt.After(to) || tok.IssuedAt.Add(2*time.Minute).Before(tok.ExpiresAt.Time) {
		t.Errorf("token exp %s; want no later than the opening's end %s", tok.ExpiresAt, to)
	}
	if !tok.ExpiresAt.Equal(to) {
		t.Errorf("token exp %s; want the end of the opening, %s, which comes before iat + ttl", tok.ExpiresAt, to)
	}
}

// TestForbiddenPageOffersAnotherAccount: the 403 page says who the person
// is signed in as, and "use another account" signs them out and asks the
// provider for its account chooser, back to the same room; another site
// cannot post it.
func TestForbiddenPageOffersAnotherAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("cleo", "cleo@example.com", "marketing"))
	b := e.browser()
	resp, _ := e.enter(b, "/standup")
	page := body(t, resp)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "You are signed in as <strong>Cleo Tester (cleo@example.com)</strong>") ||
		!strings.Contains(page, `action="/auth/switch"`) || !strings.Contains(page, `value="/standup"`) {
		t.Fatalf("403 page: %d\n%s", resp.StatusCode, page)
	}
	cross, _ := http.NewRequest(http.MethodPost, e.url("/auth/switch"), strings.NewReader("next=/standup"))
	cross.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	cross.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp := b.Do(t, cross); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site POST /auth/switch: %d; want 403", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, e.url("/auth/switch"), strings.NewReader("next=/standup"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp = b.Do(t, req)
	loc, err := resp.Location()
	if err != nil || loc.Query().Get("prompt") != "select_account" || !strings.HasPrefix(loc.String(), e.provider.Issuer()+"/authorize") {
		t.Fatalf("use another account: %d to %v; want the provider with prompt=select_account", resp.StatusCode, loc)
	}
	e.assertNoSession(t, resp)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	resp, _ = b.Follow(t, loc.String())
	e.roomToken(resp, "daily-standup")
}

// TestForgivingRoomURLs: signed in, /Standup and /standup/ lead to
// /standup; an unknown room's 404 lists the rooms the person may enter.
func TestForgivingRoomURLs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	e.roomToken(first(e.enter(b, "/standup")), "daily-standup")
	for _, path := range []string{"/Standup", "/STANDUP", "/standup/"} {
		resp := b.Do(t, mustGet(t, e.url(path)))
		if loc := resp.Header.Get("Location"); loc != "/standup" {
			t.Errorf("GET %s: %d to %q; want a redirect to /standup", path, resp.StatusCode, loc)
		}
	}
	resp, _ := e.enter(b, "/stand-up")
	page := body(t, resp)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(page, `<a href="/standup">`) || !strings.Contains(page, `<a href="/all-hands">`) {
		t.Errorf("404 for an unknown room: %d; want the rooms she may enter listed:\n%s", resp.StatusCode, page)
	}
	// Signed out, a trailing slash redirects whatever the path: no probing.
	for _, path := range []string{"/standup/", "/no-such-room/"} {
		resp := e.browser().Do(t, mustGet(t, e.url(path)))
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != strings.TrimSuffix(path, "/") {
			t.Errorf("signed out, GET %s: %d to %q", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

// TestBranding: server.brand's name and logo replace roomgate's on the
// pages employees see.
func TestBranding(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.reconfigure(func(c *config.Config) { c.Server.Brand = config.Brand{Name: "Acme Meet", Logo: "/assets/acme.svg"} })
	e.provider.SetUser(user("cleo", "cleo@example.com", "marketing"))
	resp, _ := e.enter(e.browser(), "/standup")
	page := body(t, resp)
	if !strings.Contains(page, `<span class="brand">Acme Meet</span>`) || !strings.Contains(page, `<img class="logo" src="/assets/acme.svg"`) ||
		!strings.Contains(page, "· Acme Meet</title>") || strings.Contains(page, ">roomgate<") {
		t.Errorf("the page does not carry the brand:\n%s", page)
	}
}

// TestAuditLineNamesTheGroupsTheRulesSaw: the decision's audit line holds
// the groups the rules decided on, those some rule uses, as a JSON list
// that explain -groups takes as it is.
func TestAuditLineNamesTheGroupsTheRulesSaw(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads", "chess-club", "a,comma"))
	resp, _ := e.enter(e.browser(), "/standup")
	e.roomToken(resp, "daily-standup")
	id := resp.Header.Get("X-Request-Id")
	var line struct {
		Groups []string `json:"groups"`
		Role   string   `json:"role"`
	}
	for _, l := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(l, `"msg":"decision"`) && strings.Contains(l, id) {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !slices.Equal(line.Groups, []string{"eng-leads"}) || line.Role != "moderator" {
		t.Errorf("audit line groups %q, role %q; want [eng-leads] (no rule uses the others), moderator", line.Groups, line.Role)
	}
}

// TestNotFoundListsTheRoomList: the 404 page offers the rooms the start
// page lists, closed ones with their next opening.
func TestNotFoundListsTheRoomList(t *testing.T) {
	t.Parallel()
	// Monday 7 December 2026, 10:00 UTC; the rooms open on Friday.
	e := mondayMorning(t, `
  - path: standup
    room: daily-standup
    title: Daily stand-up
    rules:
      - groups: [eng-leads]
        role: moderator
  - path: retro
    room: retro
    title: Sprint retro
    open:
      timezone: UTC
      dates:
        - {from: "2026-12-11T15:45", to: "2026-12-11T17:00"}
    rules:
      - groups: [eng-leads]
        role: attendee
  - path: board
    room: board
    rules:
      - groups: [board]
        role: moderator
`)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	index := body(t, first(e.enter(b, "/")))
	resp := b.Do(t, mustGet(t, e.url("/nope")))
	page := body(t, resp)
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("an unknown path: status %d; want 404", resp.StatusCode)
	}
	for _, want := range []string{`href="/standup">Daily stand-up</a> <span class="role">moderator</span>`,
		`href="/retro">Sprint retro</a> <span class="role">attendee</span> <span class="opens">closed now: opens on Fri 11 Dec at 15:45 UTC`} {
		if !strings.Contains(page, want) || !strings.Contains(index, want) {
			t.Errorf("the 404 page and the start page do not both list %s:\n%s", want, page)
		}
	}
	if strings.Contains(page, "/board") {
		t.Errorf("the 404 page lists a room she may not enter:\n%s", page)
	}
}

// mondayMorning is a gateway with these rooms on Monday 7 December 2026 at
// 10:00 UTC.
func mondayMorning(t *testing.T, rooms string) *env {
	t.Helper()
	e := newEnv(t, withRooms(""))
	e.clock.Advance(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC).Sub(e.clock.Now()))
	e.reconfigure(func(c *config.Config) { c.Rules = parseRooms(t, rooms) })
	return e
}

// TestPathPrefix: under public_url's path every route, redirect, link and
// form lives below it, the sign-in comes back below it, and a request
// outside it is not roomgate's.
func TestPathPrefix(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withPrefix("/meet"))
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	resp, hops := e.enter(b, "/meet/standup")
	e.roomToken(resp, "daily-standup")
	for _, h := range hops {
		if h.Host == strings.TrimPrefix(e.srv.URL, "http://") && !strings.HasPrefix(h.Path, "/meet/") {
			t.Errorf("a hop outside the prefix: %s", h)
		}
	}
	index := body(t, first(e.enter(b, "/meet/")))
	for _, want := range []string{`href="/meet/standup"`, `action="/meet/auth/logout"`, `href="/meet/static/roomgate.css"`} {
		if !strings.Contains(index, want) {
			t.Errorf("the room list lacks %s:\n%s", want, index)
		}
	}
	if strings.Contains(index, `href="/standup"`) || strings.Contains(index, `action="/auth/`) {
		t.Errorf("the room list links outside the prefix:\n%s", index)
	}
	// The forgiving room path redirects within the prefix.
	r := b.Do(t, mustGet(t, e.url("/meet/Standup")))
	if loc := r.Header.Get("Location"); r.StatusCode != http.StatusFound || loc != "/meet/standup" {
		t.Errorf("/meet/Standup: %d to %q; want 302 to /meet/standup", r.StatusCode, loc)
	}
	for _, outside := range []string{"/standup", "/auth/callback", "/meetx/standup", "/healthz"} {
		r := b.Do(t, mustGet(t, e.url(outside)))
		if r.StatusCode != http.StatusNotFound || strings.Contains(body(t, r), "roomgate") {
			t.Errorf("%s, outside the prefix: %d; want a plain 404", outside, r.StatusCode)
		}
	}
	if r := b.Do(t, mustGet(t, e.url("/meet/healthz"))); r.StatusCode != http.StatusOK {
		t.Errorf("/meet/healthz: %d; want 200", r.StatusCode)
	}
}
