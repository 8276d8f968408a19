package demo

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/demo/idp"
	"github.com/roomgate/roomgate/gateway"
	"github.com/roomgate/roomgate/internal/team"
	"github.com/roomgate/roomgate/mapping"
)

// TestPeopleMatchRules holds each person's About line to what config.yaml's
// rules decide for them.
func TestPeopleMatchRules(t *testing.T) {
	t.Parallel()
	cfg, _, err := parseConfig("http://127.0.0.1:8080", ConfigFile, configYAML, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		role   string // "" means denied
		byRule bool   // a rule decided (false: no rule covered them)
	}
	tests := []struct {
		subject  string
		standup  outcome
		allHands outcome
	}{
		{"ada", outcome{"moderator", true}, outcome{"attendee", true}},
		{"ben", outcome{"attendee", true}, outcome{"attendee", true}},
		{"cleo", outcome{"", false}, outcome{"attendee", true}},
		{"dan", outcome{"", true}, outcome{"attendee", true}},
		{"eve", outcome{"", false}, outcome{"moderator", true}},
	}
	if len(tests) != len(People) {
		t.Fatalf("got %d people; the table has %d", len(People), len(tests))
	}
	for i, tt := range tests {
		p := People[i]
		if p.Subject != tt.subject {
			t.Fatalf("person %d is %q; want %q", i, p.Subject, tt.subject)
		}
		for _, room := range []struct {
			path string
			want outcome
		}{{"standup", tt.standup}, {"all-hands", tt.allHands}} {
			r, ok := cfg.Rules.Lookup(room.path)
			if !ok {
				t.Fatalf("no room %q", room.path)
			}
			d := r.Decide(mapping.NewPerson(p.Groups, p.Email))
			got := outcome{d.Role, d.Rule != nil}
			if !d.Allowed {
				got.role = ""
			}
			if got != room.want {
				t.Errorf("%s in %s: got %+v; want %+v", p.Name, room.path, got, room.want)
			}
		}
		if p.About == "" {
			t.Errorf("%s has no About line", p.Name)
		}
	}
}

// demoRun is a demo running on a free loopback port.
type demoRun struct {
	base string
	out  string
	stop func() error
}

// chanWriter hands each Write to a channel; Run writes its welcome once.
type chanWriter chan string

func (c chanWriter) Write(p []byte) (int, error) {
	c <- string(p)
	return len(p), nil
}

func startDemo(t *testing.T) *demoRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chanWriter, 1)
	done := make(chan error, 1)
	go func() { done <- Run(ctx, "127.0.0.1:0", "", nil, out) }()
	var welcome string
	select {
	case welcome = <-out:
	case err := <-done:
		cancel()
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("Run printed nothing in 10s")
	}
	base := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(welcome)
	if base == "" {
		cancel()
		t.Fatalf("no URL in the welcome text %q", welcome)
	}
	var stopped bool
	var stopErr error
	stop := func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(10 * time.Second):
				t.Error("Run did not return within 10s of its context ending")
			}
		}
		return stopErr
	}
	t.Cleanup(func() { stop() })
	return &demoRun{base: base, out: welcome, stop: stop}
}

// visitor is one browser: a cookie jar, and the URLs it went through.
type visitor struct {
	t      *testing.T
	client *http.Client
	hops   []string
}

func newVisitor(t *testing.T) *visitor {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	v := &visitor{t: t}
	v.client = &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Hostname() != "127.0.0.1" {
				t.Fatalf("redirected off loopback to %s", req.URL)
			}
			v.hops = append(v.hops, req.URL.Path)
			return nil
		}}
	return v
}

type page struct {
	status int
	path   string // where the redirects ended
	body   string
}

func (v *visitor) do(req *http.Request) page {
	v.t.Helper()
	v.hops = nil
	resp, err := v.client.Do(req)
	if err != nil {
		v.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		v.t.Fatal(err)
	}
	return page{resp.StatusCode, resp.Request.URL.Path, string(b)}
}

func (v *visitor) get(u string) page {
	v.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		v.t.Fatal(err)
	}
	return v.do(req)
}

// signIn opens target signed out, expects the demo's sign-in page, picks
// subject there, and returns where that ends.
func (v *visitor) signIn(base, target, subject string) page {
	v.t.Helper()
	pg := v.get(base + target)
	if pg.status != http.StatusOK || !strings.Contains(pg.body, "ACME staff") || !strings.Contains(pg.body, "Partner GmbH") {
		v.t.Fatalf("signed-out visit to %s: got status %d at %s; want the chooser of the two providers\n%s", target, pg.status, pg.path, pg.body)
	}
	provider, idpPath, people := "acme", "/demo/idp", People
	if slices.ContainsFunc(PartnerPeople, func(p idp.Person) bool { return p.Subject == subject }) {
		provider, idpPath, people = "partner", "/demo/partner-idp", PartnerPeople
	}
	pg = v.get(base + "/auth/login?" + url.Values{"next": {target}, "provider": {provider}}.Encode())
	if pg.status != http.StatusOK || pg.path != idpPath+"/login" {
		v.t.Fatalf("choosing %s for %s: got status %d at %s; want its sign-in page", provider, target, pg.status, pg.path)
	}
	for _, p := range people {
		if !strings.Contains(pg.body, p.Name) {
			v.t.Errorf("sign-in page lacks %q", p.Name)
		}
	}
	m := regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(pg.body)
	if m == nil {
		v.t.Fatalf("no request id on the sign-in page")
	}
	form := url.Values{"id": {m[1]}, "person": {subject}}
	req, err := http.NewRequest(http.MethodPost, base+idpPath+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base) // as a browser posting the form sends it
	return v.do(req)
}

func (v *visitor) sawProvider() bool {
	for _, h := range v.hops {
		if strings.HasPrefix(h, "/demo/idp/") || strings.HasPrefix(h, "/demo/partner-idp/") {
			return true
		}
	}
	return false
}

// TestRunFlow walks the demo as a newcomer would: open a room, pick a
// person, land in the room stand-in with the right role or on the 403
// page; a second room goes straight through.
func TestRunFlow(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	for _, want := range []string{d.base + "/ ", d.base + "/standup", "/demo/idp ", "/demo/room "} {
		if !strings.Contains(d.out, want) {
			t.Errorf("welcome text lacks %q:\n%s", want, d.out)
		}
	}

	tests := []struct {
		subject    string
		room       string
		wantStatus int
		wantPath   string
		wantRole   string
		wantRule   string // the room page's "Decided by" line, as text
		then       string // a second room, entered without the provider
		thenRole   string
		thenRule   string
	}{
		{subject: "ada", room: "/standup", wantStatus: 200, wantPath: "/demo/room/daily-standup", wantRole: "moderator",
			wantRule: decidedBy(t, "standup", 1, `admits group "eng-leads" as moderator`),
			then:     "/all-hands", thenRole: "attendee", thenRule: decidedBy(t, "all-hands", 1, "admits everyone as attendee")},
		{subject: "ben", room: "/standup", wantStatus: 200, wantPath: "/demo/room/daily-standup", wantRole: "attendee",
			wantRule: decidedBy(t, "standup", 2, `admits group "eng-backend" (matches "eng-*") as attendee`)},
		{subject: "cleo", room: "/standup", wantStatus: 403, wantPath: "/standup",
			then: "/all-hands", thenRole: "attendee", thenRule: decidedBy(t, "all-hands", 1, "admits everyone as attendee")},
		{subject: "dan", room: "/standup", wantStatus: 403, wantPath: "/standup",
			then: "/all-hands", thenRole: "attendee", thenRule: decidedBy(t, "all-hands", 1, "admits everyone as attendee")},
		{subject: "eve", room: "/all-hands", wantStatus: 200, wantPath: "/demo/room/all-hands", wantRole: "moderator",
			wantRule: decidedBy(t, "all-hands", 0, `admits group "leadership" as moderator`)},
		// The partner's eng-leads is not ACME's.
		{subject: "pia", room: "/standup", wantStatus: 200, wantPath: "/demo/room/daily-standup", wantRole: "attendee",
			wantRule: decidedBy(t, "standup", 3, `admits group "partner:eng-leads" as attendee`),
			then:     "/partner-sync", thenRole: "moderator", thenRule: decidedBy(t, "partner-sync", 0, `admits group "partner:eng-leads" as moderator`)},
	}
	for _, tt := range tests {
		t.Run(tt.subject, func(t *testing.T) {
			t.Parallel()
			v := newVisitor(t)
			pg := v.signIn(d.base, tt.room, tt.subject)
			if pg.status != tt.wantStatus || pg.path != tt.wantPath {
				t.Fatalf("%s after sign-in: got status %d at %s; want %d at %s\n%s", tt.room, pg.status, pg.path, tt.wantStatus, tt.wantPath, pg.body)
			}
			if strings.Contains(pg.body, "token=") {
				t.Errorf("the page shows a token")
			}
			if tt.wantRole != "" {
				if want := `id="role">` + tt.wantRole + "<"; !strings.Contains(pg.body, want) {
					t.Errorf("room page lacks %q:\n%s", want, pg.body)
				}
				if want := `<p id="decided">` + template.HTMLEscapeString(tt.wantRule) + "</p>"; !strings.Contains(pg.body, want) {
					t.Errorf("room page lacks %q:\n%s", want, pg.body)
				}
				if !strings.Contains(pg.body, `<a href="`+d.base+`/">Back to your rooms</a>`) || !strings.Contains(pg.body, `name="viewport"`) || strings.Contains(pg.body, `"></dd>`) {
					t.Errorf("room page: want a viewport, a link back to the rooms and no empty rows:\n%s", pg.body)
				}
			}
			if tt.then == "" {
				return
			}
			pg = v.get(d.base + tt.then)
			if pg.status != http.StatusOK || !strings.HasPrefix(pg.path, "/demo/room/") {
				t.Fatalf("second room %s: got status %d at %s; want 200 in the room stand-in", tt.then, pg.status, pg.path)
			}
			if v.sawProvider() {
				t.Errorf("second room went through the provider again: %v", v.hops)
			}
			if want := `id="role">` + tt.thenRole + "<"; !strings.Contains(pg.body, want) {
				t.Errorf("room page lacks %q", want)
			}
			if want := `<p id="decided">` + template.HTMLEscapeString(tt.thenRule) + "</p>"; !strings.Contains(pg.body, want) {
				t.Errorf("room page lacks %q:\n%s", want, pg.body)
			}
		})
	}
}

// TestRunSignOut: the start page's sign-out ends the session here and at
// the built-in provider, which sends the browser back to the gateway's
// signed-out page; the next room asks who you are again.
func TestRunSignOut(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	v := newVisitor(t)
	if pg := v.signIn(d.base, "/", "ada"); pg.status != http.StatusOK || pg.path != "/" {
		t.Fatalf("sign-in to /: got status %d at %s; want 200 at /", pg.status, pg.path)
	}
	req, err := http.NewRequest(http.MethodPost, d.base+"/auth/logout", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", d.base)
	pg := v.do(req)
	if pg.status != http.StatusOK || pg.path != "/auth/signed-out" {
		t.Fatalf("sign-out: got status %d at %s; want 200 at /auth/signed-out\nhops: %v\n%s", pg.status, pg.path, v.hops, pg.body)
	}
	if !v.sawProvider() {
		t.Errorf("sign-out did not pass the provider's end-session endpoint: %v", v.hops)
	}
	if !strings.Contains(pg.body, "signed out") {
		t.Errorf("signed-out page: got %q; want it to say so", pg.body)
	}
	// signIn fails unless the room sends the browser to the sign-in page.
	if pg := v.signIn(d.base, "/standup", "dan"); pg.status != http.StatusForbidden {
		t.Errorf("Dan at /standup: got %d at %s; want 403", pg.status, pg.path)
	}
}

// decidedBy is the room page's line for rule i of the room at path: the
// rule's place is read from config.yaml, what it says is the caller's.
func decidedBy(t *testing.T, path string, i int, says string) string {
	t.Helper()
	cfg, _, err := parseConfig("http://127.0.0.1:8080", ConfigFile, configYAML, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r, ok := cfg.Rules.Lookup(path)
	if !ok || i >= len(r.Rules) {
		t.Fatalf("no rule %d in room %q", i, path)
	}
	return fmt.Sprintf("Decided by the rule at %s (rules[%d], counting from 0): %s", r.Rules[i].Pos, i, says)
}

// TestRunReady: the gateway discovers the built-in provider by itself.
func TestRunReady(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(d.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz not 200 within 10s (last: %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := d.stop(); err != nil {
		t.Errorf("Run after its context ended: got %v; want nil", err)
	}
	if _, err := http.Get(d.base + "/healthz"); err == nil {
		t.Errorf("still serving after Run returned")
	}
}

func TestRunBusyAddress(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = Run(context.Background(), ln.Addr().String(), "", nil, io.Discard)
	if err == nil || !strings.HasPrefix(err.Error(), "demo: ") {
		t.Errorf("got %v; want a demo: error", err)
	}
}

func TestBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		want string
	}{
		{"127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"0.0.0.0:8080", "http://127.0.0.1:8080"},
		{"[::]:8080", "http://127.0.0.1:8080"},
		{"[::1]:9000", "http://[::1]:9000"},
		{"192.0.2.7:80", "http://192.0.2.7:80"},
	}
	for _, tt := range tests {
		a, err := net.ResolveTCPAddr("tcp", tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := baseURL(a); got != tt.want {
			t.Errorf("baseURL(%s) = %q; want %q", tt.addr, got, tt.want)
		}
	}
}

// TestRunTeamAPI: the welcome text names a configuration file that check
// -remote and sync read against the demo's own team API: the all-hands
// room is public, the retro's room does not exist, and the plan mends both.
func TestRunTeamAPI(t *testing.T) {
	t.Parallel()
	d := startDemo(t)
	i := strings.Index(d.out, "check -remote -config ")
	if i < 0 {
		t.Fatalf("the welcome text prints no check -remote command:\n%s", d.out)
	}
	path := strings.Fields(d.out[i+len("check -remote -config "):])[0]
	cfg, err := config.Load(path, config.Options{Reserved: gateway.ReservedPaths()})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	ctx := context.Background()
	st, err := team.Read(ctx, team.Client(cfg))
	if err != nil {
		t.Fatal(err)
	}
	problems, _ := team.Check(cfg, st)
	if !strings.Contains(problems.Error(), `"all-hands" is public`) || !strings.Contains(problems.Error(), `no room "sprint-retro"`) {
		t.Errorf("check -remote against the demo's team:\n%v", problems)
	}
	plan := team.MakePlan(cfg, st)
	if _, err := team.Apply(ctx, team.Client(cfg), plan); err != nil || len(plan.Steps) != 2 {
		t.Fatalf("sync -apply: %d steps, %v", len(plan.Steps), err)
	}
	st, _ = team.Read(ctx, team.Client(cfg))
	if problems, _ := team.Check(cfg, st); len(problems) != 0 {
		t.Errorf("after sync: %v", problems)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v, mode %v; want a file only its owner reads", path, err, info.Mode())
	}
}

// TestSelfCommand: the demo prints commands as the person can run them.
func TestSelfCommand(t *testing.T) {
	t.Parallel()
	for arg0, want := range map[string]string{
		"/tmp/go-build123456/b001/exe/roomgate": "go run .",
		"roomgate":                              "roomgate",
		"./roomgate":                            "./roomgate",
		"/opt/roomgate/bin/roomgate":            "/opt/roomgate/bin/roomgate",
	} {
		if got := selfCommand(arg0); got != want {
			t.Errorf("selfCommand(%q) = %q; want %q", arg0, got, want)
		}
	}
}

// TestDemoServesYourFile: demo -config serves the file given, refuses an
// invalid one with its problems, and reloads the rooms when the file
// changes, so that a newcomer edits and watches.
func TestDemoServesYourFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, configYAML, 0o600); err != nil {
		t.Fatal(err)
	}
	h, gw, cfg, vars, err := build("http://127.0.0.1:8080", path, configYAML, dir, slog.New(slog.DiscardHandler))
	if err != nil || h == nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := watcher(path, cfg, vars, gw, nil)
	go w.Run(ctx)
	<-w.Watching()
	extra := "  - path: book-club\n    room: book-club\n    rules:\n      - everyone: true\n        role: attendee\n"
	changed := strings.Replace(string(configYAML), "rooms:\n", "rooms:\n"+extra, 1)
	if err := os.WriteFile(path, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := gw.Rules().Lookup("book-club"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a room added to the file was not served within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}

	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(strings.Replace(string(configYAML), "role: moderator", "role: moderater", 1)), 0o600)
	err = Run(context.Background(), "127.0.0.1:0", bad, nil, io.Discard)
	if ps := mapping.AsProblems(err); len(ps) == 0 || !strings.Contains(err.Error(), bad+":") {
		t.Errorf("an invalid file: %v; want its problems, at its lines", err)
	}
}
