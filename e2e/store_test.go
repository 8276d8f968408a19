//go:build e2e

package e2e

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRevokeBesideServe: roomgate revoke, a second process on the same
// host, ends a session in a running roomgate serve that uses the same
// SQLite file within a second, with no restart and no signal; after a
// kill -9 and a restart the revocation is still in force; and signing in
// again lets the person in.
func TestRevokeBesideServe(t *testing.T) {
	db := filepath.Join(t.TempDir(), "roomgate.db")
	g := startSecondGateway(t, "sqlite", func(listen string) string {
		return gatewayConfig(listen, env.refreshURL, env.issuer, env.roomURL, "10m") + "\nstore:\n  sqlite:\n    path: " + db + "\n"
	})
	if log := tail(g.log); strings.Contains(log, "the store is in this process") {
		t.Errorf("serve with store.sqlite warns that the store is in the process:\n%s", log)
	}
	standup := env.refreshURL + "/" + standupPath

	b := newBrowser(t)
	before := len(env.room.Entries())
	checkInRoom(t, b, b.signIn(b.visit(standup), attendee), env.room.Entries()[before:], attendee, standupPath)
	user := env.room.Entries()[before].Claims.UserID
	if user == "" {
		t.Fatal("the room token carries no ud")
	}
	if where := entersAt(t, b, standup); where != "room" {
		t.Fatalf("before the revocation the session leads to %s; want the room", where)
	}

	revoke := exec.Command(env.roomgate, "revoke", "-config", g.conf, "-user", user)
	revoke.Env = append(revoke.Environ(), env.gatewayEnv()...)
	out, err := revoke.CombinedOutput()
	revoked := time.Now()
	if err != nil {
		t.Fatalf("roomgate revoke: %v\n%s", err, out)
	}
	for entersAt(t, b, standup) != "sign-in" {
		if time.Since(revoked) > time.Second {
			t.Fatalf("a second after roomgate revoke, the revoked session still enters the room\n%s", tail(g.log))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("revoke to refusal: %v", time.Since(revoked).Round(time.Millisecond))

	g.crash(t)
	g.start(t)
	if where := entersAt(t, b, standup); where != "sign-in" {
		t.Errorf("after kill -9 and a restart the revoked session leads to %s; want the sign-in", where)
	}

	before = len(env.room.Entries())
	checkInRoom(t, b, b.signIn(b.visit(standup), attendee), env.room.Entries()[before:], attendee, standupPath)
}

// entersAt GETs url with b's cookies, without following the redirect, and
// says where roomgate sends the browser: "room", "sign-in" or what it
// answered.
func entersAt(t *testing.T, b *browser, url string) string {
	t.Helper()
	c := *b.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc := res.Header.Get("Location")
	switch {
	case res.StatusCode == http.StatusFound && strings.HasPrefix(loc, env.roomURL+"/"):
		return "room"
	case res.StatusCode == http.StatusFound && strings.HasPrefix(loc, env.issuer+"/"):
		return "sign-in"
	}
	return res.Status + " to " + loc
}
