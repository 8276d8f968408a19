package config

import (
	"os"
	"strings"
	"testing"

	"github.com/roomgate/roomgate/mapping"
)

// fuzzEnv resolves every variable, so that ${VAR} in fuzzed files expands
// and the parser gets past it.
func fuzzEnv(name string) (string, bool) {
	switch name {
	case "UNSET":
		return "", false
	case "SHORT":
		return "short", true
	}
	return "fuzz-value-" + name + "-0123456789abcdefghijklmnop", true
}

// FuzzParse feeds the parser arbitrary files. It must never panic; a file it
// accepts must be complete enough to serve with; a file it refuses must come
// back as problems, each placed in the file, the same every time.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"",
		"{}",
		"[]",
		"rooms: []",
		"server: {public_url: http://127.0.0.1}\n",
		"server:\n  public_url: \"https://meet.example.com\"\n  trusted_proxies: [\"10.0.0.0/8\", \"::1\", bogus]\n",
		"session:\n  secret: [\"${A}\", \"${SHORT}\", \"${UNSET}\"]\n  lifetime: 1s\n  recheck: -1h\n",
		"digitalsamba:\n  url: \"javascript:alert(1)\"\n  token_ttl: 99999h\n  roles: []\n",
		"oidc:\n  issuer: \"${UNSET}\"\n  claims: {groups: \"realm_access.roles\", name: \"\"}\n",
		"a: &a [*a, *a]\nrooms: *a\n",
		"rooms:\n  - path: standup\n    room: x\n    rules:\n      - everyone: true\n        role: attendee\n      - groups: [\"*\"]\n        deny: true\n",
		"rooms:\n  - path: auth\n    room: \"a/b?c\"\n    rules: [{groups: [\"[ab]\"], emails: [\"*@\"], role: 7}]\n  - path: AUTH\n",
		"server: !!binary aGVsbG8=\nrooms: !!map {}\n",
		"\t- bad\n  indentation:\n",
		"${A}: ${B}\n",
		"rooms:\n- path: a\n  room: b\n  title: \"${A}\"\n  rules: [{everyone: true, role: attendee}]\n- path: c\n  title: |\n    d\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	for _, name := range []string{"../config.example.yaml"} {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		} else {
			f.Fatalf("seed %s: %v", name, err)
		}
	}
	f.Add([]byte(fuzzValidFile))

	opts := Options{LookupEnv: fuzzEnv, Reserved: []string{"auth", "healthz", "readyz", "metrics", "static", "demo"}}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("config.yaml", data, opts)
		if err == nil {
			checkComplete(t, cfg)
			return
		}
		ps := mapping.AsProblems(err)
		if len(ps) == 0 {
			t.Fatalf("error without problems: %v", err)
		}
		for _, p := range ps {
			if p.File != "config.yaml" || p.Line < 0 || p.Msg == "" {
				t.Errorf("problem %+v; want one placed in config.yaml with a message", p)
			}
		}
		if _, again := Parse("config.yaml", data, opts); again == nil || again.Error() != err.Error() {
			t.Fatalf("a second parse says %v; want the same problems:\n%v", again, err)
		}
	})
}

// checkComplete fails unless cfg holds everything the gateway needs.
func checkComplete(t *testing.T, cfg *Config) {
	t.Helper()
	switch {
	case cfg == nil || cfg.Rules == nil:
		t.Fatal("accepted without a rule set")
	case cfg.Server.PublicURL == nil || cfg.Server.PublicURL.Host == "":
		t.Fatalf("accepted without a public_url host: %v", cfg.Server.PublicURL)
	case cfg.Server.PublicURL.Scheme != "http" && cfg.Server.PublicURL.Scheme != "https":
		t.Fatalf("accepted public_url scheme %q", cfg.Server.PublicURL.Scheme)
	case cfg.DigitalSamba.URL == nil || cfg.DigitalSamba.URL.Scheme != "https" && cfg.DigitalSamba.URL.Scheme != "http":
		t.Fatalf("accepted digitalsamba.url %v", cfg.DigitalSamba.URL)
	case cfg.OIDC.Issuer == "" || cfg.OIDC.ClientID == "":
		t.Fatal("accepted without issuer or client_id")
	case len(cfg.Session.Secrets) == 0:
		t.Fatal("accepted without a session secret")
	case cfg.DigitalSamba.DeveloperKey == "" || cfg.DigitalSamba.TeamID == "":
		t.Fatal("accepted without developer_key or team_id")
	case cfg.DigitalSamba.TokenTTL <= 0 || cfg.Session.Lifetime <= 0:
		t.Fatal("accepted a lifetime of zero")
	case len(cfg.DigitalSamba.Roles) == 0:
		t.Fatal("accepted without roles")
	}
	for _, s := range cfg.Session.Secrets {
		if len(s) < MinSecretBytes {
			t.Fatal("accepted a short session secret")
		}
	}
	for _, room := range cfg.Rules.Rooms() {
		if room.Path == "" || strings.ContainsAny(room.Path, "/\\?#%") {
			t.Fatalf("accepted room path %q", room.Path)
		}
	}
}

// fuzzValidFile is a complete file, so the fuzzer starts from one that
// passes every check.
const fuzzValidFile = `server:
  public_url: "https://meet.example.com"
  trusted_proxies: ["10.0.0.0/8"]
  contact: "it@example.com"
oidc:
  issuer: "https://login.example.com/realms/acme"
  client_id: roomgate
  client_secret: "${OIDC_CLIENT_SECRET}"
  claims: {groups: realm_access.roles, user_id: sub}
session:
  secret: ["${SESSION_SECRET}", "${OLD_SESSION_SECRET}"]
  lifetime: 8h
  recheck: 10m
digitalsamba:
  team_id: team-1
  url: "https://acme.digitalsamba.com"
  developer_key: "${DS_DEVELOPER_KEY}"
  token_ttl: 2m
  roles: [moderator, speaker, attendee]
rooms:
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
    rules:
      - everyone: true
        role: attendee
`
