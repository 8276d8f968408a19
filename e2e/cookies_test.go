//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestChromiumSignInFloodKeepsTheSession: another site sends a signed-in
// person's browser through roomgate's sign-in page two hundred times, as
// a page of links or redirects can. In Chromium, with its own cookie rules
// and caps: the pending sign-ins stay at three, the cookies roomgate set
// stay under 4 KB, and the person still enters the room without signing in
// again.
func TestChromiumSignInFloodKeepsTheSession(t *testing.T) {
	ctx := newChromium(t)
	ctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	chromiumSignIn(t, ctx, env.gatewayURL+"/"+standupPath, moderator)

	for i := range 200 {
		if err := chromedp.Do(ctx, chromedp.Navigate(env.gatewayURL+"/auth/login?next=/"+standupPath)); err != nil {
			t.Fatalf("sign-in %d: %v", i, err)
		}
	}
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{env.gatewayURL + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	pending, size, session := 0, 0, false
	for _, c := range res.Cookies {
		if !strings.Contains(c.Name, "roomgate") {
			continue
		}
		size += len(c.Name) + 1 + len(c.Value) + 2
		switch {
		case strings.Contains(c.Name, "roomgate_login_"):
			pending++
		case strings.Contains(c.Name, "roomgate_session"):
			session = true
		}
	}
	if pending > 3 || size >= 4096 || !session {
		t.Errorf("after 200 sign-ins started: %d pending, %d bytes of roomgate cookies, session kept %v; want at most 3, under 4 KB, kept", pending, size, session)
	}

	before := len(env.room.Entries())
	if err := chromedp.Do(ctx, chromedp.Navigate(env.gatewayURL+"/"+standupPath)); err != nil {
		t.Fatal(err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc, env.roomURL+"/"+standupRoom+"?token=") {
		t.Errorf("after the flood the stand-up's link led to %.80s; want the room, without a sign-in", loc)
	}
	checkEntry(t, env.room.Entries()[before:], moderator, standupRoom, "moderator")
}
