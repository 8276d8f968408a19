//go:build e2e

package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/roomgate/roomgate/internal/oidctest"
)

// TestSeveralProviders: one roomgate with two real providers, the suite's
// Dex (acme, the primary, vouching for example.com) and Ory Hydra
// (partner, vouching for partner.example), whose person Ada has the same
// group names as Dex's people (eng-leads, engineering) and an address at
// example.com.
//
//   - Chromium, signed out, gets the chooser with both titles, at a
//     phone's width; an address at partner.example typed into it goes to
//     Hydra, with the address as login_hint;
//   - Hydra's Ada is not admitted by the rules' eng-leads or engineering,
//     which are Dex's groups, nor by her example.com address; a room that
//     names partner:eng-leads lets her moderate, with ud partner:ada;
//   - a Dex person, through the chooser, enters as before;
//   - Hydra's back-channel logout ends Ada's session and not the Dex
//     person's;
//   - Hydra stopped, Ada (signed in again) gets the 502 page at her
//     re-check, while the Dex person keeps entering and /readyz stays
//     ready.
func TestSeveralProviders(t *testing.T) {
	gwURL := env.refreshURL // a roomgate URL whose /auth/callback Dex knows
	hydraURL, app, hydra, hydraLog := startHydra(t, gwURL, "/auth/callback/partner")
	g := startSecondGateway(t, "two providers", func(listen string) string {
		return providersConfig(listen, gwURL, hydraURL)
	})
	roomHost := strings.TrimPrefix(env.roomURL, "http://")

	// The chooser, in Chromium, and the email box's routing.
	ctx := newChromium(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(gwURL+"/"+standupPath)); err != nil {
		t.Fatal(err)
	}
	text := bodyText(t, ctx)
	for _, want := range []string{"Sign in with", "ACME staff", "Partner GmbH"} {
		if !strings.Contains(text, want) {
			t.Fatalf("signed out at /%s: the page lacks %q:\n%s", standupPath, want, text)
		}
	}
	fitsAPhone(t, ctx, "the chooser")
	screenshot(t, ctx, "providers-chooser.png")
	// By keyboard: the address, then Enter.
	if _, err := chromedp.RunResponse(ctx, chromedp.SendKeys(chromedp.ID("email"), "ada@partner.example"+kb.Enter)); err != nil {
		t.Fatalf("continue with an address at partner.example: %v\n%s", err, bodyText(t, ctx))
	}
	// Hydra's app signs Ada in at once; roomgate then decides.
	if loc := location(t, ctx); loc != gwURL+"/"+standupPath {
		t.Fatalf("after the email box: at %s; want back at /%s\nroomgate log:\n%s", withoutQuery(loc), standupPath, tail(g.log))
	}
	if hint := app.loginHint(); hint != "ada@partner.example" {
		t.Errorf("Hydra's login request had login_hint %q; want the address typed", hint)
	}
	if text := bodyText(t, ctx); !strings.Contains(text, "You can't enter") {
		t.Errorf("Hydra's Ada (eng-leads and engineering of the partner, ada@example.com) at /%s: %q; want the 403 page", standupPath, text)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(gwURL+"/partners")); err != nil {
		t.Fatal(err)
	}
	loc := location(t, ctx)
	if !strings.HasPrefix(loc, env.roomURL+"/partners-room?token=") {
		t.Fatalf("Hydra's Ada at /partners: at %s; want the room\n%s", withoutQuery(loc), bodyText(t, ctx))
	}
	entry := lastEntry(t, "partners-room")
	if entry.Role != "moderator" || entry.UserID != "partner:ada" {
		t.Errorf("Hydra's Ada entered as %q with ud %q; want moderator, partner:ada", entry.Role, entry.UserID)
	}
	if !strings.Contains(readFile(g.log), `"provider":"partner"`) {
		t.Error("the audit lines do not name the partner")
	}

	// A Dex person, through the chooser.
	dex := newBrowser(t)
	p := dex.visit(gwURL + "/auth/login?next=/" + standupPath + "&provider=acme")
	p = dex.signIn(p, moderator)
	if p.url.Host != roomHost {
		t.Fatalf("Dex's %s through the chooser ended %d at %s\n%s", moderator.email, p.status, p.url, dex.trail())
	}
	dexEnters := func() bool {
		b := oidctest.NewBrowser(t)
		b.Client.Jar = dex.c.Jar
		b.StopAt = oidctest.StopAtHost(roomHost)
		resp, _ := b.Follow(t, gwURL+"/"+standupPath)
		loc, _ := resp.Location()
		return resp.StatusCode == http.StatusFound && loc != nil && loc.Host == roomHost
	}
	if !dexEnters() {
		t.Fatal("the Dex person does not enter again")
	}

	// Hydra's back-channel logout ends Ada's session only.
	if status, body := app.call(http.MethodDelete, "/admin/oauth2/auth/sessions/login?sid="+url.QueryEscape(app.sessionID()), nil); status != http.StatusNoContent {
		t.Fatalf("hydra: ending the login session: %d %s", status, body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(readFile(g.log), `"by":"back-channel logout"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no back-channel logout reached roomgate\nroomgate log:\n%s\nhydra log:\n%s", tail(g.log), tail(hydraLog))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !dexEnters() {
		t.Error("Hydra's back-channel logout ended the Dex person's session")
	}
	// Ada's cookies now go to sign in at Hydra (the room names the partner
	// alone, so no chooser), where the app signs her in again.
	before := app.logins()
	if _, err := chromedp.RunResponse(ctx, chromedp.Navigate(gwURL+"/partners")); err != nil {
		t.Fatal(err)
	}
	if app.logins() == before {
		t.Error("after the logout, Ada's next entry did not sign in at Hydra again")
	}
	if loc := location(t, ctx); !strings.HasPrefix(loc, env.roomURL+"/partners-room?token=") {
		t.Fatalf("Ada signing in again: at %s\n%s", withoutQuery(loc), bodyText(t, ctx))
	}

	// Hydra stops: at her re-check (session.recheck 2s, with her refresh
	// token) Ada gets the 502 page; the Dex person enters, /readyz is ready.
	hydra.stop()
	time.Sleep(2500 * time.Millisecond)
	res, err := chromedp.RunResponse(ctx, chromedp.Navigate(gwURL+"/partners"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusBadGateway || !strings.HasPrefix(location(t, ctx), gwURL) {
		t.Errorf("Ada with Hydra stopped: %d at %s; want roomgate's 502 page\n%s", res.Status, withoutQuery(location(t, ctx)), bodyText(t, ctx))
	}
	if !dexEnters() {
		t.Error("with Hydra stopped, the Dex person does not enter")
	}
	resp, err := http.Get(gwURL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz with Hydra stopped: %d; want 200 (it needs the primary)", resp.StatusCode)
	}
}

// lastEntry is the room stand-in's last entry into room.
func lastEntry(t *testing.T, room string) entryOf {
	t.Helper()
	entries := env.room.Entries()
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].Room == room && entries[i].Valid {
			return entryOf{Role: entries[i].Claims.Role, UserID: entries[i].Claims.UserID}
		}
	}
	t.Fatalf("no entry into %s", room)
	return entryOf{}
}

type entryOf struct{ Role, UserID string }

// providersConfig is the suite's configuration with two providers, Dex
// and Hydra, and rooms that name the partner's people.
func providersConfig(listen, publicURL, hydraURL string) string {
	oidc := fmt.Sprintf(`oidc:
  issuer: %q
  client_id: roomgate
  client_secret: "${OIDC_CLIENT_SECRET}"
  scopes: [openid, profile, email, groups, offline_access]
  claims:
    groups: groups
    name: name
    user_id: sub
    avatar: picture
`, env.issuer)
	base := gatewayConfig(listen, publicURL, env.issuer, env.roomURL, "2s")
	if !strings.Contains(base, oidc) {
		panic("gatewayConfig's oidc: section changed")
	}
	return strings.Replace(base, oidc, fmt.Sprintf(`providers:
  - id: acme
    title: "ACME staff"
    issuer: %q
    client_id: roomgate
    client_secret: "${OIDC_CLIENT_SECRET}"
    scopes: [openid, profile, email, groups, offline_access]
    email_domains: [example.com, contractor.example]
  - id: partner
    title: "Partner GmbH"
    issuer: %q
    client_id: roomgate
    client_secret: "${OIDC_CLIENT_SECRET}"
    scopes: [openid, profile, email, groups, offline_access]
    email_domains: [partner.example]
`, env.issuer, hydraURL), 1) + `  - path: partners
    room: partners-room
    title: "Partners"
    providers: [partner]
    rules:
      - groups: ["partner:eng-leads"]
        role: moderator
`
}
