//go:build e2e

package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomgate/roomgate/demo/dsroom"
)

// checkEntry checks that entries, the room's entries since a visit began,
// are one valid entry of who into room with role.
func checkEntry(t *testing.T, entries []dsroom.Entry, who person, room, role string) {
	t.Helper()
	if len(entries) != 1 {
		t.Fatalf("entries at the room: got %d; want 1: %+v", len(entries), entries)
	}
	e := entries[0]
	if !e.Valid {
		t.Fatalf("the room refused the token: %s", e.Why)
	}
	c := e.Claims
	for _, f := range []struct{ name, got, want string }{
		{"rd", c.Room, room},
		{"td", c.TeamID, teamID},
		{"role", c.Role, role},
		{"u", c.Name, who.name},
	} {
		if f.got != f.want {
			t.Errorf("%s: got %q; want %q", f.name, f.got, f.want)
		}
	}
	if c.UserID == "" {
		t.Errorf("ud: got %q; want the person's id", c.UserID)
	}
	if c.ID == "" {
		t.Errorf("jti: got %q; want a random id", c.ID)
	}
	if c.IssuedAt == nil || c.ExpiresAt == nil {
		t.Fatalf("iat, exp: got %v, %v; want both", c.IssuedAt, c.ExpiresAt)
	}
	if ttl := c.ExpiresAt.Sub(c.IssuedAt.Time); ttl != 2*time.Minute {
		t.Errorf("exp - iat: got %v; want token_ttl %v", ttl, 2*time.Minute)
	}
}

// checkInRoom checks that p is the room's page for who entering room path.
func checkInRoom(t *testing.T, b *browser, p page, entries []dsroom.Entry, who person, path string) {
	t.Helper()
	room := map[string]string{standupPath: standupRoom, allHandsPath: allHandsRoom}[path]
	role := who.want[path]
	if p.status != http.StatusOK || "http://"+p.url.Host != env.roomURL || p.url.Path != "/"+room {
		t.Fatalf("got %d at %s; want 200 at %s/%s\nhops:\n%s", p.status, p.url.Redacted(), env.roomURL, room, redact(b.trail()))
	}
	checkEntry(t, entries, who, room, role)
}

// checkDenied checks that p is roomgate's 403 page for path.
func checkDenied(t *testing.T, b *browser, p page, entries []dsroom.Entry, path string) {
	t.Helper()
	if p.status != http.StatusForbidden || p.url.String() != env.gatewayURL+"/"+path {
		t.Fatalf("got %d at %s; want 403 at %s/%s\nhops:\n%s", p.status, p.url.Redacted(), env.gatewayURL, path, redact(b.trail()))
	}
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type: got %q; want an HTML page", ct)
	}
	if !strings.Contains(strings.ToLower(p.body), "<html") {
		t.Errorf("403 body: got %q; want an HTML page", excerpt(p.body))
	}
	if len(entries) != 0 {
		t.Errorf("entries at the room: got %d; want 0", len(entries))
	}
}

// redact hides room tokens in failure messages.
func redact(s string) string {
	return regexp.MustCompile(`token=[^&\s]+`).ReplaceAllString(s, "token=REDACTED")
}

// visitRoom visits path and checks the outcome for who; signIn says whether
// Dex's login form is expected on the way.
func visitRoom(t *testing.T, b *browser, who person, path string, signIn bool) {
	t.Helper()
	before := len(env.room.Entries())
	p := b.visit(env.gatewayURL + "/" + path)
	if signIn {
		p = b.signIn(p, who)
	} else if b.sawDex() {
		t.Fatalf("visit %s: went to Dex; want straight through, signed in\nhops:\n%s", path, redact(b.trail()))
	}
	entries := env.room.Entries()[before:]
	if who.want[path] == denied {
		checkDenied(t, b, p, entries, path)
		return
	}
	checkInRoom(t, b, p, entries, who, path)
}

// authorizeEndpoint reads Dex's discovery document.
func authorizeEndpoint(t *testing.T) string {
	t.Helper()
	res, err := http.Get(env.issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var d struct {
		Authorization string `json:"authorization_endpoint"`
	}
	if err := json.NewDecoder(res.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	return d.Authorization
}

// TestSignedOutVisitGoesStraightToProvider: the first answer to a signed-out
// person is a redirect to Dex's authorize endpoint, for roomgate's client
// and callback, asking for the groups.
func TestSignedOutVisitGoesStraightToProvider(t *testing.T) {
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(env.gatewayURL + "/" + standupPath)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound {
		t.Fatalf("GET /%s: got %d; want %d", standupPath, res.StatusCode, http.StatusFound)
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := loc.Scheme+"://"+loc.Host+loc.Path, authorizeEndpoint(t); got != want {
		t.Errorf("Location: got %q; want Dex's authorize endpoint %q", got, want)
	}
	q := loc.Query()
	for _, f := range []struct{ name, want string }{
		{"client_id", "roomgate"},
		{"redirect_uri", env.gatewayURL + "/auth/callback"},
		{"response_type", "code"},
	} {
		if got := q.Get(f.name); got != f.want {
			t.Errorf("%s: got %q; want %q", f.name, got, f.want)
		}
	}
	scopes := strings.Fields(q.Get("scope"))
	for _, s := range []string{"openid", "groups"} {
		if !slices.Contains(scopes, s) {
			t.Errorf("scope: got %q; want it to hold %q", scopes, s)
		}
	}
	if q.Get("state") == "" {
		t.Errorf("state: got none; want one")
	}
}

// TestFirstVisit: each person opens the stand-up's URL, signs in through
// Dex's login form and ends in the room with their role, or on the 403 page.
func TestFirstVisit(t *testing.T) {
	for _, who := range people {
		t.Run(who.key(), func(t *testing.T) {
			b := newBrowser(t)
			visitRoom(t, b, who, standupPath, true)
		})
	}
}

// TestSecondVisitSkipsProvider: once signed in, a person goes straight into
// rooms (or straight to the 403 page) without seeing Dex again.
func TestSecondVisitSkipsProvider(t *testing.T) {
	for _, who := range people {
		t.Run(who.key(), func(t *testing.T) {
			b := newBrowser(t)
			visitRoom(t, b, who, standupPath, true)
			visitRoom(t, b, who, allHandsPath, false)
			visitRoom(t, b, who, standupPath, false)
		})
	}
}

// roomList reads roomgate's home page: for each link to a room of this
// gateway, the text that follows it up to the next link.
func roomList(t *testing.T, p page) map[string]string {
	t.Helper()
	anchor := regexp.MustCompile(`(?is)<a\b([^>]*)>`)
	tags := regexp.MustCompile(`(?s)<[^>]*>`)
	rooms := map[string]string{}
	locs := anchor.FindAllStringSubmatchIndex(p.body, -1)
	for i, loc := range locs {
		href := attrs(p.body[loc[2]:loc[3]])["href"]
		u, err := p.url.Parse(href)
		if err != nil || "http://"+u.Host != env.gatewayURL {
			continue
		}
		end := len(p.body)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		text := tags.ReplaceAllString(p.body[loc[1]:end], " ")
		rooms[strings.TrimPrefix(u.Path, "/")] = strings.Join(strings.Fields(text), " ")
	}
	return rooms
}

// TestRoomList: `/` signs a person in and lists the rooms they may enter,
// each with the role they would get, and no other room.
func TestRoomList(t *testing.T) {
	for _, who := range people {
		t.Run(who.key(), func(t *testing.T) {
			b := newBrowser(t)
			p := b.signIn(b.visit(env.gatewayURL+"/"), who)
			if p.status != http.StatusOK || p.url.String() != env.gatewayURL+"/" {
				t.Fatalf("got %d at %s; want 200 at %s/\nhops:\n%s", p.status, p.url, env.gatewayURL, b.trail())
			}
			list := roomList(t, p)
			for _, path := range []string{standupPath, allHandsPath} {
				text, listed := list[path]
				role := who.want[path]
				switch {
				case role == denied && listed:
					t.Errorf("room %s: listed with %q; want it left out", path, text)
				case role != denied && !listed:
					t.Errorf("room %s: not listed; want it with role %s\npage: %s", path, role, excerpt(p.body))
				case role != denied && !strings.Contains(text, role):
					t.Errorf("room %s: got %q; want the role %q", path, text, role)
				}
			}
		})
	}
}

// TestLogout: the sign-out button on `/` ends the session; the next visit
// to a room goes back to Dex's login form, and signing in again works.
func TestLogout(t *testing.T) {
	b := newBrowser(t)
	home := b.signIn(b.visit(env.gatewayURL+"/"), moderator)
	if home.status != http.StatusOK {
		t.Fatalf("home page: got %d; want 200\nhops:\n%s", home.status, b.trail())
	}
	var logout *form
	for _, f := range parseForms(home.body) {
		u, err := home.url.Parse(f.action)
		if err == nil && u.Path == "/auth/logout" && f.method == http.MethodPost {
			logout = &f
		}
	}
	if logout == nil {
		t.Fatalf("home page: no form posting to /auth/logout:\n%s", excerpt(home.body))
	}
	out := b.submit(home, *logout, nil)
	if out.status != http.StatusOK {
		t.Errorf("POST /auth/logout: got %d; want 200\nhops:\n%s", out.status, b.trail())
	}

	before := len(env.room.Entries())
	p := b.visit(env.gatewayURL + "/" + standupPath)
	if !b.sawDex() {
		t.Fatalf("after logout, visit /%s: got %d at %s; want a trip to Dex\nhops:\n%s", standupPath, p.status, p.url.Redacted(), redact(b.trail()))
	}
	if _, ok := dexLoginForm(p); !ok {
		t.Fatalf("after logout: got %d at %s; want Dex's login form\nhops:\n%s", p.status, p.url.Redacted(), redact(b.trail()))
	}
	if n := len(env.room.Entries()) - before; n != 0 {
		t.Errorf("entries at the room after logout: got %d; want 0", n)
	}
	before = len(env.room.Entries())
	p = b.signIn(p, moderator)
	checkInRoom(t, b, p, env.room.Entries()[before:], moderator, standupPath)
}

// TestManyGroupsCookiesStaySmall: a person in 600 groups signs in, and each
// cookie roomgate sets stays under the 4 KB a browser keeps; the session
// works on the next visit.
func TestManyGroupsCookiesStaySmall(t *testing.T) {
	b := newBrowser(t)
	visitRoom(t, b, manyGroups, standupPath, true)
	visitRoom(t, b, manyGroups, allHandsPath, false)
	if len(b.gatewayCookies) == 0 {
		t.Fatalf("roomgate set no cookie; want a session cookie")
	}
	for _, c := range b.gatewayCookies {
		name, _, _ := strings.Cut(c, "=")
		if len(c) >= 4096 {
			t.Errorf("cookie %s: got %d bytes; want under 4096", name, len(c))
		}
		t.Logf("Set-Cookie %s: %d bytes", name, len(c))
	}
}

// TestUnknownRoomIs404: a signed-in person opening a path that is no room
// gets roomgate's 404 page.
func TestUnknownRoomIs404(t *testing.T) {
	b := newBrowser(t)
	visitRoom(t, b, attendee, standupPath, true)
	p := b.visit(env.gatewayURL + "/no-such-room")
	if p.status != http.StatusNotFound {
		t.Errorf("GET /no-such-room: got %d; want 404\nhops:\n%s", p.status, b.trail())
	}
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type: got %q; want an HTML page", ct)
	}
}

// TestAuditLine: entering a room writes an audit line with the token's jti,
// the room and the role.
func TestAuditLine(t *testing.T) {
	b := newBrowser(t)
	before := len(env.room.Entries())
	visitRoom(t, b, attendee, standupPath, true)
	e := env.room.Entries()[before]
	var line string
	for deadline := time.Now().Add(5 * time.Second); line == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		log, err := os.ReadFile(env.gatewayLog)
		if err != nil {
			t.Fatal(err)
		}
		for l := range strings.SplitSeq(string(log), "\n") {
			if strings.Contains(l, e.Claims.ID) {
				line = l
			}
		}
	}
	if line == "" {
		t.Fatalf("roomgate's log has no line with the jti %q", e.Claims.ID)
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(line), &fields); err != nil {
		t.Errorf("audit line: got %q; want JSON: %v", line, err)
	}
	for _, want := range []string{standupPath, "attendee"} {
		if !strings.Contains(line, want) {
			t.Errorf("audit line: got %q; want it to name %q", line, want)
		}
	}
}

// TestLogsHoldNoSecrets: after sign-ins, entries and refusals, neither
// roomgate's log nor Dex's holds a secret, a password or a token.
func TestLogsHoldNoSecrets(t *testing.T) {
	for _, who := range []person{moderator, outsider} {
		b := newBrowser(t)
		visitRoom(t, b, who, standupPath, true)
	}
	log, err := os.ReadFile(env.gatewayLog)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) == 0 {
		t.Fatalf("roomgate's log is empty; want JSON lines")
	}
	leaks := map[string]string{"the users' password": password}
	for k, v := range env.secrets {
		leaks[k] = v
	}
	for what, v := range leaks {
		if strings.Contains(string(log), v) {
			t.Errorf("roomgate's log holds %s", what)
		}
	}
	// A JWT starts with the base64 of `{"`.
	if jwt := regexp.MustCompile(`eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+`).Find(log); jwt != nil {
		t.Errorf("roomgate's log holds a JWT starting %.20q", jwt)
	}
}
