package config

import (
	"strings"
	"testing"
)

// providersFile is validFile with providers: in place of oidc:.
func providersFile(providers string) string {
	old := "oidc:\n  issuer: \"https://login.example.com/realms/acme\"\n  client_id: roomgate\n  client_secret: \"${OIDC_CLIENT_SECRET}\"\n"
	if !strings.Contains(validFile, old) {
		panic("validFile's oidc: changed")
	}
	return strings.Replace(validFile, old, "providers:\n"+providers, 1)
}

const twoProviders = `  - id: acme
    title: "ACME staff"
    issuer: "https://login.example.com/realms/acme"
    client_id: roomgate
    client_secret: "${OIDC_CLIENT_SECRET}"
    email_domains: [acme.com]
  - id: partner
    title: "Partner GmbH"
    issuer: "https://login.partner.example"
    client_id: roomgate-acme
    client_secret: "${OIDC_CLIENT_SECRET}"
    email_domains: [partner.example]
    claims:
      group_names: last
`

// TestProviders: providers: reads each provider as oidc: is read, with an
// id, a title and email_domains; oidc: is the primary; and the person the
// rules see comes through the provider's own claims settings.
func TestProviders(t *testing.T) {
	t.Parallel()
	cfg, err := Parse("config.yaml", []byte(providersFile(twoProviders)), Options{LookupEnv: goodEnv})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Providers) != 2 || cfg.OIDC.ID != "acme" || cfg.Providers[1].Title != "Partner GmbH" || !cfg.SeveralProviders() {
		t.Fatalf("providers %+v, oidc %+v", cfg.Providers, cfg.OIDC)
	}
	if cfg.CallbackPath(0) != "/auth/callback" || cfg.CallbackPath(1) != "/auth/callback/partner" {
		t.Errorf("callbacks %q, %q", cfg.CallbackPath(0), cfg.CallbackPath(1))
	}
	// The partner reads paths by their last segment; its groups are
	// partner: to the rules.
	if got := cfg.Person("partner", []string{"/org/eng"}, "").Groups(); len(got) != 1 || got[0] != "partner:eng" {
		t.Errorf("the partner's /org/eng is %q to the rules; want partner:eng", got)
	}
	if got := cfg.Person("acme", []string{"/org/eng"}, "").Groups(); len(got) != 1 || got[0] != "/org/eng" {
		t.Errorf("the primary's /org/eng is %q to the rules; want it as sent", got)
	}
	if cfg.Person("partner", nil, "ada@acme.com").EmailCounts() || !cfg.Person("", nil, "ada@acme.com").EmailCounts() {
		t.Error("an address counts only where its provider vouches for its domain")
	}

	one, err := Parse("config.yaml", []byte(validFile), Options{LookupEnv: goodEnv})
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Providers) != 1 || one.Providers[0].ID != DefaultProviderID || one.SeveralProviders() || !one.Person("", nil, "ann@anywhere.example").EmailCounts() {
		t.Errorf("oidc: alone: %+v", one.Providers)
	}
	// Moving oidc: into providers: as the only entry changes nothing.
	moved, err := Parse("config.yaml", []byte(providersFile(strings.SplitAfter(twoProviders, "[acme.com]\n")[0])), Options{LookupEnv: goodEnv})
	if err != nil {
		t.Fatal(err)
	}
	if moved.SeveralProviders() || moved.Rules.Fingerprint() != one.Rules.Fingerprint() || !moved.Person("", nil, "ann@anywhere.example").EmailCounts() {
		t.Error("a file whose providers: holds its oidc: alone decides otherwise")
	}
}

func TestProvidersProblems(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, file, want string }{
		{"both", strings.Replace(providersFile(twoProviders), "session:\n", "oidc:\n  issuer: https://x.example\n  client_id: a\n  client_secret: b\nsession:\n", 1), "providers: the file has oidc: too"},
		{"no id", providersFile(strings.Replace(strings.Replace(twoProviders, "  - id: partner\n    title", "  - title", 1), "", "", 1)), "providers[1].id: missing"},
		{"a bad id", providersFile(strings.Replace(twoProviders, "id: partner", "id: Partner GmbH", 1)), `providers[1].id: want 1 to 32 lower-case letters`},
		{"one id twice", providersFile(strings.Replace(twoProviders, "id: partner", "id: acme", 1)), `providers[1].id: "acme" is already the id of providers[0]`},
		{"one issuer twice", providersFile(strings.Replace(twoProviders, "https://login.partner.example", "https://login.example.com/realms/acme/", 1)), "two providers need two issuers"},
		{"one domain twice", providersFile(strings.Replace(twoProviders, "[partner.example]", "[partner.example, ACME.com]", 1)), `providers[1].email_domains[1]: "ACME.com" is already a domain of providers[0]`},
		{"an address for a domain", providersFile(strings.Replace(twoProviders, "[partner.example]", "[ann@partner.example]", 1)), "want a domain such as example.com"},
		{"a partner key missing", providersFile(strings.Replace(twoProviders, "    client_id: roomgate-acme\n", "", 1)), "providers[1].client_id: missing"},
		{"clear text at a partner", providersFile(strings.Replace(twoProviders, "https://login.partner.example", "http://login.partner.example", 1)), "providers[1].issuer: http:// sends codes"},
		{"empty", providersFile("  []\n"), "providers: empty"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("config.yaml", []byte(tt.file), Options{LookupEnv: goodEnv})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v; want a problem containing %q", err, tt.want)
			}
		})
	}
}

// TestRuleTestsNameProviders: a rule test's person may sign in with a
// provider, whose groups are its own.
func TestRuleTestsNameProviders(t *testing.T) {
	t.Parallel()
	file := providersFile(twoProviders) + `  - path: partners
    room: partners
    rules:
      - groups: ["partner:eng"]
        role: attendee
tests:
  - name: "the partner's eng is not ours"
    person: {provider: partner, groups: [eng]}
    expect: {standup: deny, partners: attendee}
  - name: "our eng is not the partner's"
    person: {groups: [eng]}
    expect: {standup: attendee, partners: deny}
`
	if _, err := Parse("config.yaml", []byte(file), Options{LookupEnv: goodEnv}); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(file, "expect: {standup: deny, partners: attendee}", "expect: {standup: attendee}", 1)
	if _, err := Parse("config.yaml", []byte(bad), Options{LookupEnv: goodEnv}); err == nil || !strings.Contains(err.Error(), "standup: got deny") {
		t.Errorf("a failing test naming a provider: %v", err)
	}
	unknown := strings.Replace(file, "provider: partner", "provider: nobody", 1)
	if _, err := Parse("config.yaml", []byte(unknown), Options{LookupEnv: goodEnv}); err == nil || !strings.Contains(err.Error(), `tests[0].person.provider: "nobody" is not a provider`) {
		t.Errorf("a test naming no such provider: %v", err)
	}
}
