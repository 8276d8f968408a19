//go:build e2e

package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// newChromium starts a headless Chromium with a fresh profile for t, and
// stops it when t ends. Its output goes to e2e/out/chromium-<test>.log.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	logf, err := os.Create(filepath.Join(env.out, "chromium-"+t.Name()+".log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(env.chromium),
		chromedp.UserDataDir(t.TempDir()),
		// As root Chromium refuses to start without this.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		// Only 127.0.0.1 may be reached: every other name resolves to nothing.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.WindowSize(1000, 720),
		chromedp.CombinedOutput(logf),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// Start the browser with a context that has no deadline, so that the
	// deadline below ends the actions, not the browser.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// chromiumSignIn opens url, which must lead to Dex's login form, and types
// who's email and password into it like a person would. It returns the
// response of the page the form led to.
func chromiumSignIn(t *testing.T, ctx context.Context, url string, who person) int64 {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc, env.issuer+"/") {
		t.Fatalf("after opening %s: got %s; want Dex's login page under %s", url, loc, env.issuer)
	}
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.SendKeys(chromedp.ID("login"), who.email),
		chromedp.SendKeys(chromedp.ID("password"), password),
	); err != nil {
		t.Fatalf("type into Dex's login form: %v", err)
	}
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("submit-login")))
	if err != nil {
		t.Fatalf("submit Dex's login form: %v", err)
	}
	return res.Status
}

// screenshot saves the whole page as e2e/out/name.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(env.out, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// bodyText is what the page shows, as text.
func bodyText(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatalf("read the page: %v", err)
	}
	return s
}

// TestChromiumModeratorSignsIn: the moderator opens the stand-up's URL in a
// browser, types into Dex's form, lands in the room as moderator, and then
// sees both rooms on roomgate's home page.
func TestChromiumModeratorSignsIn(t *testing.T) {
	ctx := newChromium(t)
	before := len(env.room.Entries())

	status := chromiumSignIn(t, ctx, env.gatewayURL+"/"+standupPath, moderator)
	if status != http.StatusOK {
		t.Errorf("status of the room page: got %d; want %d", status, http.StatusOK)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if want := env.roomURL + "/" + standupRoom + "?token="; !strings.HasPrefix(loc, want) {
		t.Errorf("location: got %.80q; want it to start with %q", loc, want)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("entered")))
	if err != nil {
		t.Fatalf("the room's heading: %v\npage: %s", err, bodyText(t, ctx))
	}
	if want := "You are in " + standupRoom + " as moderator"; heading != want {
		t.Errorf("room page: got %q; want %q", heading, want)
	}
	checkEntry(t, env.room.Entries()[before:], moderator, standupRoom, "moderator")

	if err := chromedp.Do(ctx, chromedp.Navigate(env.gatewayURL+"/")); err != nil {
		t.Fatal(err)
	}
	loc, err = chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if loc != env.gatewayURL+"/" {
		t.Errorf("home page: got %s; want %s, without a new sign-in", loc, env.gatewayURL+"/")
	}
	text := bodyText(t, ctx)
	for _, want := range []string{standupTitle, allHandsTitle, "moderator", "attendee"} {
		if !strings.Contains(text, want) {
			t.Errorf("home page: got %q; want it to show %q", text, want)
		}
	}
	screenshot(t, ctx, "rooms.png")
}

// TestChromiumForbiddenPage: someone no rule of the stand-up admits signs
// in through Dex in a browser and gets roomgate's 403 page, not a room.
func TestChromiumForbiddenPage(t *testing.T) {
	ctx := newChromium(t)
	before := len(env.room.Entries())

	status := chromiumSignIn(t, ctx, env.gatewayURL+"/"+standupPath, outsider)
	if status != http.StatusForbidden {
		t.Errorf("status: got %d; want %d", status, http.StatusForbidden)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc, env.gatewayURL+"/") {
		t.Errorf("location: got %s; want a page of roomgate", loc)
	}
	text := bodyText(t, ctx)
	if strings.TrimSpace(text) == "" {
		t.Errorf("the 403 page is blank")
	}
	for _, leak := range []string{"goroutine", "panic", ".go:", "error:"} {
		if strings.Contains(text, leak) {
			t.Errorf("the 403 page shows %q: %q", leak, text)
		}
	}
	if n := len(env.room.Entries()) - before; n != 0 {
		t.Errorf("entries at the room: got %d; want 0", n)
	}
	screenshot(t, ctx, "forbidden.png")
}
