package gateway

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/internal/metrics"
	"github.com/roomgate/roomgate/internal/oidctest"
	"github.com/roomgate/roomgate/internal/store"
)

const (
	testDeveloperKey = "test-developer-key-0123456789abcdef"
	testSessionKey   = "test-session-secret-0123456789abcdefghij"
	testTeam         = "team-0001"
	roomHost         = "acme.digitalsamba.example"
)

// testRooms is the rule set most tests use.
const testRooms = `
  - path: standup
    room: daily-standup
    title: "Daily stand-up"
    rules:
      - groups: [eng-leads]
        role: moderator
      - emails: ["*@contractor.example"]
        deny: true
      - groups: [engineering, "eng-*"]
        role: attendee
  - path: all-hands
    room: 7f9c2b1e-0000-4000-8000-000000000001
    title: "All hands"
    rules:
      - groups: [leadership]
        role: moderator
      - everyone: true
        role: attendee
`

// clock is a settable time shared by the gateway and the provider.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is one gateway in front of one in-process provider.
type env struct {
	t        *testing.T
	provider *oidctest.Provider
	gw       *Server
	srv      *httptest.Server
	clock    *clock
	logs     *syncBuffer
	cfg      *config.Config
	// partner is the second provider of an env made withPartner: id
	// partner, issuer of its own, vouching for partner.example; the
	// first (provider) is then the primary acme, vouching for acme.com.
	partner *oidctest.Provider
}

type envOption func(*envConfig)

type envConfig struct {
	rooms    string
	adjust   func(*config.Config) // changes the parsed config before the gateway starts
	prefix   string               // public_url's path: where the gateway is mounted
	provider []oidctest.Option
	partner  bool
	metrics  *metrics.Metrics
	revoked  *store.Revocations
	extra    string // top-level sections after rooms (admin:, ...)
}

// withRevocations gives the gateway this view of a store; the env runs it.
func withRevocations(v *store.Revocations) envOption { return func(c *envConfig) { c.revoked = v } }

func withRooms(rooms string) envOption { return func(c *envConfig) { c.rooms = rooms } }

// withPrefix mounts the gateway under a path: public_url ends with it.
func withPrefix(prefix string) envOption { return func(c *envConfig) { c.prefix = prefix } }

// withPartner gives the gateway a second provider (env.partner).
func withPartner() envOption { return func(c *envConfig) { c.partner = true } }

// withConfig changes the parsed configuration before the gateway starts.
func withConfig(adjust func(*config.Config)) envOption {
	return func(c *envConfig) { c.adjust = adjust }
}

func withMetrics(m *metrics.Metrics) envOption { return func(c *envConfig) { c.metrics = m } }

func withProviderOptions(opts ...oidctest.Option) envOption {
	return func(c *envConfig) { c.provider = append(c.provider, opts...) }
}

// newEnv starts a provider and a gateway configured through the real
// config parser.
func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	ec := envConfig{rooms: testRooms}
	for _, o := range opts {
		o(&ec)
	}
	clk := &clock{now: time.Now().Truncate(time.Second)}
	p := oidctest.New(t, append([]oidctest.Option{oidctest.WithNow(clk.Now)}, ec.provider...)...)
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	p.SetRedirectURI(base + ec.prefix + "/auth/callback")

	file := configText(srv.Listener.Addr().String()+ec.prefix, p, ec.rooms) + ec.extra
	var partner *oidctest.Provider
	if ec.partner {
		partner = oidctest.New(t, append([]oidctest.Option{oidctest.WithNow(clk.Now)}, ec.provider...)...)
		partner.SetRedirectURI(base + ec.prefix + "/auth/callback/partner")
		file = stripSection(file, "oidc:") + fmt.Sprintf(`providers:
  - id: acme
    title: "ACME staff"
    email_domains: [acme.com]
    client_id: %q
    client_secret: %q
    issuer: %q
  - id: partner
    title: "Partner GmbH"
    email_domains: [partner.example]
    client_id: %q
    client_secret: %q
    issuer: %q
`, p.ClientID(), p.ClientSecret(), p.Issuer(), partner.ClientID(), partner.ClientSecret(), partner.Issuer())
	}
	cfg, err := config.Parse("config.yaml", []byte(file), config.Options{Reserved: ReservedPaths()})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	if ec.adjust != nil {
		ec.adjust(cfg)
	}
	logs := &syncBuffer{}
	gw, err := New(cfg, Deps{
		Logger:      slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		HTTPClient:  p.Client(),
		Now:         clk.Now,
		Metrics:     ec.metrics,
		Revocations: ec.revoked,
	})
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	if ec.revoked != nil {
		ctx, cancel := context.WithCancel(context.Background())
		go ec.revoked.Run(ctx)
		t.Cleanup(cancel)
	}
	srv.Config.Handler = gw
	srv.Start()
	t.Cleanup(srv.Close)
	return &env{t: t, provider: p, partner: partner, gw: gw, srv: srv, clock: clk, logs: logs, cfg: cfg}
}

// stripSection removes the top-level section that starts with the line
// name, up to the next top-level key (the primary's oidc:, which
// withPartner puts under providers: instead).
func stripSection(file, name string) string {
	var out []string
	skipping := false
	for _, line := range strings.Split(file, "\n") {
		switch {
		case line == name:
			skipping = true
			continue
		case skipping && (line == "" || line[0] == ' '):
			continue
		}
		skipping = false
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// user returns a provider user with groups and email in the ID token.
func user(sub, email string, groups ...string) oidctest.User {
	claims := map[string]any{"name": strings.ToUpper(sub[:1]) + sub[1:] + " Tester", "email": email}
	if groups != nil {
		claims["groups"] = groups
	}
	return oidctest.User{Subject: sub, Claims: claims}
}

// browser returns a browser that stops at the Digital Samba room host.
func (e *env) browser() *oidctest.Browser {
	b := oidctest.NewBrowser(e.t)
	b.StopAt = oidctest.StopAtHost(roomHost)
	return b
}

// url is an absolute URL of the gateway.
func (e *env) url(path string) string { return e.srv.URL + path }

// enter opens a room path in b and returns the final response and hops.
func (e *env) enter(b *oidctest.Browser, path string) (*http.Response, []*url.URL) {
	e.t.Helper()
	return b.Follow(e.t, e.url(path))
}

// roomToken checks that resp sends the browser into a Digital Samba room and
// returns the verified token's claims.
func (e *env) roomToken(resp *http.Response, wantRoom string) *roomClaims {
	t := e.t
	t.Helper()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d; want 302 into the room (body: %.300s)", resp.StatusCode, body(t, resp))
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("no Location: %v", err)
	}
	if loc.Scheme != "https" || loc.Host != roomHost || loc.Path != "/"+wantRoom {
		t.Fatalf("redirect to %s; want https://%s/%s", loc, roomHost, wantRoom)
	}
	var claims roomClaims
	_, err = jwt.ParseWithClaims(loc.Query().Get("token"), &claims, func(*jwt.Token) (any, error) {
		return []byte(testDeveloperKey), nil
	}, jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(e.clock.Now))
	if err != nil {
		t.Fatalf("room token does not verify with the developer key: %v", err)
	}
	return &claims
}

// wantRoleOrPage checks one of a table's two outcomes: with a role, resp
// enters room with it; without one, resp is the page of that status and
// text, and does not send the browser into a room.
func (e *env) wantRoleOrPage(resp *http.Response, room, role string, code int, text string) {
	t := e.t
	t.Helper()
	if role != "" {
		if tok := e.roomToken(resp, room); tok.Role != role {
			t.Errorf("role %q; want %q", tok.Role, role)
		}
		return
	}
	if resp.StatusCode != code {
		t.Fatalf("status %d; want %d (body %.300s)", resp.StatusCode, code, body(t, resp))
	}
	if page := body(t, resp); !strings.Contains(page, text) {
		t.Errorf("page lacks %q:\n%s", text, page)
	}
	if loc, err := resp.Location(); err == nil && loc.Host == roomHost {
		t.Errorf("sent into the room: %s", loc)
	}
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	resp.Body = readCloser{bytes.NewReader(b.Bytes())}
	return b.String()
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func first(resp *http.Response, _ []*url.URL) *http.Response { return resp }

func mustGet(t *testing.T, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// configText is a whole configuration file for a gateway reached at
// http://host, signing in at p, with these rooms: the file newEnv builds.
func configText(host string, p *oidctest.Provider, rooms string) string {
	return fmt.Sprintf(`server:
  public_url: "http://%s"
  contact: "the test desk"
oidc:
  issuer: %q
  client_id: %q
  client_secret: %q
  scopes: [openid, profile, email, groups]
session:
  secret: %q
  lifetime: 8h
  recheck: 10m
digitalsamba:
  team_id: %q
  url: "https://%s"
  developer_key: %q
  token_ttl: 2m
  roles: [moderator, speaker, attendee]
rooms:%s`, host, p.Issuer(), p.ClientID(), p.ClientSecret(), testSessionKey, testTeam, roomHost, testDeveloperKey, rooms)
}
