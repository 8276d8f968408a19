package reload_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/gateway"
	"github.com/roomgate/roomgate/internal/oidctest"
	"github.com/roomgate/roomgate/internal/reload"
)

const (
	roomHost     = "acme.digitalsamba.example"
	sessionKey   = "a-session-secret-of-at-least-32-bytes!!"
	developerKey = "a-developer-key-for-the-room-tokens"
)

// The two rule sets the file alternates between, and a broken one. A person
// in engineering sees set A as {standup: attendee} and set B as
// {standup: moderator, retro: attendee}; anything else seen in one answer
// would be half of each.
const (
	roomsA = `
  - path: standup
    room: daily-standup
    rules:
      - groups: [engineering]
        role: attendee
`
	roomsB = `
  - path: standup
    room: daily-standup
    rules:
      - groups: [engineering]
        role: moderator
  - path: retro
    room: retro-room
    rules:
      - everyone: true
        role: attendee
`
	roomsBroken = `
  - path: standup
    room: daily-standup
    rules:
      - groups: [engineering]
        role: moderater
  - path: retro
    room: retro-room
`
)

var sets = map[string]map[string]string{
	"A": {"standup": "attendee"},
	"B": {"standup": "moderator", "retro": "attendee"},
}

// phase is what the test has made the file say. While stable, every answer
// must come from want; in between, from either set.
type phase struct {
	stable bool
	want   string
}

// TestRulesSwapUnderLoad runs a gateway with a signed-in person asking for
// rooms in a loop while the file changes: valid, invalid, valid again. Every
// answer must come from one whole rule set (never half of each), none may
// fail, an invalid file must leave the last good set serving, and once a
// reload is reported every answer comes from the new set.
func TestRulesSwapUnderLoad(t *testing.T) {
	p := oidctest.New(t)
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	p.SetRedirectURI(base + "/auth/callback")

	path := filepath.Join(t.TempDir(), "config.yaml")
	write := func(rooms string) {
		t.Helper()
		file := fmt.Sprintf(`server:
  public_url: %q
oidc:
  issuer: %q
  client_id: %q
  client_secret: %q
session:
  secret: %q
digitalsamba:
  team_id: team-1
  url: "https://%s"
  developer_key: %q
rooms:%s`, base, p.Issuer(), p.ClientID(), p.ClientSecret(), sessionKey, roomHost, developerKey, rooms)
		// As editors and config management do: a new file renamed over
		// the old one.
		tmp := path + ".new"
		if err := os.WriteFile(tmp, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write(roomsA)
	opts := config.Options{Reserved: gateway.ReservedPaths()}
	cfg, err := config.Load(path, opts)
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	logs := &strings.Builder{}
	var logMu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(writerFunc(func(b []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return logs.Write(b)
	}), nil))
	gw, err := gateway.New(cfg, gateway.Deps{Logger: logger, HTTPClient: p.Client()})
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	srv.Config.Handler = gw
	srv.Start()
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	results := make(chan bool, 16)
	w := &reload.Watcher{
		Path:     path,
		Options:  opts,
		Running:  cfg,
		Apply:    gw.SetRules,
		Logger:   logger,
		OnResult: func(ok bool, _ time.Time) { results <- ok },
		Debounce: 30 * time.Millisecond,
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	<-w.Watching()

	b := oidctest.NewBrowser(t)
	b.StopAt = oidctest.StopAtHost(roomHost)
	if resp, _ := b.Follow(t, base+"/standup"); resp.StatusCode != http.StatusFound {
		t.Fatalf("signing in: status %d; want 302 into the room", resp.StatusCode)
	}

	var current atomic.Pointer[phase]
	current.Store(&phase{stable: true, want: "A"})
	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		answers atomic.Int64
		stableN atomic.Int64
		seen    sync.Map // set name -> true
	)
	defer func() { // also when a step fails the test
		stop.Store(true)
		wg.Wait()
	}()
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			targets := []string{"/", "/standup", "/retro"}
			for n := i; !stop.Load(); n++ {
				target := targets[n%len(targets)]
				before := current.Load()
				set, err := ask(b.Client, base+target)
				after := current.Load()
				answers.Add(1)
				if err != nil {
					t.Errorf("GET %s: %v", target, err)
					stop.Store(true)
					return
				}
				seen.Store(set, true)
				if before == after && before.stable {
					stableN.Add(1)
					if set != before.want {
						t.Errorf("GET %s answered from set %s while set %s was serving", target, set, before.want)
						stop.Store(true)
						return
					}
				}
			}
		}()
	}

	steps := []struct {
		rooms string
		ok    bool
		want  string // the set serving after the step
	}{
		{roomsB, true, "B"},
		{roomsBroken, false, "B"},
		{roomsA, true, "A"},
		{roomsBroken, false, "A"},
		{roomsB, true, "B"},
		{roomsA, true, "A"},
	}
	for i, s := range steps {
		time.Sleep(100 * time.Millisecond) // load on the stable set
		current.Store(&phase{})
		write(s.rooms)
		select {
		case ok := <-results:
			if ok != s.ok {
				t.Fatalf("step %d: reload ok=%v; want %v", i, ok, s.ok)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("step %d: no reload within 5s", i)
		}
		current.Store(&phase{stable: true, want: s.want})
	}
	time.Sleep(100 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}

	for _, name := range []string{"A", "B"} {
		if _, ok := seen.Load(name); !ok {
			t.Errorf("no answer came from set %s", name)
		}
	}
	if stableN.Load() < int64(len(steps)) {
		t.Errorf("only %d of %d answers came while a set was stable; the test checked too little", stableN.Load(), answers.Load())
	}
	t.Logf("%d answers, %d while a set was stable", answers.Load(), stableN.Load())

	logMu.Lock()
	defer logMu.Unlock()
	if want := path + ":"; !strings.Contains(logs.String(), want) || !strings.Contains(logs.String(), "rooms[0].rules[0].role") {
		t.Errorf("the broken file's problems are not logged with file:line")
	}
	for _, secret := range []string{sessionKey, developerKey, p.ClientSecret()} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("a secret is in the logs")
		}
	}
}

var roomLink = regexp.MustCompile(`<a href="/([^"]+)">[^<]*</a> <span class="role">([^<]+)</span>`)

// ask requests target and says which rule set the answer came from.
func ask(c *http.Client, target string) (string, error) {
	resp, err := c.Get(target)
	if err != nil {
		return "", err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return "", err
	}
	got := map[string]string{}
	switch {
	case strings.HasSuffix(target, "/"):
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("status %d; want 200", resp.StatusCode)
		}
		for _, m := range roomLink.FindAllStringSubmatch(string(body), -1) {
			got[m[1]] = m[2]
		}
	default:
		room := target[strings.LastIndex(target, "/")+1:]
		switch resp.StatusCode {
		case http.StatusNotFound:
			// The one set without this room.
			for name, set := range sets {
				if _, ok := set[room]; !ok {
					return name, nil
				}
			}
			return "", fmt.Errorf("%s: 404, but every rule set has it", room)
		case http.StatusFound:
			role, err := roleIn(resp.Header.Get("Location"))
			if err != nil {
				return "", err
			}
			// Each room's role differs between the sets, so it tells which.
			for name, set := range sets {
				if set[room] == role {
					return name, nil
				}
			}
			return "", fmt.Errorf("%s: role %q is in no rule set", room, role)
		default:
			return "", fmt.Errorf("status %d; want 302 or 404", resp.StatusCode)
		}
	}
	for name, set := range sets {
		if maps.Equal(got, set) {
			return name, nil
		}
	}
	return "", fmt.Errorf("rooms and roles %v are no whole rule set", got)
}

// roleIn reads the role claim of the room token in a room URL. The
// gateway's own tests verify the token; here only the role matters.
func roleIn(location string) (string, error) {
	_, token, ok := strings.Cut(location, "token=")
	if !ok {
		return "", fmt.Errorf("no token in %s", location)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var claims struct {
		Role string `json:"role"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", err
	}
	return claims.Role, nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
