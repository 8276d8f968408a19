package gateway

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/internal/oidctest"
	"github.com/roomgate/roomgate/mapping"
)

// reconfigure replaces e's gateway with one built from a copy of e's config
// changed by change, on a new server that the provider accepts as its
// redirect URI. Browsers keep their cookies: a cookie jar does not tell
// 127.0.0.1's ports apart.
func (e *env) reconfigure(change func(*config.Config)) {
	e.t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base, err := url.Parse("http://" + srv.Listener.Addr().String())
	if err != nil {
		e.t.Fatal(err)
	}
	cfg := *e.cfg
	cfg.Server.PublicURL = base
	change(&cfg)
	e.provider.SetRedirectURI(base.String() + "/auth/callback")
	gw, err := New(&cfg, Deps{
		Logger:     slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		HTTPClient: e.provider.Client(),
		Now:        e.clock.Now,
		Metrics:    e.gw.metrics,
	})
	if err != nil {
		e.t.Fatalf("gateway.New: %v", err)
	}
	srv.Config.Handler = gw
	srv.Start()
	e.t.Cleanup(srv.Close)
	e.gw, e.srv, e.cfg = gw, srv, &cfg
}

// withScopes asks for these scopes.
func withScopes(scopes ...string) func(*config.Config) {
	return func(c *config.Config) { c.OIDC.Scopes = scopes }
}

// grants counts the token requests of each grant type so far.
func grantCounts(p *oidctest.Provider) (codes, refreshes int) {
	for _, r := range p.TokenRequests() {
		switch r.GrantType {
		case "authorization_code":
			codes++
		case "refresh_token":
			refreshes++
		}
	}
	return codes, refreshes
}

// hasCookie reports whether b sends a cookie whose name contains name to
// path of the gateway.
func (e *env) hasCookie(b *oidctest.Browser, path, name string) bool {
	e.t.Helper()
	for _, c := range b.Cookies(e.t, e.url(path)) {
		if strings.Contains(c.Name, name) {
			return true
		}
	}
	return false
}

// demoted is ada after someone removed her from eng-leads.
func demoted() oidctest.User {
	u := user("ada", "ada@example.com", "engineering")
	u.UserInfo = map[string]any{"groups": []string{"engineering"}}
	return u
}

// TestRecheck signs ada in as a moderator, removes her from eng-leads at the
// provider, lets session.recheck pass and enters again: every way of
// re-checking must notice, and every way it can fail must decide nothing on
// the old groups.
func TestRecheck(t *testing.T) {
	t.Parallel()
	offline := withScopes("openid", "profile", "email", "groups", "offline_access")
	tests := []struct {
		name      string
		provider  []oidctest.Option
		config    func(*config.Config)
		change    func(e *env) // at the provider, after sign-in
		advance   time.Duration
		wantRole  string // "" when the person must not enter
		wantHops  int
		wantCodes int // authorization_code token requests in all
		wantRefr  int // refresh_token token requests in all
		wantPage  int // status of the final page when wantRole is ""
		wantText  string
		wantLog   string
		wantPrmpt []string // the prompt of every authorize request
	}{
		{
			name:     "within session.recheck the session is enough",
			provider: []oidctest.Option{oidctest.WithRefreshTokens()},
			change:   func(e *env) { e.provider.SetUser(demoted()) },
			advance:  10*time.Minute - time.Second,
			wantRole: "moderator", wantHops: 1, wantCodes: 1, wantRefr: 0,
			wantPrmpt: []string{""},
		},
		{
			name:     "refresh token, groups from the new ID token",
			provider: []oidctest.Option{oidctest.WithRefreshTokens()},
			change:   func(e *env) { e.provider.SetUser(demoted()) },
			advance:  10 * time.Minute,
			wantRole: "attendee", wantHops: 1, wantCodes: 1, wantRefr: 1,
			wantLog:   "re-checking groups with the refresh token",
			wantPrmpt: []string{""},
		},
		{
			name:     "refresh token from offline_access, as Dex gives it",
			config:   offline,
			change:   func(e *env) { e.provider.SetUser(demoted()) },
			advance:  11 * time.Minute,
			wantRole: "attendee", wantHops: 1, wantCodes: 1, wantRefr: 1,
			wantPrmpt: []string{""},
		},
		{
			name:     "refresh without an ID token reads userinfo",
			provider: []oidctest.Option{oidctest.WithRefreshTokens(), oidctest.WithoutIDTokenOnRefresh()},
			change:   func(e *env) { e.provider.SetUser(demoted()) },
			advance:  time.Hour,
			wantRole: "attendee", wantHops: 1, wantCodes: 1, wantRefr: 1,
			wantPrmpt: []string{""},
		},
		{
			name:     "no refresh token: silent sign-in",
			change:   func(e *env) { e.provider.SetUser(demoted()) },
			advance:  11 * time.Minute,
			wantRole: "attendee", wantHops: 4, wantCodes: 2, wantRefr: 0,
			wantLog:   "re-checking groups with a silent sign-in",
			wantPrmpt: []string{"", "none"},
		},
		{
			name: "silent sign-in, provider session over: normal sign-in",
			change: func(e *env) {
				e.provider.SetUser(demoted())
				e.provider.SetLoginRequired(true)
			},
			advance:  11 * time.Minute,
			wantRole: "attendee", wantHops: 6, wantCodes: 2, wantRefr: 0,
			wantLog:   "silent re-check needs the person",
			wantPrmpt: []string{"", "none", ""},
		},
		{
			name: "silent sign-in refused: signed out, with the provider's refusal",
			change: func(e *env) {
				e.provider.SetAuthorizeError("access_denied")
			},
			advance:  11 * time.Minute,
			wantHops: 3, wantCodes: 1, wantPage: http.StatusForbidden, wantText: "did not let you through",
			wantPrmpt: []string{"", "none"},
		},
		{
			name:     "refresh refused (account disabled): signed out, then a normal sign-in",
			provider: []oidctest.Option{oidctest.WithRefreshTokens()},
			change: func(e *env) {
				u := demoted()
				u.RefreshDisabled = true
				e.provider.SetUser(u)
			},
			advance:  11 * time.Minute,
			wantRole: "attendee", wantHops: 4, wantCodes: 2, wantRefr: 1,
			wantLog:   "refresh refused; signing the person out",
			wantPrmpt: []string{"", ""},
		},
		{
			name:     "refresh refused and sign-in refused: signed out, nobody enters",
			provider: []oidctest.Option{oidctest.WithRefreshTokens()},
			change: func(e *env) {
				e.provider.RevokeRefresh()
				e.provider.SetAuthorizeError("access_denied")
			},
			advance:  11 * time.Minute,
			wantHops: 3, wantCodes: 1, wantRefr: 1, wantPage: http.StatusForbidden, wantText: "did not let you through",
			wantLog:   "invalid_grant",
			wantPrmpt: []string{"", ""},
		},
		{
			name:     "refreshed ID token about someone else: signed out, then a normal sign-in",
			provider: []oidctest.Option{oidctest.WithRefreshTokens()},
			change: func(e *env) {
				e.provider.SetUser(demoted())
				e.provider.MutateNextIDToken(oidctest.ExtraClaims(map[string]any{"sub": "mallory", "groups": []string{"eng-leads"}}))
			},
			advance:  11 * time.Minute,
			wantRole: "attendee", wantHops: 4, wantCodes: 2, wantRefr: 1,
			wantLog:   `is about subject \"mallory\"`,
			wantPrmpt: []string{"", ""},
		},
		{
			name:     "refreshed ID token signed by an unknown key: signed out, then a normal sign-in",
			provider: []oidctest.Option{oidctest.WithRefreshTokens()},
			change: func(e *env) {
				e.provider.SetUser(demoted())
				e.provider.MutateNextIDToken(oidctest.UnknownKey)
			},
			advance:  11 * time.Minute,
			wantRole: "attendee", wantHops: 4, wantCodes: 2, wantRefr: 1,
			wantLog:   "refreshed ID token refused",
			wantPrmpt: []string{"", ""},
		},
		{
			name:     "provider down during refresh: 502, nothing decided",
			provider: []oidctest.Option{oidctest.WithRefreshTokens()},
			change:   func(e *env) { e.provider.SetDown(true) },
			advance:  11 * time.Minute,
			wantHops: 1, wantCodes: 1, wantRefr: 0, wantPage: http.StatusBadGateway, wantText: "not answering",
			wantPrmpt: []string{""},
		},
		{
			name:     "provider unreachable during refresh: 502, nothing decided",
			provider: []oidctest.Option{oidctest.WithRefreshTokens()},
			change:   func(e *env) { e.provider.SetUnreachable(true) },
			advance:  11 * time.Minute,
			wantHops: 1, wantCodes: 1, wantPage: http.StatusBadGateway, wantText: "not answering",
			wantPrmpt: []string{""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withProviderOptions(tt.provider...))
			if tt.config != nil {
				e.reconfigure(tt.config)
			}
			e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
			b := e.browser()
			if tok := e.roomToken(first(e.enter(b, "/standup")), "daily-standup"); tok.Role != "moderator" {
				t.Fatalf("signed in as %q; want moderator", tok.Role)
			}
			tt.change(e)
			e.clock.Advance(tt.advance)

			resp, hops := e.enter(b, "/standup")
			if len(hops) != tt.wantHops {
				t.Errorf("hops %v; want %d", hops, tt.wantHops)
			}
			e.wantRoleOrPage(resp, "daily-standup", tt.wantRole, tt.wantPage, tt.wantText)
			codes, refreshes := grantCounts(e.provider)
			if codes != tt.wantCodes || refreshes != tt.wantRefr {
				t.Errorf("token requests: %d codes, %d refreshes; want %d, %d", codes, refreshes, tt.wantCodes, tt.wantRefr)
			}
			var prompts []string
			for _, ar := range e.provider.AuthorizeRequests() {
				prompts = append(prompts, ar.Prompt)
			}
			if strings.Join(prompts, ",") != strings.Join(tt.wantPrmpt, ",") {
				t.Errorf("authorize prompts %q; want %q", prompts, tt.wantPrmpt)
			}
			if tt.wantLog != "" && !strings.Contains(e.logs.String(), tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, e.logs.String())
			}
			signedOut := tt.wantPage == http.StatusForbidden
			if got := e.hasCookie(b, "/", "roomgate_session"); got == signedOut {
				t.Errorf("session cookie present = %v; want %v", got, !signedOut)
			}
		})
	}
}

// TestRecheckAfterOutage: the session survives a provider outage during a
// re-check (nothing is decided meanwhile) and is refreshed once the
// provider is back, without a sign-in.
func TestRecheckAfterOutage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withProviderOptions(oidctest.WithRefreshTokens()))
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	e.roomToken(first(e.enter(b, "/standup")), "daily-standup")

	e.provider.SetDown(true)
	e.clock.Advance(11 * time.Minute)
	var calls []int
	for range 2 {
		if resp, _ := e.enter(b, "/standup"); resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("during the outage: status %d; want 502", resp.StatusCode)
		}
		calls = append(calls, len(e.provider.TokenRequests()))
	}
	if calls[1] != calls[0] {
		t.Errorf("the second request during the outage called the provider again (%d token requests, then %d); want the 502 at once", calls[0], calls[1])
	}
	e.provider.SetDown(false)
	e.clock.Advance(retryAfter) // known down until then: the page comes at once
	e.provider.SetUser(demoted())
	resp, hops := e.enter(b, "/standup")
	if tok := e.roomToken(resp, "daily-standup"); tok.Role != "attendee" || len(hops) != 1 {
		t.Errorf("after the outage: role %q after %d hops; want attendee after 1", tok.Role, len(hops))
	}
	if codes, _ := grantCounts(e.provider); codes != 1 {
		t.Errorf("code exchanges: got %d; want 1 (no new sign-in)", codes)
	}
}

// TestRecheckWhenRulesChange: a reload that changes the rule set's group
// patterns makes the next request re-check at once, since the groups kept
// for the old patterns may not answer the new ones; a reload that keeps the
// patterns does not.
func TestRecheckWhenRulesChange(t *testing.T) {
	t.Parallel()
	samePatterns := strings.Replace(testRooms, "title: \"All hands\"", "title: \"Everyone\"", 1)
	newPattern := testRooms + `
  - path: board
    room: board-room
    rules:
      - groups: [board-members]
        role: moderator
`
	tests := []struct {
		name          string
		rooms         string
		wantRefreshes int
	}{
		{"same patterns", samePatterns, 0},
		{"a new pattern", newPattern, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withProviderOptions(oidctest.WithRefreshTokens()))
			ada := user("ada", "ada@example.com", "eng-leads", "board-members")
			e.provider.SetUser(ada)
			b := e.browser()
			e.roomToken(first(e.enter(b, "/standup")), "daily-standup")

			e.gw.SetRules(parseRooms(t, tt.rooms))
			e.clock.Advance(time.Minute)
			resp, hops := e.enter(b, "/standup")
			e.roomToken(resp, "daily-standup")
			if len(hops) != 1 {
				t.Errorf("hops %v; want the gateway only", hops)
			}
			if _, refreshes := grantCounts(e.provider); refreshes != tt.wantRefreshes {
				t.Errorf("refreshes: got %d; want %d", refreshes, tt.wantRefreshes)
			}
			if tt.rooms == newPattern {
				// board-members was not kept at sign-in: no rule named it.
				e.roomToken(first(e.enter(b, "/board")), "board-room")
			}
		})
	}
}

// parseRooms parses a rooms section the way the gateway's config does.
func parseRooms(t *testing.T, rooms string) *mapping.RuleSet {
	t.Helper()
	return parseConfig(t, rooms).Rules
}

// parseConfig is a whole configuration with these rooms.
func parseConfig(t *testing.T, rooms string) *config.Config {
	t.Helper()
	file := `server:
  public_url: "https://meet.example.com"
oidc:
  issuer: "https://login.example.com"
  client_id: roomgate
  client_secret: s
session:
  secret: ` + testSessionKey + `
digitalsamba:
  team_id: t
  url: "https://` + roomHost + `"
  developer_key: k
rooms:` + rooms
	cfg, err := config.Parse("config.yaml", []byte(file), config.Options{Reserved: ReservedPaths()})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// TestRacingRefreshes: requests that arrive together with the same
// refresh token (tabs, a reload) share one refresh, so a provider that
// accepts each refresh token once signs none of them out.
func TestRacingRefreshes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withProviderOptions(oidctest.WithRefreshTokens()))
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	e.roomToken(first(e.enter(b, "/standup")), "daily-standup")
	e.provider.SetUser(demoted())
	e.provider.SetDelay(100 * time.Millisecond) // so the requests overlap
	e.clock.Advance(11 * time.Minute)

	cookies := b.Cookies(t, e.url("/standup"))
	const n = 4
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, e.url("/standup"), nil)
			for _, c := range cookies {
				req.AddCookie(c)
			}
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				return
			}
			resp.Body.Close()
			if loc, err := resp.Location(); err == nil && loc.Host == roomHost {
				statuses[i] = resp.StatusCode
			}
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusFound {
			t.Errorf("request %d did not enter the room", i)
		}
	}
	if _, refreshes := grantCounts(e.provider); refreshes != 1 {
		t.Errorf("refreshes: got %d; want 1", refreshes)
	}
}

// TestRecheckKeepsLifetime: re-checks do not lengthen a sign-in; after
// session.lifetime the person signs in again, whatever re-checks happened.
func TestRecheckKeepsLifetime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		provider []oidctest.Option
	}{
		{"silent sign-in", nil},
		{"refresh", []oidctest.Option{oidctest.WithRefreshTokens()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withProviderOptions(tt.provider...))
			e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
			b := e.browser()
			e.roomToken(first(e.enter(b, "/standup")), "daily-standup")
			for range 3 {
				e.clock.Advance(2 * time.Hour)
				e.roomToken(first(e.enter(b, "/standup")), "daily-standup")
			}
			e.clock.Advance(2*time.Hour + time.Second) // 8h and a second after sign-in
			_, hops := e.enter(b, "/standup")
			if len(hops) != 4 {
				t.Fatalf("after the lifetime: hops %v; want a sign-in", hops)
			}
			if ar := e.provider.AuthorizeRequests(); ar[len(ar)-1].Prompt != "" {
				t.Errorf("after the lifetime: prompt %q; want a normal sign-in", ar[len(ar)-1].Prompt)
			}
		})
	}
}

// TestIndexRechecks: the room list decides too, so it re-checks too.
func TestIndexRechecks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withProviderOptions(oidctest.WithRefreshTokens()))
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	if page := body(t, first(e.enter(b, "/"))); !strings.Contains(page, "moderator") {
		t.Fatalf("room list lacks moderator:\n%s", page)
	}
	e.provider.SetUser(demoted())
	e.clock.Advance(11 * time.Minute)
	resp, hops := e.enter(b, "/")
	if page := body(t, resp); strings.Contains(page, "moderator") || !strings.Contains(page, "attendee") || len(hops) != 1 {
		t.Errorf("after a re-check (hops %v) the room list should show attendee only:\n%s", hops, page)
	}
}
