package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/roomgate/roomgate/internal/metrics"
	"github.com/roomgate/roomgate/internal/oidctest"
	"github.com/roomgate/roomgate/internal/redistest"
	"github.com/roomgate/roomgate/internal/store"
)

// guestRooms: the stand-up takes guests, whom its leads may invite; the
// all-hands takes none.
const guestRooms = `
  - path: standup
    room: daily-standup
    title: "Daily stand-up"
    guests: {role: attendee, max_valid: 72h}
    rules:
      - groups: [eng-leads]
        role: moderator
        invite: true
      - groups: [engineering, "eng-*"]
        role: attendee
  - path: all-hands
    room: 7f9c2b1e-0000-4000-8000-000000000001
    rules:
      - everyone: true
        role: attendee
`

// post sends a form as a page of the gateway does: same origin.
func (e *env) post(b *oidctest.Browser, path string, form url.Values) *http.Response {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", e.srv.URL)
	resp, _ := b.FollowRequest(e.t, req)
	return resp
}

// invite signs ada (a lead) in, creates an invitation for the stand-up
// and returns its link's path (/guest/...) and ada's browser.
func (e *env) invite(guest string, valid string, browsers string) (string, *oidctest.Browser) {
	e.t.Helper()
	e.provider.SetUser(user("ada", "ada@example.com", "eng-leads"))
	b := e.browser()
	if resp, _ := e.enter(b, "/standup/invite"); resp.StatusCode != http.StatusOK {
		e.t.Fatalf("the invite page: %d %.300s", resp.StatusCode, body(e.t, resp))
	}
	resp := e.post(b, "/standup/invite", url.Values{"name": {guest}, "valid": {valid}, "browsers": {browsers}})
	page := body(e.t, resp)
	m := regexp.MustCompile(`value="` + regexp.QuoteMeta(e.srv.URL) + `(/guest/[A-Za-z0-9_-]+)"`).FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		e.t.Fatalf("creating an invitation: %d, no link on the page:\n%.2000s", resp.StatusCode, page)
	}
	return m[1], b
}

// guestToken checks that resp sends a guest into the stand-up and returns
// the verified token's claims.
func (e *env) guestToken(resp *http.Response) *roomClaims {
	e.t.Helper()
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("status %d; want 303 into the room (body: %.300s)", resp.StatusCode, body(e.t, resp))
	}
	loc, _ := resp.Location()
	if loc == nil || loc.Host != roomHost || loc.Path != "/daily-standup" {
		e.t.Fatalf("redirect to %v; want the stand-up", loc)
	}
	var claims roomClaims
	if _, err := jwt.ParseWithClaims(loc.Query().Get("token"), &claims, func(*jwt.Token) (any, error) {
		return []byte(testDeveloperKey), nil
	}, jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(e.clock.Now)); err != nil {
		e.t.Fatalf("the guest's token does not verify: %v", err)
	}
	return &claims
}

// TestGuestInvitation: a lead invites from the browser; the link is a
// capability (256 bits, only its hash stored, in no log); GET consumes
// nothing; POST enters with the guest role and a name that says guest;
// the same browser enters again without another slot; a second browser
// beyond the count is refused; revoking ends it.
func TestGuestInvitation(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	e := newEnv(t, withRooms(guestRooms), withMetrics(m))
	st := e.gw.revoked.Store()

	link, ada := e.invite("Jane Roe (ACME)", "24h", "1")
	token := strings.TrimPrefix(link, "/guest/")
	if len(token) < 22 {
		t.Fatalf("a link token of %d characters; want at least 128 bits", len(token))
	}
	invs, _ := st.Invitations(context.Background(), "standup")
	sum := sha256.Sum256([]byte(token))
	if len(invs) != 1 || invs[0].Hash != hex.EncodeToString(sum[:]) || invs[0].Guest != "Jane Roe (ACME)" || invs[0].Inviter.UserID != "ada" {
		t.Fatalf("the store holds %+v; want the invitation, by the link's hash", invs)
	}
	if resp, _ := e.enter(ada, "/"); !strings.Contains(body(t, resp), `href="/standup/invite"`) {
		t.Error("the room list offers no invitation for the stand-up to a lead")
	}

	jane := oidctest.NewBrowser(t)
	jane.StopAt = oidctest.StopAtHost(roomHost)
	for range 3 { // mail scanners open links: nothing is used
		resp, _ := jane.Follow(t, e.url(link))
		page := body(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Daily stand-up") || !strings.Contains(page, "Ada Tester") {
			t.Fatalf("GET on the link: %d\n%.1000s", resp.StatusCode, page)
		}
		// Its form leads into the room: the CSP must let that redirect go.
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://"+roomHost) {
			t.Errorf("the guest page's CSP %q does not let its form lead into the room", csp)
		}
		for h, want := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow"} {
			if got := resp.Header.Get(h); got != want {
				t.Errorf("%s: %q; want %q", h, got, want)
			}
		}
	}
	if inv, _ := st.Invitation(context.Background(), invs[0].Hash); len(inv.Used) != 0 {
		t.Errorf("GET used %d browsers; want none", len(inv.Used))
	}

	tok := e.guestToken(e.post(jane, link, url.Values{"name": {"Jane Roe"}}))
	if tok.Role != "attendee" || tok.UserID != "guest:"+invs[0].ID || tok.Name != "Jane Roe (guest)" || tok.Avatar != "" {
		t.Errorf("guest token: role %q, ud %q, u %q, avatar %q", tok.Role, tok.UserID, tok.Name, tok.Avatar)
	}
	e.guestToken(e.post(jane, link, url.Values{"name": {"Jane Roe"}})) // after a dropped call
	if inv, _ := st.Invitation(context.Background(), invs[0].Hash); len(inv.Used) != 1 {
		t.Errorf("one browser twice used %d slots; want 1", len(inv.Used))
	}
	other := oidctest.NewBrowser(t)
	other.StopAt = oidctest.StopAtHost(roomHost)
	if resp := e.post(other, link, nil); resp.StatusCode != http.StatusForbidden || !strings.Contains(body(t, resp), "has already been used") {
		t.Errorf("a second browser on a one-browser invitation: %d %.300s", resp.StatusCode, body(t, resp))
	}

	if resp := e.post(ada, "/standup/invite/revoke", url.Values{"id": {invs[0].ID}}); resp.StatusCode != http.StatusOK || !strings.Contains(body(t, resp), "revoked") {
		t.Errorf("revoking: %d %.500s", resp.StatusCode, body(t, resp))
	}
	if resp := e.post(jane, link, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the guest's own browser after the revocation: %d; want the refusal", resp.StatusCode)
	}

	logs := e.logs.String()
	if strings.Contains(logs, token) {
		t.Error("the link's token reached the log")
	}
	for _, action := range []string{`"action":"created"`, `"action":"entered"`, `"action":"refused"`, `"action":"revoked"`} {
		if !strings.Contains(logs, action) {
			t.Errorf("no audit line with %s", action)
		}
	}
	rec := scrape(t, e)
	for _, want := range []string{`roomgate_invitations_total{result="created"} 1`, `roomgate_invitations_total{result="entered"} 2`, `roomgate_invitations_total{result="revoked"} 1`} {
		if !strings.Contains(rec, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(rec, token) {
		t.Error("the link's token reached the metrics")
	}
}

// TestGuestLinksRefusedAlike: a wrong, an expired and a revoked link get
// the same page; failed tries are throttled per address, and then even a
// good link waits, while a guest who gets in is never throttled.
func TestGuestLinksRefusedAlike(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withRooms(guestRooms))
	revoked, ada := e.invite("Revoked Guest", "1h", "1")
	invs, _ := e.gw.revoked.Store().Invitations(context.Background(), "standup")
	e.post(ada, "/standup/invite/revoke", url.Values{"id": {invs[0].ID}})
	expired, _ := e.invite("Expired Guest", "1h", "1")
	good, _ := e.invite("Good Guest", "72h", "1")
	e.clock.Advance(2 * time.Hour)

	guest := oidctest.NewBrowser(t)
	guest.StopAt = oidctest.StopAtHost(roomHost)
	var first string
	for i, link := range []string{"/guest/" + strings.Repeat("A", 43), expired, revoked, "/guest/short"} {
		resp, _ := guest.Follow(t, e.url(link))
		page := body(t, resp)
		page = regexp.MustCompile(`<code>[^<]*</code>`).ReplaceAllString(page, "") // the request id
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "does not work") {
			t.Errorf("link %d: %d %.300s", i, resp.StatusCode, page)
		}
		if first == "" {
			first = page
		} else if page != first {
			t.Errorf("link %d gets another page than a wrong link", i)
		}
	}

	// A guest who entered is never throttled, however often.
	for range 30 {
		e.guestToken(e.post(guest, good, nil))
	}
	// Wrong links are: after the burst, 429, and then the good link too
	// from this address, until the throttle refills.
	throttled := false
	for range 100 {
		if resp, _ := guest.Follow(t, e.url("/guest/"+strings.Repeat("B", 43))); resp.StatusCode == http.StatusTooManyRequests {
			throttled = true
			break
		}
	}
	if !throttled {
		t.Fatal("100 wrong links from one address are never throttled")
	}
	if resp := e.post(guest, good, nil); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a good link from a throttled address: %d; want 429 until the throttle refills", resp.StatusCode)
	}
	e.clock.Advance(time.Minute)
	e.guestToken(e.post(guest, good, nil))
}

// TestGuestEndsWithInviter: when the inviter is offboarded (roomgate
// revoke), their invitations end too.
func TestGuestEndsWithInviter(t *testing.T) {
	t.Parallel()
	v := store.NewRevocations(store.NewMemory(), nil, nil)
	e := newEnv(t, withRooms(guestRooms), withRevocations(v))
	link, _ := e.invite("Jane Roe", "24h", "2")
	guest := oidctest.NewBrowser(t)
	guest.StopAt = oidctest.StopAtHost(roomHost)
	e.guestToken(e.post(guest, link, nil))
	at := e.clock.Now().Add(time.Second)
	v.Store().Revoke(context.Background(), store.Revocation{Kind: store.KindUser, Value: "ada", At: at, Expires: at.Add(time.Hour)})
	deadline := time.Now().Add(time.Second)
	for resp := e.post(guest, link, nil); resp.StatusCode != http.StatusNotFound; resp = e.post(guest, link, nil) {
		if time.Now().After(deadline) {
			t.Fatalf("a second after the inviter was revoked, the guest still enters (%d)", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWhoMayInvite: only a person whose deciding rule says invite: true
// has the invite page; others, and rooms without guests, get the page of
// a path that is not there; a cross-origin form is refused; a hostile
// guest name is escaped and kept apart from an employee's.
func TestWhoMayInvite(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withRooms(guestRooms))
	e.provider.SetUser(user("ben", "ben@example.com", "engineering"))
	ben := e.browser()
	for _, path := range []string{"/standup/invite", "/all-hands/invite", "/nothing/invite"} {
		if resp, _ := e.enter(ben, path); resp.StatusCode != http.StatusNotFound || !strings.Contains(body(t, resp), "There is nothing here") {
			t.Errorf("%s for someone who may not invite: %d", path, resp.StatusCode)
		}
	}
	if resp, _ := e.enter(ben, "/"); strings.Contains(body(t, resp), "/invite") {
		t.Error("the room list offers an invitation to someone who may not invite")
	}

	_, ada := e.invite("first", "1h", "1")
	req, _ := http.NewRequest(http.MethodPost, e.url("/standup/invite"), strings.NewReader("name=x&valid=1h0m0s&browsers=1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.example")
	if resp := ada.Do(t, req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-origin invitation: %d; want 403", resp.StatusCode)
	}
	if resp := e.post(ada, "/standup/invite", url.Values{"name": {"x"}, "valid": {"100h"}, "browsers": {"1"}}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an invitation longer than max_valid: %d; want 400", resp.StatusCode)
	}

	hostile := "<script>alert(1)</script>\u202eeyolpme\u202c\x07" + strings.Repeat("x", 100)
	link, _ := e.invite(hostile, "1h", "1")
	guest := oidctest.NewBrowser(t)
	guest.StopAt = oidctest.StopAtHost(roomHost)
	resp, _ := guest.Follow(t, e.url(link))
	if page := body(t, resp); strings.Contains(page, "<script>alert") || strings.Contains(page, "\u202e") {
		t.Errorf("the guest page shows a hostile name as it came:\n%.1500s", page)
	}
	tok := e.guestToken(e.post(guest, link, url.Values{"name": {"Ada Tester\u202e"}}))
	if tok.Name != "Ada Tester (guest)" {
		t.Errorf("a guest naming themselves as an employee enters as %q; want the name marked (guest)", tok.Name)
	}
}

func TestGuestName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"  Jane   Roe ":                "Jane Roe",
		"Eve\u202e)tseug(":             "Eve)tseug(",
		"Bell\x07\x00Name":             "BellName",
		"zero\u200bwidth\u2066isolate": "zerowidthisolate",
		strings.Repeat("é", 100):       strings.Repeat("é", 64),
		"\n\t":                         "",
	} {
		if got := GuestName(in); got != want {
			t.Errorf("GuestName(%q) = %q; want %q", in, got, want)
		}
	}
}

// TestGuestsInAClosedRoom: outside the room's hours a guest is told when
// it opens, and uses no slot.
func TestGuestsInAClosedRoom(t *testing.T) {
	t.Parallel()
	rooms := strings.Replace(guestRooms, "    guests: {role: attendee, max_valid: 72h}\n",
		"    guests: {role: attendee, max_valid: 72h}\n    open:\n      timezone: UTC\n      dates:\n        - {from: \"2099-01-01T09:00\", to: \"2099-01-01T10:00\"}\n", 1)
	e := newEnv(t, withRooms(rooms))
	link, _ := e.invite("Jane Roe", "24h", "1")
	guest := oidctest.NewBrowser(t)
	resp := e.post(guest, link, nil)
	if page := body(t, resp); resp.StatusCode != http.StatusForbidden || !strings.Contains(page, "not open at this hour") || !strings.Contains(page, "2099") {
		t.Errorf("a closed room: %d %.800s", resp.StatusCode, page)
	}
	invs, _ := e.gw.revoked.Store().Invitations(context.Background(), "standup")
	if len(invs) != 1 || len(invs[0].Used) != 0 {
		t.Errorf("a closed room used a slot: %+v", invs)
	}
}

// TestGuestPagesInGerman: the invite and guest pages speak the person's
// language.
func TestGuestPagesInGerman(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withRooms(guestRooms))
	link, ada := e.invite("Jane Roe", "24h", "1")
	for path, b := range map[string]*oidctest.Browser{"/standup/invite": ada, link: oidctest.NewBrowser(t)} {
		req, _ := http.NewRequest(http.MethodGet, e.url(path), nil)
		req.Header.Set("Accept-Language", "de-DE,de;q=0.9")
		resp := b.Do(t, req)
		page := body(t, resp)
		want := map[string]string{"/standup/invite": "Gast zu Daily stand-up einladen", link: "Sie sind zu Daily stand-up eingeladen"}[path]
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, want) || !strings.Contains(page, `lang="de"`) {
			t.Errorf("%s in German: %d, lacks %q:\n%.800s", path, resp.StatusCode, want, page)
		}
	}
}

// TestGuestRaceAcrossReplicas: two gateways share a real Redis; a crowd
// of browsers, half on each, race for an invitation of two browsers:
// exactly two enter.
func TestGuestRaceAcrossReplicas(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	replica := func() *env {
		st, err := store.OpenRedis(srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return newEnv(t, withRooms(guestRooms), withRevocations(store.NewRevocations(st, nil, nil)))
	}
	a, b := replica(), replica()
	for _, e := range []*env{a, b} {
		for deadline := time.Now().Add(3 * time.Second); !e.gw.revoked.Ready() && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
	}
	inv, token := NewInvitation("standup", "Jane Roe", store.Inviter{Name: "test"}, time.Now(), time.Hour, 2)
	if err := a.gw.Store().CreateInvitation(context.Background(), inv); err != nil {
		t.Fatal(err)
	}
	const crowd = 16
	codes := make(chan int, crowd)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range crowd {
		e := []*env{a, b}[i%2]
		wg.Go(func() {
			browser := oidctest.NewBrowser(t)
			browser.StopAt = oidctest.StopAtHost(roomHost)
			req, _ := http.NewRequest(http.MethodPost, e.url("/guest/"+token), strings.NewReader("name=Racer"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			<-start
			codes <- browser.Do(t, req).StatusCode
		})
	}
	close(start)
	wg.Wait()
	close(codes)
	entered, refused := 0, 0
	for c := range codes {
		switch c {
		case http.StatusSeeOther:
			entered++
		case http.StatusForbidden:
			refused++
		default:
			t.Errorf("a racer got %d", c)
		}
	}
	if entered != 2 || refused != crowd-2 {
		t.Errorf("%d entered, %d refused; want 2 and %d", entered, refused, crowd-2)
	}
}
