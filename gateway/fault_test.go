package gateway

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/internal/oidctest"
	"github.com/roomgate/roomgate/internal/reload"
)

// This file breaks the world around the gateway while it runs: the provider
// is down at start, goes away in the middle of a sign-in, rotates its keys;
// the configuration file disappears or turns unreadable. Each time the
// gateway must say so politely and recover by itself.

// outages are the two ways a provider is gone: it answers 503, or it hangs
// up without an answer.
var outages = []struct {
	name string
	set  func(p *oidctest.Provider, out bool)
}{
	{"answers 503", (*oidctest.Provider).SetDown},
	{"unreachable", (*oidctest.Provider).SetUnreachable},
}

// TestProviderDownAtStart: roomgate starts while the provider is away, is
// alive but not ready, shows a friendly 502 to whoever signs in, and
// becomes ready by itself, through Run's background discovery, once the
// provider appears; no visitor is needed for that.
func TestProviderDownAtStart(t *testing.T) {
	t.Parallel()
	for _, o := range outages {
		t.Run(o.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			o.set(e.provider, true)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { e.gw.Run(ctx); close(done) }()
			t.Cleanup(func() { cancel(); <-done })

			if got := e.status(t, "/healthz"); got != http.StatusOK {
				t.Errorf("/healthz during the outage: %d; want 200", got)
			}
			if got := e.status(t, "/readyz"); got != http.StatusServiceUnavailable {
				t.Errorf("/readyz during the outage: %d; want 503", got)
			}
			resp, _ := e.enter(e.browser(), "/standup")
			if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body(t, resp), "not answering") {
				t.Errorf("entering during the outage: status %d; want the friendly 502", resp.StatusCode)
			}

			o.set(e.provider, false)
			e.waitReady(t, 15*time.Second)
			if n := len(e.provider.AuthorizeRequests()); n != 0 {
				t.Errorf("%d sign-ins before anyone came back; want discovery alone", n)
			}
			e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
			e.roomToken(first(e.enter(e.browser(), "/standup")), "daily-standup")
		})
	}
}

// waitReady polls /readyz until it answers 200. The gateway remembers a
// failed discovery for retryAfter on its own clock, which the test holds
// still, so each poll moves it on.
func (e *env) waitReady(t *testing.T, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for e.status(t, "/readyz") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not 200 within %v after the provider came back", limit)
		}
		e.clock.Advance(retryAfter)
		time.Sleep(50 * time.Millisecond)
	}
}

func (e *env) status(t *testing.T, path string) int {
	t.Helper()
	return e.browser().Do(t, mustGet(t, e.url(path))).StatusCode
}

// TestProviderDownMidLogin: the provider goes away after the person signed
// in there but before roomgate exchanged the code. They see the friendly
// 502, get no session, and the next attempt after the provider is back
// works without anything restarted.
func TestProviderDownMidLogin(t *testing.T) {
	t.Parallel()
	for _, o := range outages {
		t.Run(o.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
			cb, _, b := e.pendingSignIn(t, "/standup")

			o.set(e.provider, true)
			resp := b.Do(t, mustGet(t, cb.String()))
			if resp.StatusCode != http.StatusBadGateway {
				t.Fatalf("callback during the outage: status %d; want 502", resp.StatusCode)
			}
			page := body(t, resp)
			if !strings.Contains(page, "not answering") || strings.Contains(page, "127.0.0.1") || strings.Contains(page, "503") {
				t.Errorf("the 502 page is not the friendly one:\n%.500s", page)
			}
			e.assertNoSession(t, resp)
			if got := e.status(t, "/readyz"); got != http.StatusOK {
				t.Errorf("/readyz during a later outage: %d; want 200 (discovery is kept)", got)
			}

			o.set(e.provider, false)
			e.clock.Advance(retryAfter) // known down until then: the page comes at once
			b.StopAt = oidctest.StopAtHost(roomHost)
			resp, hops := e.enter(b, "/standup")
			e.roomToken(resp, "daily-standup")
			if len(hops) != 4 {
				t.Errorf("after the outage: hops %v; want a fresh sign-in", hops)
			}
		})
	}
}

// TestProviderRotatesKeys: after the provider replaces its signing key (the
// old one leaves the JWKS at once), the next ID tokens, signed with the new
// key, verify; roomgate fetches the new key set by itself.
func TestProviderRotatesKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	ada := e.browser()
	e.roomToken(first(e.enter(ada, "/standup")), "daily-standup")

	for i, sub := range []string{"ben", "cleo"} {
		before := e.provider.KeyID()
		e.provider.RotateKeys()
		if e.provider.KeyID() == before {
			t.Fatal("RotateKeys kept the key id")
		}
		e.provider.SetUser(user(sub, sub+"@example.com", "engineering"))
		resp, hops := e.enter(e.browser(), "/standup")
		if tok := e.roomToken(resp, "daily-standup"); tok.UserID != sub {
			t.Errorf("rotation %d: token for %q; want %q", i+1, tok.UserID, sub)
		}
		if len(hops) != 4 {
			t.Errorf("rotation %d: hops %v; want one sign-in", i+1, hops)
		}
	}
	// Sessions are roomgate's own: the provider's keys do not end them.
	if _, hops := e.enter(ada, "/standup"); len(hops) != 1 {
		t.Errorf("ada had to sign in again after the provider rotated its keys: %v", hops)
	}
}

// TestConfigFileGoesAway runs the reload watcher the way roomgate serve
// does and then takes the file away in every way a disk or an operator can:
// the last good rule set keeps serving, with no failed request, and a good
// file later is picked up again.
func TestConfigFileGoesAway(t *testing.T) {
	t.Parallel()
	breaks := []struct {
		name      string
		breakFile func(t *testing.T, path string)
	}{
		{"deleted", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}},
		{"replaced by a directory", func(t *testing.T, path string) {
			// Root reads any file whatever its mode, so a directory is the
			// unreadable file that works for every user.
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
		}},
		{"emptied", func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"cut off mid-write", func(t *testing.T, path string) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// Inside a quoted title, so what is left is surely not YAML.
			cut := strings.Index(string(data), `"Daily st`) + len(`"Daily st`)
			if err := os.WriteFile(path, data[:cut], 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"a broken symlink", func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(filepath.Dir(path), "gone.yaml"), path); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, br := range breaks {
		t.Run(br.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
			path := filepath.Join(t.TempDir(), "config.yaml")
			results := e.watch(t, path)

			// A good change goes live: a new room.
			e.writeConfig(t, path, testRooms+extraRoom)
			if ok := next(t, results); !ok {
				t.Fatal("the good file was refused")
			}
			b := e.browser()
			e.roomToken(first(e.enter(b, "/extra")), "extra-room")

			br.breakFile(t, path)
			if ok := next(t, results); ok {
				t.Fatal("the broken file was applied")
			}
			for _, room := range []string{"extra", "standup"} {
				resp, hops := e.enter(b, "/"+room)
				if len(hops) != 1 {
					t.Errorf("/%s after the file broke: hops %v; want straight in", room, hops)
				}
				e.roomToken(resp, map[string]string{"extra": "extra-room", "standup": "daily-standup"}[room])
			}

			// Fixed again, without the extra room: that is picked up too.
			if fi, err := os.Lstat(path); err == nil && fi.IsDir() {
				os.Remove(path)
			} else if err == nil && fi.Mode()&os.ModeSymlink != 0 {
				os.Remove(path)
			}
			e.writeConfig(t, path, testRooms)
			if ok := next(t, results); !ok {
				t.Fatal("the repaired file was refused")
			}
			if resp, _ := e.enter(b, "/extra"); resp.StatusCode != http.StatusNotFound {
				t.Errorf("/extra after it was removed from the file: status %d; want 404", resp.StatusCode)
			}
		})
	}
}

// next waits for the watcher's next reload.
func next(t *testing.T, results <-chan bool) bool {
	t.Helper()
	select {
	case ok := <-results:
		return ok
	case <-time.After(10 * time.Second):
		t.Fatal("no reload within 10s of the change")
		return false
	}
}

const extraRoom = `
  - path: extra
    room: extra-room
    rules:
      - everyone: true
        role: attendee
`

// watch runs a reload.Watcher on path for e's gateway, as roomgate serve
// wires it, and returns the outcome of every reload.
func (e *env) watch(t *testing.T, path string) <-chan bool {
	t.Helper()
	e.writeConfig(t, path, testRooms)
	results := make(chan bool, 16)
	w := &reload.Watcher{
		Path:     path,
		Options:  config.Options{Reserved: ReservedPaths()},
		Running:  e.cfg,
		Apply:    e.gw.SetRules,
		OnResult: func(ok bool, _ time.Time) { results <- ok },
		Debounce: 20 * time.Millisecond,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watcher: %v", err)
		}
	})
	// Run does not read the file at start; give its watch a moment to be
	// in place before the test changes anything.
	time.Sleep(50 * time.Millisecond)
	return results
}

// writeConfig writes a whole configuration file for e with these rooms,
// atomically (write and rename), as editors and config management do.
func (e *env) writeConfig(t *testing.T, path, rooms string) {
	t.Helper()
	u, _ := url.Parse(e.url("/"))
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(configText(u.Host, e.provider, rooms)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestProviderDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.provider.SetDown(true)
	resp, _ := e.enter(e.browser(), "/standup")
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d; want 502", resp.StatusCode)
	}
	page := body(t, resp)
	if !strings.Contains(page, "not answering") || strings.Contains(page, "503") || strings.Contains(page, "127.0.0.1") {
		t.Errorf("502 page should be friendly and show no internal detail:\n%s", page)
	}
	if !strings.Contains(page, `href="/standup">Try again`) {
		t.Errorf("the 502 page's Try again does not return to the room:\n%s", page)
	}
	// Known down: the next person gets the page at once, without another
	// attempt at the provider until retryAfter has passed.
	e.provider.SetDelay(time.Hour)
	start := time.Now()
	if resp, _ := e.enter(e.browser(), "/all-hands"); resp.StatusCode != http.StatusBadGateway || time.Since(start) > time.Second {
		t.Errorf("provider known down: %d after %s; want 502 at once", resp.StatusCode, time.Since(start))
	}
	e.provider.SetDelay(0)
	if r := e.browser().Do(t, mustGet(t, e.url("/readyz"))); r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz while the provider was never reached: %d; want 503", r.StatusCode)
	}

	// The provider comes back: sign-in works again by itself.
	e.provider.SetDown(false)
	e.clock.Advance(retryAfter)
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	e.roomToken(first(e.enter(e.browser(), "/standup")), "daily-standup")
	if r := e.browser().Do(t, mustGet(t, e.url("/readyz"))); r.StatusCode != http.StatusOK {
		t.Errorf("/readyz after discovery: %d; want 200", r.StatusCode)
	}
}
