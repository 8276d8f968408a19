//go:build e2e

package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestChromiumBehindAPathPrefix: roomgate mounted under a path of an
// intranet host (public_url http://host/meet) signs a person in through
// Dex and into the room in Chromium; its pages link only below the path,
// and a request outside the path is not roomgate's.
func TestChromiumBehindAPathPrefix(t *testing.T) {
	if env.prefixPort == nil {
		t.Fatalf("the port of %s is gone", env.prefixURL)
	}
	listen := env.prefixPort.Addr().String()
	conf := filepath.Join(env.out, "roomgate-prefix.yaml")
	if err := os.WriteFile(conf, []byte(gatewayConfig(listen, env.prefixURL, env.issuer, env.roomURL, "10m")), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(env.out, "roomgate-prefix.log")
	env.prefixPort.Close()
	env.prefixPort = nil
	p, err := startProcess("roomgate (prefix)", logPath, env.gatewayEnv(), env.roomgate, "serve", "-config", conf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.stop)
	if err := p.waitHTTP(env.prefixURL+"/readyz", 30*time.Second); err != nil {
		t.Fatal(err)
	}

	ctx := newChromium(t)
	before := len(env.room.Entries())
	if status := chromiumSignIn(t, ctx, env.prefixURL+"/"+standupPath, moderator); status != http.StatusOK {
		t.Errorf("status of the room page: got %d; want %d", status, http.StatusOK)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if want := env.roomURL + "/" + standupRoom + "?token="; !strings.HasPrefix(loc, want) {
		t.Fatalf("location: got %.80q; want it to start with %q\nroomgate's log ends:\n%s", loc, want, tail(logPath))
	}
	checkEntry(t, env.room.Entries()[before:], moderator, standupRoom, "moderator")

	// The room list, under the path, links under the path.
	if err := chromedp.Do(ctx, chromedp.Navigate(env.prefixURL+"/")); err != nil {
		t.Fatal(err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != env.prefixURL+"/" {
		t.Errorf("room list: got %s; want %s, without a new sign-in", loc, env.prefixURL+"/")
	}
	links, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("a[href], form[action], link[href]")].map(e => e.getAttribute("href") || e.getAttribute("action"))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(links) == 0 {
		t.Fatalf("the room list has no links:\n%s", bodyText(t, ctx))
	}
	for _, l := range links {
		if !strings.HasPrefix(l, "/meet/") {
			t.Errorf("the room list links to %q, outside /meet/", l)
		}
	}
	screenshot(t, ctx, "prefix-rooms.png")

	outside := strings.TrimSuffix(env.prefixURL, "/meet") + "/" + standupPath
	resp, err := http.Get(outside)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("%s, outside the path: %d; want 404", outside, resp.StatusCode)
	}
}
