package gateway

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomgate/roomgate/internal/oidctest"
)

// TestThousandGroups: a person in 1,000 directory groups, 300 of which a
// glob covers and 60 of which rules name by Entra-style object id, gets
// cookies under 4 KB each, and the decisions of all of their groups.
func TestThousandGroups(t *testing.T) {
	t.Parallel()
	var ids []string
	for i := range 60 {
		ids = append(ids, fmt.Sprintf("%08x-4c2e-4d7b-9a51-3f0c6b1e%04x", i*7919, i))
	}
	rooms := fmt.Sprintf(`
  - path: standup
    room: daily-standup
    rules:
      - groups: [%s]
        role: moderator
      - groups: ["eng-*"]
        role: attendee
  - path: all-hands
    room: all-hands
    rules:
      - groups: ["%s"]
        role: speaker
      - everyone: true
        role: attendee
`, strings.Join(ids[1:], ", "), ids[0])
	var groups []string
	for i := range 640 {
		groups = append(groups, fmt.Sprintf("directory-group-%04d-with-a-long-descriptive-name", i))
	}
	for i := range 300 {
		groups = append(groups, fmt.Sprintf("eng-team-%03d", i))
	}
	groups = append(groups, ids...)
	if len(groups) != 1000 {
		t.Fatalf("%d groups; want 1000", len(groups))
	}

	e := newEnv(t, withRooms(rooms), withProviderOptions(oidctest.WithRefreshTokens()))
	e.provider.SetUser(user("ada", "ada@example.com", groups...))
	b := e.browser()
	if tok := e.roomToken(first(e.enter(b, "/standup")), "daily-standup"); tok.Role != "moderator" {
		t.Errorf("standup role %q; want moderator", tok.Role)
	}
	if tok := e.roomToken(first(e.enter(b, "/all-hands")), "all-hands"); tok.Role != "speaker" {
		t.Errorf("all-hands role %q; want speaker", tok.Role)
	}
	var names []string
	for _, path := range []string{"/", "/auth/logout"} {
		for _, c := range b.Cookies(t, e.url(path)) {
			if slices.Contains(names, c.Name) {
				continue
			}
			names = append(names, c.Name)
			// The jar keeps name and value; the attributes roomgate adds
			// (Path, Max-Age, HttpOnly, SameSite, Secure) stay under 96.
			if n := len(c.Name) + len(c.Value) + 96; n >= 4096 {
				t.Errorf("cookie %s: about %d bytes; want under 4096", c.Name, n)
			}
		}
	}
	if !slices.Contains(names, "roomgate_session") || !slices.Contains(names, "roomgate_refresh") {
		t.Errorf("cookies %q; want the session and the refresh token", names)
	}
	// The ID token lists all 1,000 groups: far too big to keep for logout.
	if slices.Contains(names, "roomgate_hint") {
		t.Errorf("an ID token of 1,000 groups was kept in a cookie")
	}
	// The re-check keeps them small too.
	e.clock.Advance(11 * time.Minute)
	if tok := e.roomToken(first(e.enter(b, "/standup")), "daily-standup"); tok.Role != "moderator" {
		t.Errorf("after the re-check: role %q; want moderator", tok.Role)
	}
}

// TestGroupViewPacking: what pack writes, unpack reads back for the same
// patterns and refuses for others.
func TestGroupViewPacking(t *testing.T) {
	t.Parallel()
	rules := parseRooms(t, testRooms)
	other := parseRooms(t, testRooms+`
  - path: board
    room: board
    rules:
      - groups: [board]
        role: moderator
`)
	v, w := newGroupView(rules), newGroupView(other)
	tests := []struct {
		name         string
		groups       []string
		wantNames    []string // written out; the rest are bits
		wantPatterns string
	}{
		{"none", nil, nil, ""},
		{"named groups are bits", []string{"eng-leads", "leadership"}, nil, "Cg"},
		{"a glob's group is written out", []string{"eng-platform"}, []string{"eng-platform"}, ""},
		{"both", []string{"eng-leads", "eng-x"}, []string{"eng-x"}, "Ag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id := &identity{Groups: tt.groups}
			v.pack(id)
			if !slices.Equal(id.Names, tt.wantNames) || id.Patterns != tt.wantPatterns {
				t.Errorf("pack(%q) = %q, %q; want %q, %q", tt.groups, id.Names, id.Patterns, tt.wantNames, tt.wantPatterns)
			}
			back := &identity{Fingerprint: id.Fingerprint, Names: id.Names, Patterns: id.Patterns}
			if !v.unpack(back) {
				t.Fatalf("unpack refused what pack wrote")
			}
			got, want := slices.Sorted(slices.Values(back.Groups)), slices.Sorted(slices.Values(tt.groups))
			if !slices.Equal(got, want) {
				t.Errorf("unpack = %q; want %q", got, want)
			}
			if w.unpack(&identity{Fingerprint: id.Fingerprint, Names: id.Names, Patterns: id.Patterns}) {
				t.Errorf("a rule set with other patterns unpacked groups kept for these")
			}
		})
	}
	// Bits past the patterns, or not base64, are refused.
	for _, bad := range []string{"_w", "////", "!"} {
		if v.unpack(&identity{Fingerprint: v.fingerprint, Patterns: bad}) {
			t.Errorf("unpack accepted Patterns %q", bad)
		}
	}
}

// TestReloadFreesTheStartingRules: once a reload has replaced it and the
// requests that began with it have had their time, the rule set the
// gateway was built with is garbage. The server keeps the configuration's
// settings, not its rules, and the view of the rule set before a reload
// only so long: kept, a large rule set stayed in memory for as long as the
// process ran, and the one before a reload until the next.
func TestReloadFreesTheStartingRules(t *testing.T) {
	t.Parallel()
	cfg := parseConfig(t, testRooms)
	gw, err := New(cfg, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	gw.sessions.keep = 20 * time.Millisecond
	freed := make(chan struct{})
	runtime.AddCleanup(cfg.Rules, func(freed chan struct{}) { close(freed) }, freed)
	gw.SetRules(parseRooms(t, testRooms))
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		runtime.GC()
		select {
		case <-freed:
			runtime.KeepAlive(gw)
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Error("the rule set the gateway started with is still reachable after a reload")
	runtime.KeepAlive(gw)
}

// TestReloadMakesTheViewOnce: SetRules makes the view of the new rule set
// before any request sees it; a request that began before keeps the view
// of the rules it started with; a rule set never set gets a view of its
// own, which does not replace the one serving.
func TestReloadMakesTheViewOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before := e.gw.Rules()
	after := parseRooms(t, testRooms+`
  - path: board
    room: board
    rules:
      - groups: [board]
        role: moderator
`)
	old := e.gw.sessions.viewOf(before)
	e.gw.SetRules(after)
	v := e.gw.sessions.view.Load()
	if v.rules != after || v.fingerprint != after.Fingerprint() {
		t.Fatal("SetRules did not make the view of the new rules")
	}
	if got := e.gw.sessions.viewOf(after); got != v {
		t.Error("a request after the reload made a view of its own")
	}
	if got := e.gw.sessions.viewOf(before); got.rules != before || got.fingerprint != old.fingerprint {
		t.Error("a request that began before the reload got another rule set's view")
	}
	stranger := parseRooms(t, testRooms)
	if got := e.gw.sessions.viewOf(stranger); got.rules != stranger || e.gw.sessions.view.Load() != v {
		t.Error("a view for a rule set never set replaced the one serving")
	}
}
