//go:build e2e

package e2e

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestChromiumHelpdesk: two replicas share a SQLite store. Mark is refused
// at the stand-up on replica A; the helpdesk (Mona, by email) signs in
// through Dex in Chromium, pastes the request id of Mark's page into the
// console of replica B, sees why, and signs him out everywhere there:
// within a second replica A sends Mark to sign in again.
func TestChromiumHelpdesk(t *testing.T) {
	db := filepath.Join(t.TempDir(), "roomgate.db")
	withStore := func(listen string) string {
		return gatewayConfig(listen, env.refreshURL, env.issuer, env.roomURL, "10m") +
			"\nstore:\n  sqlite:\n    path: " + db + "\nadmin:\n  emails: [" + moderator.email + "]\n  reauth: 15m\n"
	}
	a := startSecondGateway(t, "replica A", withStore)
	// Replica B: the same file but its own port, as behind a load
	// balancer; the browser's cookies for 127.0.0.1 go to both.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bAddr := l.Addr().String()
	l.Close()
	bConf := filepath.Join(env.out, "roomgate-replica-b.yaml")
	if err := os.WriteFile(bConf, []byte(withStore(bAddr)), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := startProcess("roomgate (replica B)", filepath.Join(env.out, "roomgate-replica-b.log"), env.gatewayEnv(), env.roomgate, "serve", "-config", bConf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.stop)
	if err := b.waitHTTP("http://"+bAddr+"/readyz", 30*time.Second); err != nil {
		t.Fatal(err)
	}

	mark := newBrowser(t)
	mark.signIn(mark.visit(env.refreshURL+"/"+allHandsPath), outsider)
	refused := mark.visit(env.refreshURL + "/" + standupPath)
	requestID := refused.header.Get("X-Request-Id")
	if refused.status != 403 || requestID == "" || !strings.Contains(refused.body, requestID) {
		t.Fatalf("Mark at the stand-up: %d, request id %q", refused.status, requestID)
	}
	if where := entersAt(t, mark, a.url("/"+allHandsPath)); where != "room" {
		t.Fatalf("Mark on replica A before: %s; want the room", where)
	}

	ctx := newChromium(t)
	chromiumSignIn(t, ctx, a.url("/admin"), moderator)
	// Replica B's console: the browser's session cookie for 127.0.0.1
	// goes there too, as behind a load balancer.
	search := "http://" + bAddr + "/admin/decisions?q=" + url.QueryEscape(requestID)
	var page string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if err := chromedp.Do(ctx, chromedp.Navigate(search)); err != nil {
			t.Fatal(err)
		}
		if page = bodyText(t, ctx); strings.Contains(page, outsider.email) || time.Now().After(deadline) {
			break
		}
	}
	for _, want := range []string{outsider.email, outsider.name, "deny", "/" + standupPath, "no rule"} {
		if !strings.Contains(page, want) {
			t.Errorf("the console's decision lacks %q:\n%s", want, page)
		}
	}
	screenshot(t, ctx, "console.png")
	fitsAPhone(t, ctx, "the console's decisions")
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("form.inline-form input[name=reason]"), "e2e: account compromised")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS("form.inline-form button"))); err != nil {
		t.Fatal(err)
	}
	signedOut := time.Now()
	if text := bodyText(t, ctx); !strings.Contains(text, "ends on every replica") {
		t.Errorf("after sign out everywhere: %q", text)
	}
	for entersAt(t, mark, a.url("/"+allHandsPath)) != "sign-in" {
		if time.Since(signedOut) > time.Second {
			t.Fatal("a second after sign out everywhere on replica B, replica A still lets Mark in")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("sign out everywhere to refusal on the other replica: %v", time.Since(signedOut).Round(time.Millisecond))
}

// url is the second gateway's URL of path.
func (g *secondGateway) url(path string) string { return env.refreshURL + path }
