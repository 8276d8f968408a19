//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestChromiumGuest: the moderator signs in through Dex and invites a
// guest from the invite page; the guest, in a browser context of their
// own, opens the link, reads one page and enters the room stand-in with a
// guest token; a second guest browser is refused; the moderator revokes
// the invitation, and the first guest's browser is refused too.
func TestChromiumGuest(t *testing.T) {
	ctx := newChromium(t)
	chromiumSignIn(t, ctx, env.gatewayURL+"/"+standupPath+"/invite", moderator)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != env.gatewayURL+"/"+standupPath+"/invite" {
		t.Fatalf("after the sign-in: %s; want the invite page", loc)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("name"), "Jane Roe (ACME)")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("form.invite button[type=submit]"))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.ID("link")),
		// Visible only once copy.js ran: the page's CSP lets roomgate's own script run.
		chromedp.WaitVisible(chromedp.ID("copy")),
	); err != nil {
		t.Fatalf("create an invitation: %v\npage: %s", err, bodyText(t, ctx))
	}
	link, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("link")))
	if err != nil || !strings.HasPrefix(link, env.gatewayURL+"/guest/") {
		t.Fatalf("the link on the page: %q %v", link, err)
	}
	screenshot(t, ctx, "invite.png")
	fitsAPhone(t, ctx, "the invite page")

	// The guest: a browser context of their own, no session, no cookies.
	guest := func() context.Context {
		gctx, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		return gctx
	}
	jane := guest()
	before := len(env.room.Entries())
	if err := chromedp.Do(jane, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	if text := bodyText(t, jane); !strings.Contains(text, standupTitle) || !strings.Contains(text, moderator.name) {
		t.Errorf("the guest page: %q; want the room and who invited", text)
	}
	if n := len(env.room.Entries()); n != before {
		t.Errorf("opening the link entered the room")
	}
	screenshot(t, jane, "guest.png")
	fitsAPhone(t, jane, "the guest page")
	// With the keyboard alone: the name field has the focus after one
	// Tab, and Enter there submits the form.
	if err := chromedp.Do(jane, chromedp.KeyEvent("\t")); err != nil {
		t.Fatal(err)
	}
	if focused, _ := chromedp.Run(jane, chromedp.Evaluate[string]("document.activeElement.id")); focused != "name" {
		t.Errorf("after one Tab the focus is on %q; want the name field", focused)
	}
	if _, err := chromedp.RunResponse(jane, chromedp.KeyEvent("\r")); err != nil {
		t.Fatalf("enter as a guest with the Enter key: %v", err)
	}
	if heading, err := chromedp.Run(jane, chromedp.Text(chromedp.ID("entered"))); err != nil || heading != "You are in "+standupRoom+" as attendee" {
		t.Errorf("the room page: %q %v", heading, err)
	}
	entries := env.room.Entries()[before:]
	if len(entries) != 1 || !entries[0].Valid {
		t.Fatalf("entries at the room: %+v; want one valid", entries)
	}
	c := entries[0].Claims
	if c.Role != "attendee" || !strings.HasPrefix(c.UserID, "guest:") || c.Name != "Jane Roe (ACME) (guest)" || c.Room != standupRoom {
		t.Errorf("the guest's token: role %q, ud %q, u %q, rd %q", c.Role, c.UserID, c.Name, c.Room)
	}

	second := guest()
	if err := chromedp.Do(second, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.RunResponse(second, chromedp.Click(chromedp.CSS("form button[type=submit]"))); err != nil {
		t.Fatal(err)
	}
	if text := bodyText(t, second); !strings.Contains(text, "has already been used") {
		t.Errorf("a second browser on a one-browser invitation: %q", text)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(env.gatewayURL+"/"+standupPath+"/invite")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("form.inline button"))); err != nil {
		t.Fatal(err)
	}
	if text := bodyText(t, ctx); !strings.Contains(text, "revoked") {
		t.Errorf("the invite page after revoking: %q", text)
	}
	if err := chromedp.Do(jane, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	if text := bodyText(t, jane); !strings.Contains(text, "does not work") {
		t.Errorf("the guest's browser after the revocation: %q", text)
	}
}

// fitsAPhone checks that the page in ctx needs no sideways scrolling at
// 375 px, a phone's width, and puts the viewport back.
func fitsAPhone(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(375, 800)); err != nil {
		t.Fatal(err)
	}
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.documentElement.scrollWidth"))
	if err != nil {
		t.Fatal(err)
	}
	if wide > 375 {
		t.Errorf("%s is %d px wide at a phone's 375 px", what, wide)
	}
	if err := chromedp.Do(ctx, chromedp.ResetViewport()); err != nil {
		t.Fatal(err)
	}
}
