package gateway

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/internal/oidctest"
)

// providerRooms name the partner's people only where the rules say so;
// both directories have a group eng-leads.
const providerRooms = `
  - path: standup
    room: daily-standup
    rules:
      - groups: [eng-leads]
        role: moderator
      - emails: ["*@acme.com"]
        role: speaker
      - groups: ["partner:eng-leads"]
        role: attendee
  - path: partners
    room: partners-room
    providers: [partner]
    rules:
      - everyone: [partner]
        role: attendee
  - path: all-hands
    room: all-hands-room
    rules:
      - everyone: true
        role: attendee
`

func newProvidersEnv(t *testing.T, opts ...envOption) *env {
	return newEnv(t, append([]envOption{withPartner(), withRooms(providerRooms)}, opts...)...)
}

// getPage answers a GET of path in b, following no redirect.
func getPage(t *testing.T, b *oidctest.Browser, u, lang string) *http.Response {
	t.Helper()
	req := mustGet(t, u)
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	return b.Do(t, req)
}

// TestProvidersChooser: signed out, with two providers, a room shows the
// chooser (in the person's language) with both titles and an email box;
// a choice or an address leads to that provider, the address passed on as
// login_hint; an address no provider owns shows the chooser again; a room
// naming one provider goes straight there; the provider used last comes
// first.
func TestProvidersChooser(t *testing.T) {
	t.Parallel()
	e := newProvidersEnv(t)
	b := e.browser()

	resp := getPage(t, b, e.url("/standup"), "en")
	page := body(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "ACME staff") || !strings.Contains(page, "Partner GmbH") || !strings.Contains(page, `name="email"`) {
		t.Fatalf("signed out at /standup: %d\n%.2000s\nwant the chooser", resp.StatusCode, page)
	}
	if de := body(t, getPage(t, b, e.url("/standup"), "de")); !strings.Contains(de, "Anmelden mit") || !strings.Contains(de, `lang="de"`) {
		t.Errorf("the chooser in German:\n%.1500s", de)
	}

	authorizeAt := func(resp *http.Response) *url.URL {
		t.Helper()
		loc, _ := resp.Location()
		if resp.StatusCode != http.StatusFound || loc == nil {
			t.Fatalf("status %d, Location %v; want a redirect to a provider (body %.500s)", resp.StatusCode, loc, body(t, resp))
		}
		return loc
	}
	loc := authorizeAt(getPage(t, b, e.url("/auth/login?next=/standup&provider=partner"), ""))
	if !strings.HasPrefix(loc.String(), e.partner.Issuer()) || loc.Query().Get("redirect_uri") != e.url("/auth/callback/partner") {
		t.Errorf("choosing the partner went to %s; want its authorize endpoint with /auth/callback/partner", loc)
	}
	loc = authorizeAt(getPage(t, b, e.url("/auth/login?next=/standup&email=mona@Partner.example"), ""))
	if !strings.HasPrefix(loc.String(), e.partner.Issuer()) || loc.Query().Get("login_hint") != "mona@Partner.example" {
		t.Errorf("an address at partner.example went to %s; want the partner with login_hint", loc)
	}
	loc = authorizeAt(getPage(t, b, e.url("/auth/login?next=/standup&email=ada@acme.com"), ""))
	if !strings.HasPrefix(loc.String(), e.provider.Issuer()) || loc.Query().Get("redirect_uri") != e.url("/auth/callback") {
		t.Errorf("an address at acme.com went to %s; want the primary at /auth/callback", loc)
	}
	resp = getPage(t, b, e.url("/auth/login?next=/standup&email=eve@elsewhere.example"), "en")
	if page := body(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(page, "knows that email") || !strings.Contains(page, "ACME staff") {
		t.Errorf("an address no provider owns: %d\n%.1500s\nwant the chooser saying so", resp.StatusCode, page)
	}
	loc = authorizeAt(getPage(t, b, e.url("/partners"), ""))
	if !strings.HasPrefix(loc.String(), e.partner.Issuer()) {
		t.Errorf("signed out at a room with providers: [partner]: went to %s; want the partner straight", loc)
	}

	// Signed in once with the partner, this browser sees it first.
	e.partner.SetUser(user("mona", "mona@partner.example", "eng-leads"))
	e.roomToken(first(e.enter(b, "/partners")), "partners-room")
	b2 := e.browser()
	for _, c := range b.Cookies(t, e.url("/")) {
		if c.Name == lastProviderCookie {
			u, _ := url.Parse(e.url("/"))
			b2.Client.Jar.SetCookies(u, []*http.Cookie{c})
		}
	}
	page = body(t, getPage(t, b2, e.url("/standup"), "en"))
	if i, j := strings.Index(page, "Partner GmbH"), strings.Index(page, "ACME staff"); i < 0 || j < 0 || i > j || !strings.Contains(page, "last used") {
		t.Errorf("after a sign-in with the partner, the chooser does not put it first:\n%.1500s", page)
	}
}

// TestOneProviderNeverShowsTheChooser: with oidc: alone, a signed-out
// person goes straight to the provider, as before there were several.
func TestOneProviderNeverShowsTheChooser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp := getPage(t, e.browser(), e.url("/standup"), "")
	if loc, _ := resp.Location(); resp.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), e.provider.Issuer()) {
		t.Errorf("one provider: %d to %v; want straight to the provider", resp.StatusCode, loc)
	}
	if page := body(t, getPage(t, e.browser(), e.url("/auth/choose?next=/standup"), "")); strings.Contains(page, "Sign in with") {
		t.Error("one provider showed the chooser")
	}
}

// TestProvidersKeepPeopleApart: the partner's person has the primary's
// group name and an address at the primary's domain, and the same sub as
// a primary person: the primary's rules do not admit them, their email
// does not count, everyone: true is not them, and their ud is partner:sub.
func TestProvidersKeepPeopleApart(t *testing.T) {
	t.Parallel()
	e := newProvidersEnv(t)
	e.provider.SetUser(user("ada", "ada@acme.com", "eng-leads"))
	e.partner.SetUser(user("ada", "ada@acme.com", "eng-leads"))

	staff := e.browser()
	e.enter(staff, "/auth/login?next=/&provider=acme")
	tok := e.roomToken(first(e.enter(staff, "/standup")), "daily-standup")
	if tok.Role != "moderator" || tok.UserID != "ada" {
		t.Errorf("the primary's ada: role %q, ud %q; want moderator, ada", tok.Role, tok.UserID)
	}

	partner := e.browser()
	e.enter(partner, "/auth/login?next=/&provider=partner")
	tok = e.roomToken(first(e.enter(partner, "/standup")), "daily-standup")
	if tok.Role != "attendee" || tok.UserID != "partner:ada" {
		t.Errorf("the partner's ada: role %q, ud %q; want attendee (partner:eng-leads, not eng-leads nor her acme.com address), partner:ada", tok.Role, tok.UserID)
	}
	e.wantRoleOrPage(first(e.enter(partner, "/all-hands")), "all-hands-room", "", http.StatusForbidden, "")
	e.roomToken(first(e.enter(partner, "/partners")), "partners-room")
	e.wantRoleOrPage(first(e.enter(staff, "/partners")), "partners-room", "", http.StatusForbidden, "")
	if !strings.Contains(e.logs.String(), `"provider":"partner"`) {
		t.Error("the audit lines do not name the partner")
	}
}

// TestCallbackOfAnotherProvider: a sign-in begun with the partner whose
// answer is delivered to the primary's redirect URI (a mix-up) is refused,
// and so is one whose iss names the other provider.
func TestCallbackOfAnotherProvider(t *testing.T) {
	t.Parallel()
	e := newProvidersEnv(t)
	e.partner.SetUser(user("mona", "mona@partner.example", "eng-leads"))
	b := e.browser()
	b.StopAt = func(u *url.URL) bool { return strings.HasPrefix(u.Path, "/auth/callback") }
	resp, _ := e.enter(b, "/auth/login?next=/partners&provider=partner")
	cb, _ := resp.Location()
	if cb == nil || cb.Path != "/auth/callback/partner" {
		t.Fatalf("the partner answered at %s; want /auth/callback/partner", cb)
	}
	mixed := *cb
	mixed.Path = "/auth/callback"
	b.StopAt = oidctest.StopAtHost(roomHost)
	resp, _ = b.Follow(t, mixed.String())
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("the partner's answer at the primary's callback: %d; want 400", resp.StatusCode)
	}

	b = e.browser()
	b.StopAt = func(u *url.URL) bool { return strings.HasPrefix(u.Path, "/auth/callback") }
	resp, _ = e.enter(b, "/auth/login?next=/partners&provider=partner")
	cb, _ = resp.Location()
	q := cb.Query()
	q.Set("iss", e.provider.Issuer())
	cb.RawQuery = q.Encode()
	b.StopAt = oidctest.StopAtHost(roomHost)
	if resp, _ := b.Follow(t, cb.String()); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an answer naming the primary's issuer at the partner's callback: %d; want 400", resp.StatusCode)
	}
	if resp := getPage(t, b, e.url("/auth/callback/nobody?code=x&state=y"), ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/auth/callback/nobody: %d; want 404", resp.StatusCode)
	}
}

// TestLogoutTokenEndsOnlyItsProvidersSessions: two people with the same
// sub and sid at two providers; the partner's logout token ends the
// partner's person's session only, and the primary's the primary's.
func TestLogoutTokenEndsOnlyItsProvidersSessions(t *testing.T) {
	t.Parallel()
	e := newProvidersEnv(t)
	e.provider.SetUser(sidUser("ada", "sid-1"))
	e.partner.SetUser(sidUser("ada", "sid-1"))
	staff, partner := e.browser(), e.browser()
	e.enter(staff, "/auth/login?next=/&provider=acme")
	e.enter(partner, "/auth/login?next=/&provider=partner")
	enters := func(b *oidctest.Browser, path string) bool {
		resp := getPage(t, b, e.url(path), "")
		loc, _ := resp.Location()
		return resp.StatusCode == http.StatusFound && loc != nil && loc.Host == roomHost
	}
	if !enters(staff, "/standup") || !enters(partner, "/partners") {
		t.Fatal("not signed in")
	}
	// A token of a provider roomgate does not know, and one that names the
	// partner but is signed with another provider's key, end nothing.
	stranger := oidctest.New(t)
	foreign, _ := stranger.LogoutToken("ada", "sid-1")
	forged, _ := stranger.LogoutToken("ada", "sid-1", func(tok *oidctest.IDToken) {
		tok.Claims["iss"], tok.Claims["aud"] = e.partner.Issuer(), e.partner.ClientID()
	})
	for _, bad := range []string{foreign, forged} {
		if resp := oidctest.SendLogout(t, e.url("/auth/backchannel-logout"), bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("a logout token no provider of roomgate's signed: %d; want 400", resp.StatusCode)
		}
	}
	if !enters(staff, "/standup") || !enters(partner, "/partners") {
		t.Fatal("a logout token no provider signed ended a session")
	}
	tok, err := e.partner.LogoutToken("ada", "sid-1")
	if err != nil {
		t.Fatal(err)
	}
	if resp := oidctest.SendLogout(t, e.url("/auth/backchannel-logout"), tok); resp.StatusCode != http.StatusOK {
		t.Fatalf("the partner's logout token: %d", resp.StatusCode)
	}
	if enters(partner, "/partners") {
		t.Error("the partner's person still enters after the partner's logout token")
	}
	if !enters(staff, "/standup") {
		t.Error("the partner's logout token for sub ada, sid sid-1 ended the primary's ada")
	}
	tok, _ = e.provider.LogoutToken("ada", "sid-1")
	oidctest.SendLogout(t, e.url("/auth/backchannel-logout"), tok)
	if enters(staff, "/standup") {
		t.Error("the primary's logout token did not end the primary's ada")
	}
}

// TestProviderDownHurtsOnlyItsPeople: the partner down, its people get the
// 502 page, at sign-in and at their re-check, while the primary's enter
// and /readyz stays ready; with the primary down from the start, /readyz
// is not.
func TestProviderDownHurtsOnlyItsPeople(t *testing.T) {
	t.Parallel()
	e := newProvidersEnv(t, withProviderOptions(oidctest.WithRefreshTokens()))
	e.provider.SetUser(user("ada", "ada@acme.com", "eng-leads"))
	e.partner.SetUser(user("mona", "mona@partner.example", "eng-leads"))
	staff, partner := e.browser(), e.browser()
	e.enter(staff, "/auth/login?next=/&provider=acme")
	e.enter(partner, "/auth/login?next=/&provider=partner")

	e.partner.SetDown(true)
	e.clock.Advance(11 * time.Minute) // both re-check their groups, with their refresh tokens
	resp, _ := e.enter(partner, "/partners")
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("the partner's person with the partner down: %d; want 502", resp.StatusCode)
	}
	e.roomToken(first(e.enter(staff, "/standup")), "daily-standup")
	if resp, _ := e.enter(e.browser(), "/partners"); resp.StatusCode != http.StatusBadGateway {
		t.Errorf("signing in with the partner down: %d; want 502", resp.StatusCode)
	}
	if resp := getPage(t, staff, e.url("/readyz"), ""); resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz with the partner down: %d; want 200", resp.StatusCode)
	}
	e.partner.SetDown(false)
	e.clock.Advance(6 * time.Second) // past retryAfter
	e.roomToken(first(e.enter(partner, "/partners")), "partners-room")

	down := newProvidersEnv(t)
	down.provider.SetDown(true)
	down.browser().Follow(t, down.url("/auth/login?next=/&provider=acme")) // discovery fails
	if resp := getPage(t, down.browser(), down.url("/readyz"), ""); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the primary never discovered: %d; want 503", resp.StatusCode)
	}
}

// TestMovingOIDCIntoProvidersKeepsSessions: a file whose oidc: moves into
// providers: as the first entry, beside a new provider, keeps every
// session: the cookies of the gateway before enter the gateway after,
// with the same ud and without a sign-in, and the callback URL stays.
func TestMovingOIDCIntoProvidersKeepsSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	before := e.roomToken(first(e.enter(b, "/standup")), "daily-standup")

	oidc := fmt.Sprintf("oidc:\n  issuer: %q\n  client_id: %q\n  client_secret: %q\n  scopes: [openid, profile, email, groups]\n", e.provider.Issuer(), e.provider.ClientID(), e.provider.ClientSecret())
	file := configText(e.srv.Listener.Addr().String(), e.provider, testRooms)
	if !strings.Contains(file, oidc) {
		t.Fatal("configText's oidc: changed")
	}
	moved := strings.Replace(file, oidc, fmt.Sprintf(`providers:
  - id: acme
    issuer: %q
    client_id: %q
    client_secret: %q
    email_domains: [example.com, contractor.example]
  - id: partner
    issuer: "https://login.partner.example"
    client_id: roomgate
    client_secret: x
    email_domains: [partner.example]
`, e.provider.Issuer(), e.provider.ClientID(), e.provider.ClientSecret()), 1)
	cfg, err := config.Parse("config.yaml", []byte(moved), config.Options{Reserved: ReservedPaths()})
	if err != nil {
		t.Fatal(err)
	}
	after, err := New(cfg, Deps{HTTPClient: e.provider.Client(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	req := mustGet(t, e.url("/standup"))
	for _, c := range b.Cookies(t, e.url("/standup")) {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	after.ServeHTTP(rec, req)
	tok := e.roomToken(rec.Result(), "daily-standup")
	if tok.UserID != before.UserID || tok.Role != before.Role {
		t.Errorf("after the move: ud %q, role %q; before: %q, %q", tok.UserID, tok.Role, before.UserID, before.Role)
	}
	if got := after.primary().callback; got != e.url("/auth/callback") {
		t.Errorf("the primary's redirect URI after the move: %s; want %s", got, e.url("/auth/callback"))
	}
}

// TestProvidersConsoleAndLogout: the partner's person in a group named
// like the helpdesk's, with the address admin: names, does not open the
// console; the helpdesk finds the partner's decision, which says who
// signed the person in; the partner's person's logout goes to the
// partner's end-session endpoint, not the primary's.
func TestProvidersConsoleAndLogout(t *testing.T) {
	t.Parallel()
	e := newProvidersEnv(t, func(c *envConfig) {
		c.extra = "admin:\n  groups: [it-helpdesk]\n  emails: [boss@acme.com]\n  reauth: 15m\n"
	})
	e.partner.SetUser(user("mona", "boss@acme.com", "eng-leads", "it-helpdesk"))
	mona := e.browser()
	e.enter(mona, "/auth/login?next=/&provider=partner")
	resp, _ := e.enter(mona, "/admin")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the partner's person in it-helpdesk, as boss@acme.com, at /admin: %d; want the 404 of a path that is not there", resp.StatusCode)
	}
	resp, _ = e.enter(mona, "/standup")
	rid := resp.Header.Get("X-Request-Id")
	e.roomToken(resp, "daily-standup")

	e.provider.SetUser(user("hal", "hal@acme.com", "it-helpdesk"))
	hal := e.browser()
	e.enter(hal, "/auth/login?next=/&provider=acme")
	page := e.waitDecision(hal, rid, "partner:mona")
	if !strings.Contains(page, "signed in with partner") || !strings.Contains(page, "partner:eng-leads") {
		t.Errorf("the partner's decision in the console does not name the partner:\n%.3000s", page)
	}

	e.post(mona, "/auth/logout", nil)
	if n, m := len(e.partner.LogoutRequests()), len(e.provider.LogoutRequests()); n != 1 || m != 0 {
		t.Errorf("the partner's person's logout: %d end-session requests at the partner, %d at the primary; want 1, 0", n, m)
	}
}
