//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// startDemo runs the roomgate binary TestMain built as `roomgate demo` on a
// free loopback port and waits until it is ready. The process is stopped
// when t ends, and a data race it reports fails t.
func startDemo(t *testing.T) (base string) {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	base = "http://" + hostPort(port)
	logPath := filepath.Join(env.out, "demo.log")
	p, err := startProcess("roomgate demo", logPath, nil,
		filepath.Join(env.out, "bin", "roomgate"), "demo", "-listen", hostPort(port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.stop()
		select {
		case <-p.done:
		default:
			t.Errorf("roomgate demo (pid %d) still runs after stop", p.cmd.Process.Pid)
		}
		if log, err := os.ReadFile(logPath); err == nil && strings.Contains(string(log), "WARNING: DATA RACE") {
			t.Errorf("roomgate demo reported a data race; see %s", logPath)
		}
	})
	if err := p.waitHTTP(base+"/readyz", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return base
}

// location is the browser's current URL.
func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// withoutQuery is loc for a failure message: its query may hold a token.
func withoutQuery(loc string) string {
	before, _, _ := strings.Cut(loc, "?")
	return before
}

// demoPick opens url, which must lead to the demo's sign-in page, and
// clicks subject's button there. It returns the status of the page that
// led to.
func demoPick(t *testing.T, ctx context.Context, base, url, subject string) int64 {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	// The demo has two providers: the chooser comes first.
	acme := chromedp.CSS(`a[href*="provider=acme"]`)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(acme)); err != nil {
		t.Fatalf("after opening %s: no choice of ACME staff: %v\npage: %s", url, err, bodyText(t, ctx))
	}
	if subject == "ada" {
		screenshot(t, ctx, "demo-chooser.png")
	}
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(acme)); err != nil {
		t.Fatalf("choose ACME staff: %v", err)
	}
	if loc := location(t, ctx); !strings.HasPrefix(loc, base+"/demo/idp/login?") {
		t.Fatalf("after opening %s: got %s; want the demo's sign-in page", url, withoutQuery(loc))
	}
	button := chromedp.ID("person-" + subject)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(button)); err != nil {
		t.Fatalf("sign-in page: no button for %s: %v\npage: %s", subject, err, bodyText(t, ctx))
	}
	if subject == "ada" {
		screenshot(t, ctx, "demo-signin.png")
	}
	res, err := chromedp.RunResponse(ctx, chromedp.Click(button))
	if err != nil {
		t.Fatalf("pick %s: %v", subject, err)
	}
	return res.Status
}

// closedNoticeOnItsOwnLine checks, at desktop and at phone width, that the
// room list puts a closed room's notice on a line of its own under the
// room and its role, never running into the role. The demo's retro is
// closed but from Friday 15:45 to 17:00, Berlin time (Ada's early), when
// the list has no notice to look at.
func closedNoticeOnItsOwnLine(t *testing.T, ctx context.Context) {
	t.Helper()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(berlin)
	minute := now.Hour()*60 + now.Minute()
	if now.Weekday() == time.Friday && minute >= 15*60+45 && minute < 17*60 {
		t.Log("the retro is open now: no closed notice to look at")
		return
	}
	const below = `(() => {
		const li = [...document.querySelectorAll(".rooms li")].find(li => li.querySelector(".opens"));
		if (!li) return "no closed notice";
		const role = li.querySelector(".role").getBoundingClientRect();
		const opens = li.querySelector(".opens").getBoundingClientRect();
		return opens.top >= role.bottom - 1 ? "below" : "beside: role " + role.bottom + ", notice " + opens.top;
	})()`
	for _, width := range []int64{1000, 375} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 800)); err != nil {
			t.Fatal(err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](below))
		if err != nil {
			t.Fatal(err)
		}
		if got != "below" {
			t.Errorf("room list at %d px: the closed notice is %s; want it on a line of its own below the role", width, got)
		}
		screenshot(t, ctx, fmt.Sprintf("demo-rooms-%d.png", width))
	}
	if err := chromedp.Do(ctx, chromedp.ResetViewport()); err != nil {
		t.Fatal(err)
	}
}

// TestDemoInChromium: `roomgate demo` as a newcomer sees it. Ada opens the
// stand-up, picks herself on the sample sign-in page and lands in the room
// stand-in as moderator, with the rule that decided; she signs out on the
// start page; Dan, kept out by an e-mail rule, gets the 403 page.
func TestDemoInChromium(t *testing.T) {
	base := startDemo(t)
	ctx := newChromium(t)

	// Ada: the sign-in page, then the room.
	if status := demoPick(t, ctx, base, base+"/standup", "ada"); status != http.StatusOK {
		t.Errorf("status of the room page: got %d; want %d", status, http.StatusOK)
	}
	if loc, want := location(t, ctx), base+"/demo/room/daily-standup?token="; !strings.HasPrefix(loc, want) {
		t.Fatalf("location: got %s; want it to start with %q\npage: %s", withoutQuery(loc), want, bodyText(t, ctx))
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("entered")))
	if err != nil {
		t.Fatalf("the room's heading: %v\npage: %s", err, bodyText(t, ctx))
	}
	if want := "You are in daily-standup as moderator"; heading != want {
		t.Errorf("room page: got %q; want %q", heading, want)
	}
	decided, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("decided")))
	if err != nil {
		t.Fatalf("the room page's rule: %v\npage: %s", err, bodyText(t, ctx))
	}
	wantDecided := regexp.MustCompile(`^Decided by the rule at demo/config\.yaml:\d+ \(rules\[1\], counting from 0\): admits group "eng-leads" as moderator$`)
	if !wantDecided.MatchString(decided) {
		t.Errorf("room page's rule: got %q; want it to match %s", decided, wantDecided)
	}
	for _, want := range []string{"Ada Lovelace", "ada"} {
		if text := bodyText(t, ctx); !strings.Contains(text, want) {
			t.Errorf("room page: got %q; want it to show %q", text, want)
		}
	}
	screenshot(t, ctx, "demo-room.png")

	// The start page lists her rooms; its button signs her out.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	if loc := location(t, ctx); loc != base+"/" {
		t.Fatalf("start page: got %s; want %s, without a new sign-in", loc, base+"/")
	}
	text := bodyText(t, ctx)
	for _, want := range []string{"Daily stand-up", "All hands", "moderator", "attendee"} {
		if !strings.Contains(text, want) {
			t.Errorf("start page: got %q; want it to show %q", text, want)
		}
	}
	closedNoticeOnItsOwnLine(t, ctx)
	signOut := chromedp.CSS(`form[action="/auth/logout"] button`)
	res, err := chromedp.RunResponse(ctx, chromedp.Click(signOut))
	if err != nil {
		t.Fatalf("sign out: %v\npage: %s", err, bodyText(t, ctx))
	}
	if res.Status != http.StatusOK {
		t.Errorf("sign out: got status %d at %s; want 200\npage: %s", res.Status, withoutQuery(location(t, ctx)), bodyText(t, ctx))
	}
	if text := bodyText(t, ctx); !strings.Contains(text, "You are signed out") {
		t.Errorf("after sign-out: got %q at %s; want the signed-out page", text, withoutQuery(location(t, ctx)))
	}

	// Dan: the sign-in page again (Ada's session is gone), then the 403 page.
	if status := demoPick(t, ctx, base, base+"/standup", "dan"); status != http.StatusForbidden {
		t.Errorf("status for Dan: got %d; want %d", status, http.StatusForbidden)
	}
	if loc := location(t, ctx); loc != base+"/standup" {
		t.Errorf("location for Dan: got %s; want %s", withoutQuery(loc), base+"/standup")
	}
	text = bodyText(t, ctx)
	for _, want := range []string{"You can't enter Daily stand-up", "keep you out"} {
		if !strings.Contains(text, want) {
			t.Errorf("Dan's page: got %q; want it to show %q", text, want)
		}
	}
	for _, leak := range []string{"goroutine", "panic", ".go:", "error:", "token="} {
		if strings.Contains(text, leak) {
			t.Errorf("Dan's page shows %q: %q", leak, text)
		}
	}
	screenshot(t, ctx, "demo-forbidden.png")
}
