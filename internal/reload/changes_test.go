package reload

import (
	"slices"
	"strings"
	"testing"

	"github.com/roomgate/roomgate/config"
)

func parse(t *testing.T, f file) *config.Config {
	t.Helper()
	cfg, err := config.Parse("config.yaml", []byte(f.String()), config.Options{LookupEnv: lookupEnv})
	if err != nil {
		t.Fatalf("config.Parse: %v", err)
	}
	return cfg
}

func TestRestartNeeded(t *testing.T) {
	t.Parallel()
	base := roomsFile("standup")
	tests := []struct {
		name string
		edit func(string) string
		want []string
	}{
		{name: "same file", edit: func(s string) string { return s }},
		{name: "rooms only", edit: func(s string) string {
			return strings.Replace(s, "path: standup", "path: retro", 1)
		}},
		{name: "comments and order", edit: func(s string) string {
			return strings.Replace(s, "  client_id: roomgate\n", "  # who we are\n  client_id: roomgate\n", 1)
		}},
		{name: "default written out", edit: func(s string) string {
			return strings.Replace(s, "session:\n", "session:\n  lifetime: 8h\n", 1)
		}},
		{name: "public_url trailing slash", edit: func(s string) string {
			return strings.Replace(s, `"https://meet.example.com"`, `"https://meet.example.com/"`, 1)
		}},
		{name: "secret and listen", edit: func(s string) string {
			s = strings.Replace(s, "${OIDC_CLIENT_SECRET}", "${OIDC_CLIENT_SECRET2}", 1)
			return strings.Replace(s, `":8080"`, `":9090"`, 1)
		}, want: []string{"server.listen", "oidc.client_secret"}},
		{name: "every section", edit: func(s string) string {
			s = strings.Replace(s, "https://meet.example.com", "https://meet2.example.com", 1)
			s = strings.Replace(s, "client_id: roomgate", "client_id: roomgate2", 1)
			s = strings.Replace(s, "session:\n", "session:\n  recheck: 5m\n", 1)
			return strings.Replace(s, "team_id: team-1", "team_id: team-2", 1)
		}, want: []string{"server.public_url", "oidc.client_id", "session.recheck", "digitalsamba.team_id"}},
	}
	running := parse(t, base)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			text := tt.edit(base.String())
			loaded, err := config.Parse("config.yaml", []byte(text), config.Options{LookupEnv: lookupEnv})
			if err != nil {
				t.Fatalf("config.Parse: %v", err)
			}
			if got := RestartNeeded(running, loaded); !slices.Equal(got, tt.want) {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}

func TestRestartNeededNil(t *testing.T) {
	t.Parallel()
	cfg := parse(t, roomsFile("standup"))
	if got := RestartNeeded(nil, cfg); got != nil {
		t.Errorf("got %q; want nil", got)
	}
}

func TestSections(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		keys []string
		want []string
	}{
		{name: "none"},
		{name: "one", keys: []string{"server.listen"}, want: []string{"server"}},
		{name: "each once, in order", keys: []string{"oidc.issuer", "oidc.claims.name", "server.listen", "oidc.scopes"}, want: []string{"oidc", "server"}},
	}
	for _, tt := range tests {
		if got := Sections(tt.keys); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %q; want %q", tt.name, got, tt.want)
		}
	}
}
