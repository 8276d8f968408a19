package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomgate/roomgate/internal/testconfig"
	"github.com/roomgate/roomgate/mapping"
)

// validFile is the shared test configuration, with two trusted proxies.
var validFile = strings.Replace(testconfig.File(`  - path: standup
    room: daily-standup
    rules:
      - groups: [eng]
        role: attendee
`), "  public_url: \"https://meet.example.com\"\n", "  public_url: \"https://meet.example.com\"\n  trusted_proxies: [\"10.1.0.0/16\", \"192.168.1.7\"]\n", 1)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

var goodEnv = testconfig.Env

func TestParseValid(t *testing.T) {
	t.Parallel()
	cfg, err := Parse("config.yaml", []byte(validFile), Options{LookupEnv: goodEnv})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got, want := cfg.Server.PublicURL.String(), "https://meet.example.com"; got != want {
		t.Errorf("public_url = %q; want %q", got, want)
	}
	if got := len(cfg.Server.TrustedProxies); got != 2 {
		t.Errorf("trusted_proxies: got %d; want 2", got)
	}
	if got, want := cfg.OIDC.ClientSecret, "client-secret"; got != want {
		t.Errorf("client_secret = %q; want %q", got, want)
	}
	if got, want := strings.Join(cfg.OIDC.Scopes, ","), "openid,profile,email,groups"; got != want {
		t.Errorf("default scopes = %q; want %q", got, want)
	}
	if cfg.OIDC.Claims.UserID != "sub" || cfg.OIDC.Claims.Groups != "groups" {
		t.Errorf("default claims = %+v", cfg.OIDC.Claims)
	}
	if cfg.Session.Lifetime != 8*time.Hour || cfg.Session.Recheck != 10*time.Minute {
		t.Errorf("session defaults = %v, %v; want 8h, 10m", cfg.Session.Lifetime, cfg.Session.Recheck)
	}
	if cfg.DigitalSamba.TokenTTL != 2*time.Minute {
		t.Errorf("token_ttl default = %v; want 2m", cfg.DigitalSamba.TokenTTL)
	}
	if _, ok := cfg.Rules.Lookup("standup"); !ok {
		t.Errorf("room standup not found")
	}
}

// TestParseProblems checks that every problem of a file comes out of one
// run, each with file:line and field path.
func TestParseProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		env  map[string]string
		want []string
	}{
		{
			name: "many problems at once",
			file: `server:
  public_url: "meet.example.com/x"
  listne: ":80"
oidc:
  issuer: "https://login.example.com"
  client_id: roomgate
  client_secret: "${MISSING_SECRET}"
  scopes: [profile]
session:
  secret: "short"
  recheck: 10h
digitalsamba:
  team_id: t
  url: "https://acme.digitalsamba.com/"
  developer_key: k
  token_ttl: 5
rooms:
  - path: standup
    room: r
    rules:
      - groups: [eng]
        role: moderater
`,
			want: []string{
				`config.yaml:2: server.public_url: want an absolute http or https URL such as https://meet.example.com, found "meet.example.com/x"`,
				`config.yaml:3: server.listne: unknown field (known: listen, public_url, trusted_proxies, contact, brand, languages, metrics_listen)`,
				`config.yaml:7: oidc.client_secret: environment variable MISSING_SECRET is not set`,
				`config.yaml:8: oidc.scopes: must include "openid"`,
				`config.yaml:10: session.secret: too short; want at least 32 bytes (e.g. openssl rand -base64 48)`,
				`config.yaml:11: session.recheck: want a duration above 0 and at most lifetime (8h0m0s), found 10h0m0s`,
				`config.yaml:16: digitalsamba.token_ttl: want a duration such as 90s, 10m or 8h, found "5"`,
				`config.yaml:22: rooms[0].rules[0].role: "moderater" is not a role of this team (known: moderator, speaker, attendee)`,
			},
		},
		{
			name: "missing sections",
			file: "rooms: []\n",
			want: []string{
				`config.yaml: server.public_url: missing; want an absolute URL such as https://meet.example.com`,
				`config.yaml: oidc.issuer: missing`,
				`config.yaml: oidc.client_id: missing`,
				`config.yaml: oidc.client_secret: missing`,
				`config.yaml: session.secret: missing; want a random secret of at least 32 bytes, e.g. from ${SESSION_SECRET}`,
				`config.yaml: digitalsamba.team_id: missing`,
				`config.yaml: digitalsamba.developer_key: missing`,
				`config.yaml: digitalsamba.url: missing; want an absolute URL such as https://meet.example.com`,
			},
		},
		{
			name: "one of several secrets too short",
			file: strings.Replace(validFile, `secret: "${SESSION_SECRET}"`, "secret:\n    - \"${SESSION_SECRET}\"\n    - tiny", 1),
			want: []string{`config.yaml:11: session.secret[1]: too short; want at least 32 bytes (e.g. openssl rand -base64 48)`},
		},
		{
			name: "not yaml",
			file: "server: [\n",
			want: []string{`config.yaml:1: not valid YAML: did not find expected node content`},
		},
		{
			name: "two stores",
			file: validFile + "store:\n  sqlite:\n    path: /var/lib/roomgate/roomgate.db\n  redis:\n    url: redis://redis:6379/0\n",
			want: []string{`config.yaml:22: store: choose one of sqlite (one host) and redis (several replicas)`},
		},
		{
			name: "sqlite without a path",
			file: validFile + "store:\n  sqlite: {}\n",
			want: []string{`config.yaml:21: store.sqlite.path: required: the database file, in a folder that exists (remove store to keep revocations in the process)`},
		},
		{
			name: "unknown top-level key",
			file: validFile + "room:\n  - path: x\n",
			want: []string{`config.yaml:20: room: unknown field (known: server, oidc, providers, session, digitalsamba, store, admin, decisions, rooms, tests)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lookup := goodEnv
			if tt.env != nil {
				lookup = env(tt.env)
			}
			_, err := Parse("config.yaml", []byte(tt.file), Options{LookupEnv: lookup})
			ps := mapping.AsProblems(err)
			if ps == nil {
				t.Fatalf("Parse: got %v; want problems", err)
			}
			got := strings.Split(ps.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestEnvCannotChangeStructure: a variable's value is a value, even when it
// looks like YAML.
func TestEnvCannotChangeStructure(t *testing.T) {
	t.Parallel()
	lookup := env(map[string]string{
		"OIDC_CLIENT_SECRET": "x\nrooms: []\n",
		"SESSION_SECRET":     strings.Repeat("s", 32),
		"DS_DEVELOPER_KEY":   "[not, a, list]",
	})
	cfg, err := Parse("config.yaml", []byte(validFile), Options{LookupEnv: lookup})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got, want := cfg.OIDC.ClientSecret, "x\nrooms: []\n"; got != want {
		t.Errorf("client_secret = %q; want %q", got, want)
	}
	if got, want := cfg.DigitalSamba.DeveloperKey, "[not, a, list]"; got != want {
		t.Errorf("developer_key = %q; want %q", got, want)
	}
	if len(cfg.Rules.Rooms()) != 1 {
		t.Errorf("rooms changed through an environment variable")
	}
}

// TestProblemsNeverShowSecrets: a rejected secret is named, never shown.
func TestProblemsNeverShowSecrets(t *testing.T) {
	t.Parallel()
	secret := "hunter2-but-too-short"
	lookup := env(map[string]string{"OIDC_CLIENT_SECRET": "c", "SESSION_SECRET": secret, "DS_DEVELOPER_KEY": "k"})
	_, err := Parse("config.yaml", []byte(validFile), Options{LookupEnv: lookup})
	if err == nil {
		t.Fatal("Parse accepted a short session secret")
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "21") {
		t.Errorf("problem text reveals the secret or its length: %v", err)
	}
}

// TestProviderQuirkKeys: oidc.claims.group_names and oidc.entra take only
// the words they know, with defaults when absent.
func TestProviderQuirkKeys(t *testing.T) {
	t.Parallel()
	oidc := "  client_secret: \"${OIDC_CLIENT_SECRET}\"\n"
	tests := []struct {
		name           string
		extra          string // added to the oidc section
		wantGroupNames string
		wantOverage    string
		wantGraph      string
		wantProblem    string
	}{
		{"defaults", "", GroupNamesFull, OverageRefuse, "https://graph.microsoft.com", ""},
		{"last segment", "  claims:\n    group_names: last\n", GroupNamesLast, OverageRefuse, "https://graph.microsoft.com", ""},
		{"graph in a national cloud", "  entra:\n    overage: graph\n    graph_url: https://graph.microsoft.us\n", GroupNamesFull, OverageGraph, "https://graph.microsoft.us", ""},
		{"unknown group_names", "  claims:\n    group_names: first\n", "", "", "",
			`config.yaml:9: oidc.claims.group_names: want one of full, last, found "first"`},
		{"group_names is a list", "  claims:\n    group_names: [full]\n", "", "", "",
			`config.yaml:9: oidc.claims.group_names: want a text value, found a list`},
		{"unknown overage", "  entra:\n    overage: ignore\n", "", "", "",
			`config.yaml:9: oidc.entra.overage: want one of refuse, graph, found "ignore"`},
		{"graph_url with a path", "  entra:\n    graph_url: https://graph.microsoft.com/v1.0\n", "", "", "",
			`config.yaml:9: oidc.entra.graph_url: want a URL without a path, found "https://graph.microsoft.com/v1.0"`},
		{"unknown entra key", "  entra:\n    tenant: x\n", "", "", "",
			`config.yaml:9: oidc.entra.tenant: unknown field (known: overage, graph_url)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := strings.Replace(validFile, oidc, oidc+tt.extra, 1)
			cfg, err := Parse("config.yaml", []byte(file), Options{LookupEnv: goodEnv})
			if tt.wantProblem != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantProblem) {
					t.Fatalf("Parse: got %v; want the problem %q", err, tt.wantProblem)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := cfg.OIDC.Claims.GroupNames; got != tt.wantGroupNames {
				t.Errorf("group_names = %q; want %q", got, tt.wantGroupNames)
			}
			if got := cfg.OIDC.Entra.Overage; got != tt.wantOverage {
				t.Errorf("entra.overage = %q; want %q", got, tt.wantOverage)
			}
			if got := cfg.OIDC.Entra.GraphURL.String(); got != tt.wantGraph {
				t.Errorf("entra.graph_url = %q; want %q", got, tt.wantGraph)
			}
		})
	}
}

// TestClearTextURLs: an http:// URL that would carry room tokens, codes,
// secrets or bearer tokens across a network is refused unless its section
// says insecure_http: true; loopback is fine; an http:// public_url is a
// warning.
func TestClearTextURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		from, to    string
		wantProblem string // "" when the file is valid
		wantWarning string
	}{
		{"room tokens in clear", `url: "https://acme.digitalsamba.com"`, `url: "http://acme.digitalsamba.com"`, "digitalsamba.url: http:// sends every room token in clear", ""},
		{"room tokens, switch set", `url: "https://acme.digitalsamba.com"`, "url: \"http://acme.digitalsamba.com\"\n  insecure_http: true", "", ""},
		{"room tokens on loopback", `url: "https://acme.digitalsamba.com"`, `url: "http://127.0.0.1:9000"`, "", ""},
		{"issuer in clear", `issuer: "https://login.example.com/realms/acme"`, `issuer: "http://login.example.com/realms/acme"`, "oidc.issuer: http:// sends codes, tokens and the client secret in clear", ""},
		{"issuer, switch set", `issuer: "https://login.example.com/realms/acme"`, "issuer: \"http://login.example.com/realms/acme\"\n  insecure_http: true", "", ""},
		{"issuer on localhost", `issuer: "https://login.example.com/realms/acme"`, `issuer: "http://localhost:5556/dex"`, "", ""},
		{"graph in clear", "client_id: roomgate\n", "client_id: roomgate\n  entra: {graph_url: \"http://graph.example\"}\n", "oidc.entra.graph_url: http:// sends bearer tokens in clear", ""},
		{"public_url in clear", `public_url: "https://meet.example.com"`, `public_url: "http://meet.example.com"`, "", "server.public_url: http:// on meet.example.com"},
		{"public_url on loopback", `public_url: "https://meet.example.com"`, `public_url: "http://127.0.0.1:8080"`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := strings.Replace(validFile, tt.from, tt.to, 1)
			if file == validFile {
				t.Fatalf("%q is not in the file", tt.from)
			}
			cfg, err := Parse("config.yaml", []byte(file), Options{LookupEnv: goodEnv})
			if tt.wantProblem != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantProblem) {
					t.Fatalf("got %v; want a problem %q", err, tt.wantProblem)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			warnings := cfg.Warnings.Error()
			if tt.wantWarning == "" && len(cfg.Warnings) > 0 || !strings.Contains(warnings, tt.wantWarning) {
				t.Errorf("warnings %q; want %q", warnings, tt.wantWarning)
			}
		})
	}
}

// TestExampleIsValid: config.example.yaml, which documents every key, is a
// valid file whose rule tests pass.
func TestExampleIsValid(t *testing.T) {
	t.Parallel()
	cfg, err := Load("../config.example.yaml", Options{LookupEnv: goodEnv})
	if err != nil {
		t.Fatalf("config.example.yaml: %v", err)
	}
	if len(cfg.Tests) == 0 || cfg.Rules.Rooms()[1].Open == nil {
		t.Errorf("config.example.yaml shows no rule tests or no opening hours")
	}
}

// TestBrandLogoSameOrigin: the logo must come from public_url's origin,
// which the pages' CSP allows.
func TestBrandLogoSameOrigin(t *testing.T) {
	t.Parallel()
	for logo, ok := range map[string]bool{"/assets/logo.svg": true, "https://meet.example.com/logo.png": true,
		"https://cdn.example.net/logo.png": false, "//evil.example/x.png": false, "javascript:alert(1)": false, "logo.png": false,
		// Browsers read a backslash as a slash and drop tabs and newlines.
		`/\evil.example/x.png`: false, `/\\evil.example`: false, `/%09/evil.example`: true, "/\t/evil.example": false, "/\n/evil.example": false} {
		file := strings.Replace(validFile, "  trusted_proxies:", "  brand: {name: Acme, logo: \""+strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`).Replace(logo)+"\"}\n  trusted_proxies:", 1)
		_, err := Parse("config.yaml", []byte(file), Options{LookupEnv: goodEnv})
		if (err == nil) != ok {
			t.Errorf("logo %q: got %v; want accepted %v", logo, err, ok)
		}
	}
}

// TestTrustedProxiesWarning: a trusted range as wide as a whole network
// lets any client in it choose the address that logs and throttles see.
func TestTrustedProxiesWarning(t *testing.T) {
	t.Parallel()
	for proxies, want := range map[string]bool{
		`["10.0.0.0/8"]`: true, `["0.0.0.0/0"]`: true, `["::/0"]`: true, `["192.168.1.7", "2001:db8::/32"]`: true,
		`["10.244.0.0/16"]`: false, `["192.168.1.7"]`: false, `["2001:db8:1::/48"]`: false, `[]`: false,
	} {
		file := regexp.MustCompile(`(?m)^  trusted_proxies: .*$`).ReplaceAllString(validFile, "  trusted_proxies: "+proxies)
		cfg, err := Parse("config.yaml", []byte(file), Options{LookupEnv: goodEnv})
		if err != nil {
			t.Fatalf("%s: %v", proxies, err)
		}
		got := strings.Contains(cfg.Warnings.Error(), "server.trusted_proxies[")
		if got != want {
			t.Errorf("trusted_proxies %s: warned %v; want %v (%v)", proxies, got, want, cfg.Warnings)
		}
		if want && !strings.Contains(cfg.Warnings.Error(), "config.yaml:") {
			t.Errorf("trusted_proxies %s: the warning has no file:line: %v", proxies, cfg.Warnings)
		}
	}
}

// TestRoomsAndTheEnvironment: a room's ${VAR} is read like any other, and
// a room's problem has its own line, whatever YAML style the room is in.
func TestRoomsAndTheEnvironment(t *testing.T) {
	t.Parallel()
	room := "  - path: p%d\n    room: r%d\n    title: %s\n    rules:\n      - groups: [eng]\n        role: %s\n"
	rooms := func(title2, role3 string) string {
		return fmt.Sprintf(room, 1, 1, "one", "attendee") + fmt.Sprintf(room, 2, 2, title2, "moderator") +
			fmt.Sprintf(room, 3, 3, "three", role3) + "tests:\n  - name: t\n    person: {groups: [eng]}\n    expect: {p1: attendee}\n"
	}
	head, _, _ := strings.Cut(validFile, "  - path: standup")
	lookup := env(map[string]string{
		"OIDC_CLIENT_SECRET": "client-secret",
		"SESSION_SECRET":     strings.Repeat("s", 32),
		"DS_DEVELOPER_KEY":   "developer-key",
	})
	_, err := Parse("config.yaml", []byte(head+rooms("\"${NOT_SET}\"", "attendee")), Options{LookupEnv: lookup})
	if want := "config.yaml:23: rooms[1].title: environment variable NOT_SET is not set"; err == nil || err.Error() != want {
		t.Errorf("a room's unset variable: %v; want %s", err, want)
	}
	cfg, err := Parse("config.yaml", []byte(head+rooms(">-\n      folded\n      title", "attendee")), Options{LookupEnv: lookup})
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := cfg.Rules.Lookup("p2"); !ok || r.Title != "folded title" {
		t.Errorf("the folded title: %+v; want folded title", r)
	}
	_, err = Parse("config.yaml", []byte(head+rooms("|\n      literal", "guest")), Options{LookupEnv: lookup})
	if err == nil || !strings.Contains(err.Error(), "config.yaml:33: rooms[2].rules[0].role") {
		t.Errorf("a problem after a literal block: %v; want it at config.yaml:33", err)
	}
}

// TestAliasesCannotMultiplyAFile: a few kilobytes of aliases to aliases
// ("billion laughs") are refused by the parse that check, start and reload
// share, with the alias's line; reusing a list in many rooms is not.
func TestAliasesCannotMultiplyAFile(t *testing.T) {
	t.Parallel()
	head, _, _ := strings.Cut(validFile, "rooms:")
	lookup := env(map[string]string{
		"OIDC_CLIENT_SECRET": "client-secret",
		"SESSION_SECRET":     strings.Repeat("s", 32),
		"DS_DEVELOPER_KEY":   "developer-key",
	})
	// Nine levels of ten aliases each: 10^9 groups in 2 KB.
	var bomb strings.Builder
	bomb.WriteString("x-groups:\n  - &l0 [g, g, g, g, g, g, g, g, g, g]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&bomb, "  - &l%d [", i)
		for j := range 10 {
			if j > 0 {
				bomb.WriteString(", ")
			}
			fmt.Fprintf(&bomb, "*l%d", i-1)
		}
		bomb.WriteString("]\n")
	}
	file := strings.Replace(head, "server:", bomb.String()+"server:", 1) +
		"rooms:\n  - path: standup\n    room: daily\n    rules:\n      - groups: *l8\n        role: attendee\n"
	_, err := Parse("config.yaml", []byte(file), Options{LookupEnv: lookup})
	if err == nil || !strings.Contains(err.Error(), "aliases") {
		t.Fatalf("a file of aliases to aliases: %v; want it refused", err)
	}
	if ps := mapping.AsProblems(err); len(ps) != 1 || ps[0].Line == 0 {
		t.Errorf("the refusal %v has no line", err)
	}

	// One list of groups reused in 300 rooms is what aliases are for.
	var reuse strings.Builder
	reuse.WriteString("rooms:\n")
	for i := range 300 {
		fmt.Fprintf(&reuse, "  - path: r%d\n    room: r%d\n    rules:\n      - groups: ", i, i)
		if i == 0 {
			reuse.WriteString("&leads [a, b, c, d, e, f, g, h]")
		} else {
			reuse.WriteString("*leads")
		}
		reuse.WriteString("\n        role: attendee\n")
	}
	if _, err := Parse("config.yaml", []byte(head+reuse.String()), Options{LookupEnv: lookup}); err != nil {
		t.Errorf("a list reused in 300 rooms: %v", err)
	}
}

// TestSettings: Settings keeps every setting and drops the rules and
// tests, leaving the configuration it copies as it was.
func TestSettings(t *testing.T) {
	t.Parallel()
	cfg, err := Parse("config.yaml", []byte(validFile), Options{LookupEnv: goodEnv})
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Settings()
	if s.Rules != nil || s.Tests != nil {
		t.Errorf("Settings kept rules %v, tests %v; want neither", s.Rules, s.Tests)
	}
	if cfg.Rules == nil {
		t.Error("Settings took the rules from the configuration it copied")
	}
	if keys := ChangedKeys(cfg, s); len(keys) != 0 || s.File != cfg.File {
		t.Errorf("Settings changed %q; want every setting kept", keys)
	}
}

// TestRoleTitles: role_titles name roles of the team, in languages, with
// short, non-empty titles; every problem has its path.
func TestRoleTitles(t *testing.T) {
	t.Parallel()
	file := strings.Replace(validFile, "digitalsamba:\n", "digitalsamba:\n  role_titles:\n    moderator: {en: Host, de: Moderation}\n    speaker: {de-CH: Sprecher}\n", 1)
	cfg, err := Parse("config.yaml", []byte(file), Options{LookupEnv: goodEnv})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ role, lang, want string }{
		{"moderator", "de", "Moderation"}, {"moderator", "de-AT", "Moderation"}, {"moderator", "fr", "moderator"},
		{"speaker", "de-CH", "Sprecher"}, {"attendee", "de", "attendee"},
	} {
		if got := cfg.DigitalSamba.RoleTitle(tt.role, tt.lang); got != tt.want {
			t.Errorf("RoleTitle(%s, %s) = %q; want %q", tt.role, tt.lang, got, tt.want)
		}
	}
	bad := strings.Replace(validFile, "digitalsamba:\n", "digitalsamba:\n  role_titles:\n    moderater: {en: Host}\n    speaker: {\"not a tag!\": X, de: \"\"}\n", 1)
	_, err = Parse("config.yaml", []byte(bad), Options{LookupEnv: goodEnv})
	for _, want := range []string{"digitalsamba.role_titles.moderater: unknown field", `digitalsamba.role_titles.speaker.not a tag!: "not a tag!" is not a language tag`, "digitalsamba.role_titles.speaker.de: empty"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad role_titles: %v\nwant %s", err, want)
		}
	}
}

// TestGuests: a room with guests is fine with a store that outlives the
// process and a warning without one; rule tests say who may invite, and
// a wrong expectation fails with its line.
func TestGuests(t *testing.T) {
	t.Parallel()
	rooms := `  - path: standup
    room: daily-standup
    guests: {role: attendee, max_valid: 72h}
    rules:
      - groups: [eng-leads]
        role: moderator
        invite: true
      - groups: [eng]
        role: attendee
`
	tests := `tests:
  - person: {groups: [eng-leads]}
    invite: {standup: true}
  - person: {groups: [eng]}
    expect: {standup: attendee}
    invite: {standup: %s}
`
	for _, tt := range []struct {
		store, eng string
		warns      bool
		problem    string
	}{
		{store: "", eng: "false", warns: true},
		{store: "store:\n  sqlite:\n    path: /var/lib/roomgate/roomgate.db\n", eng: "false"},
		{store: "", eng: "true", warns: true, problem: `config.yaml:26: tests[1]: standup: may invite guests: got false (attendee (rules[1], config.yaml:21)); want true`},
	} {
		file := testconfig.File(rooms) + tt.store + fmt.Sprintf(tests, tt.eng)
		cfg, err := Parse("config.yaml", []byte(file), Options{LookupEnv: goodEnv})
		if tt.problem != "" {
			if err == nil || !strings.Contains(err.Error(), tt.problem) {
				t.Errorf("want the problem %q; got %v", tt.problem, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.store, err)
		}
		if got := strings.Contains(cfg.Warnings.Error(), "rooms[0].guests: the store is in the process"); got != tt.warns {
			t.Errorf("store %q: warned %v; want %v (%v)", tt.store, got, tt.warns, cfg.Warnings)
		}
		room, _ := cfg.Rules.Lookup("standup")
		if room.Guests == nil || room.Guests.Role != "attendee" || room.Guests.MaxValid != 72*time.Hour {
			t.Errorf("guests: %+v", room.Guests)
		}
	}
}

// TestAdminAndDecisions: who may open the console is read like a rule's
// matchers, and its groups count among the rule set's patterns (so
// sessions keep them); reauth and keep have defaults and bounds, and keep
// takes days.
func TestAdminAndDecisions(t *testing.T) {
	t.Parallel()
	cfg, err := Parse("config.yaml", []byte(validFile+"admin:\n  groups: [it-helpdesk, \"it-*\"]\n  emails: [boss@example.com]\n  reauth: 5m\ndecisions:\n  keep: 30d\n"), Options{LookupEnv: goodEnv})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Admin.Reauth != 5*time.Minute || cfg.Decisions.Keep != 30*24*time.Hour {
		t.Errorf("reauth %v, keep %v", cfg.Admin.Reauth, cfg.Decisions.Keep)
	}
	for _, tt := range []struct {
		groups []string
		email  string
		admin  bool
	}{
		{[]string{"it-helpdesk"}, "", true},
		{[]string{"it-ops"}, "", true},
		{nil, "boss@example.com", true},
		{[]string{"eng"}, "ann@example.com", false},
	} {
		if got := cfg.Rules.IsAdmin(mapping.NewPerson(tt.groups, tt.email)); got != tt.admin {
			t.Errorf("IsAdmin(%v, %q) = %v; want %v", tt.groups, tt.email, got, tt.admin)
		}
	}
	if !slices.Contains(cfg.Rules.GroupPatterns(), "it-*") {
		t.Errorf("the console's patterns are not among the rule set's: %v", cfg.Rules.GroupPatterns())
	}

	plain, err := Parse("config.yaml", []byte(validFile), Options{LookupEnv: goodEnv})
	if err != nil || plain.Rules.HasAdmin() || plain.Admin.Reauth != DefaultReauth || plain.Decisions.Keep != DefaultKeep {
		t.Errorf("without admin: %v, HasAdmin %v, %+v %+v", err, plain.Rules.HasAdmin(), plain.Admin, plain.Decisions)
	}
	none, err := Parse("config.yaml", []byte(validFile+"decisions: {keep: 0}\n"), Options{LookupEnv: goodEnv})
	if err != nil || none.Decisions.Keep != 0 {
		t.Errorf("keep: 0: %v %v", err, none.Decisions.Keep)
	}
	_, err = Parse("config.yaml", []byte(validFile+"admin:\n  reauth: 48h\n  grops: [x]\ndecisions:\n  keep: 500d\n"), Options{LookupEnv: goodEnv})
	for _, want := range []string{"admin.reauth: want a duration above 0 and at most 24h", "admin.grops: unknown field", "admin: has no matcher", "decisions.keep: want 0 (keep none) to 400d"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want the problem %q; got %v", want, err)
		}
	}
}
