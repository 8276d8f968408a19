//go:build e2e

package e2e

import (
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// Lines of roomgate's log that tell how a re-check went (gateway/recheck.go).
const (
	logRefreshing = "re-checking groups with the refresh token"
	logRechecked  = "groups re-checked"
	logRefused    = "refresh refused"
	logSilent     = "re-checking groups with a silent sign-in"
	logReloaded   = "config reloaded" // internal/reload
)

// startRefreshGateway starts a second roomgate at env.refreshURL, whose
// callback Dex knows, with session.recheck set to recheck and otherwise the
// suite's configuration. It returns the paths of its configuration file and
// its log.
func startRefreshGateway(t *testing.T, recheck time.Duration) (conf, logPath string) {
	t.Helper()
	g := startSecondGateway(t, "recheck "+recheck.String(), func(listen string) string {
		return gatewayConfig(listen, env.refreshURL, env.issuer, env.roomURL, recheck.String())
	})
	return g.conf, g.log
}

// secondGateway is a roomgate at env.refreshURL beside the suite's own.
type secondGateway struct {
	name, conf, log string
	p               *process
}

// startSecondGateway starts a roomgate at env.refreshURL, whose callback
// Dex knows, with the configuration config makes for its listen address.
// The process is stopped when t ends, and a data race it reports fails t.
func startSecondGateway(t *testing.T, name string, config func(listen string) string) *secondGateway {
	t.Helper()
	if env.refreshPort == nil {
		t.Fatalf("the port of %s is gone: another test took it", env.refreshURL)
	}
	listen := env.refreshPort.Addr().String()
	g := &secondGateway{name: name, conf: filepath.Join(env.out, "roomgate-second.yaml"), log: filepath.Join(env.out, "roomgate-second.log")}
	if err := os.WriteFile(g.conf, []byte(config(listen)), 0o600); err != nil {
		t.Fatal(err)
	}
	// Let go of the port only now: roomgate binds it a moment later.
	env.refreshPort.Close()
	env.refreshPort = nil
	t.Cleanup(func() {
		g.p.stop()
		if log, err := os.ReadFile(g.log); err == nil && strings.Contains(string(log), "WARNING: DATA RACE") {
			t.Errorf("the second roomgate reported a data race; see %s", g.log)
		}
		// Hold the port again for a later run of the test (-count).
		if l, err := net.Listen("tcp", listen); err == nil {
			env.refreshPort = l
		}
	})
	g.start(t)
	return g
}

// start runs the gateway and waits until it is ready.
func (g *secondGateway) start(t *testing.T) {
	t.Helper()
	p, err := startProcess("roomgate ("+g.name+")", g.log, env.gatewayEnv(), env.roomgate, "serve", "-config", g.conf)
	if err != nil {
		t.Fatal(err)
	}
	g.p = p
	if err := p.waitHTTP(env.refreshURL+"/readyz", 30*time.Second); err != nil {
		t.Fatal(err)
	}
}

// crash ends the gateway with SIGKILL: nothing is flushed or closed.
func (g *secondGateway) crash(t *testing.T) {
	t.Helper()
	if err := g.p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-g.p.done
}

// reloadRooms replaces the configuration file at conf with one in which
// the stand-up also admits the group design, a new group pattern, and waits
// until the roomgate logging to logPath has reloaded it.
func reloadRooms(t *testing.T, conf, logPath string) {
	t.Helper()
	old, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	const rule = `- groups: [engineering, "eng-*"]`
	if !strings.Contains(string(old), rule) {
		t.Fatalf("%s has no line %q to change", conf, rule)
	}
	changed := strings.Replace(string(old), rule, `- groups: [engineering, "eng-*", design]`, 1)
	reloaded := logLines(t, logPath, logReloaded)
	// Whole or not at all: the watcher never reads half a file.
	tmp := conf + ".new"
	if err := os.WriteFile(tmp, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, conf); err != nil {
		t.Fatal(err)
	}
	waitLogLines(t, logPath, logReloaded, reloaded+1)
}

// logLines counts the lines of the log at path that hold s.
func logLines(t *testing.T, path, s string) int {
	t.Helper()
	log, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(log), s)
}

// waitLogLines waits until the log at path has want lines that hold s, and
// fails t if it does not within a few seconds or has more.
func waitLogLines(t *testing.T, path, s string, want int) {
	t.Helper()
	got := logLines(t, path, s)
	for deadline := time.Now().Add(10 * time.Second); got < want && time.Now().Before(deadline); got = logLines(t, path, s) {
		time.Sleep(50 * time.Millisecond)
	}
	if got != want {
		t.Fatalf("lines %q in %s: got %d; want %d\nthe log ends:\n%s", s, path, got, want, tail(path))
	}
}

// refreshCookie is the value of the cookie in which b keeps roomgate's
// refresh token for base, or "".
func refreshCookie(b *browser, base string) string {
	u, err := url.Parse(base)
	if err != nil {
		b.t.Fatal(err)
	}
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "roomgate_refresh" {
			return c.Value
		}
	}
	return ""
}

// askedScopes is the scope of the first redirect to Dex's authorize
// endpoint in the last visit of b.
func askedScopes(t *testing.T, b *browser) []string {
	t.Helper()
	authorize := authorizeEndpoint(t)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, h := range b.hops {
		loc, err := url.Parse(h.location)
		if err == nil && loc.Scheme+"://"+loc.Host+loc.Path == authorize {
			return strings.Fields(loc.Query().Get("scope"))
		}
	}
	t.Fatalf("no redirect to %s in the visit", authorize)
	return nil
}

// TestRecheckRefreshes: with offline_access, Dex gives roomgate a refresh
// token, and a session older than session.recheck is re-checked with it:
// the person goes straight into the room with their role, without a trip
// to Dex, and roomgate's log says it refreshed.
//
// A second re-check, after a reload that adds a group pattern, proves that
// roomgate kept the refresh token Dex rotated in the first: Dex refuses the
// first one by now (the suite's Dex allows no reuse), and the new patterns
// keep roomgate from answering with the first refresh's result, which it
// reuses for 30 s for the same token.
//
// It runs a roomgate of its own with recheck 2s, so that no other test
// meets a re-check it does not expect.
func TestRecheckRefreshes(t *testing.T) {
	const recheck = 2 * time.Second
	conf, logPath := startRefreshGateway(t, recheck)

	// attendee and moderator roles; manyGroups's 600 groups come back
	// through the refresh too.
	who := []person{attendee, manyGroups}
	browsers := make([]*browser, len(who))
	for i, p := range who {
		b := newBrowser(t)
		browsers[i] = b
		before := len(env.room.Entries())
		pg := b.visit(env.refreshURL + "/" + standupPath)
		if scopes := askedScopes(t, b); !slices.Contains(scopes, "offline_access") {
			t.Fatalf("%s: scope: got %q; want it to hold offline_access", p.key(), scopes)
		}
		pg = b.signIn(pg, p)
		checkInRoom(t, b, pg, env.room.Entries()[before:], p, standupPath)
		if refreshCookie(b, env.refreshURL) == "" {
			t.Fatalf("%s: after the sign-in roomgate keeps no refresh token (no cookie roomgate_refresh); want one: Dex gives it for offline_access", p.key())
		}
	}

	for _, round := range []struct {
		name   string
		before func()
	}{
		{"groups older than recheck", func() { time.Sleep(recheck + time.Second) }},
		{"new group patterns", func() { reloadRooms(t, conf, logPath) }},
	} {
		round.before()
		for i, p := range who {
			b := browsers[i]
			refreshing, rechecked := logLines(t, logPath, logRefreshing), logLines(t, logPath, logRechecked)
			before := len(env.room.Entries())
			pg := b.visit(env.refreshURL + "/" + standupPath)
			if b.sawDex() {
				t.Fatalf("re-check (%s) of %s: the browser went to Dex; want a refresh behind the scenes\nhops:\n%s\nroomgate's log ends:\n%s",
					round.name, p.key(), redact(b.trail()), tail(logPath))
			}
			checkInRoom(t, b, pg, env.room.Entries()[before:], p, standupPath)
			waitLogLines(t, logPath, logRefreshing, refreshing+1)
			waitLogLines(t, logPath, logRechecked, rechecked+1)
			if refreshCookie(b, env.refreshURL) == "" {
				t.Errorf("re-check (%s) of %s: roomgate keeps no refresh token after it; want Dex's new one", round.name, p.key())
			}
		}
	}

	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{logRefused, logSilent} {
		if strings.Contains(string(log), bad) {
			t.Errorf("roomgate's log holds %q; want every re-check to refresh", bad)
		}
	}
	// Refreshes hand roomgate new tokens; none of them, and no secret, is
	// logged.
	leaks := map[string]string{"the users' password": password}
	for k, v := range env.secrets {
		leaks[k] = v
	}
	for what, v := range leaks {
		if strings.Contains(string(log), v) {
			t.Errorf("roomgate's log holds %s", what)
		}
	}
	if jwt := regexp.MustCompile(`eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+`).Find(log); jwt != nil {
		t.Errorf("roomgate's log holds a JWT starting %.20q", jwt)
	}
}
