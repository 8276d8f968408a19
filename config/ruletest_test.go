package config

import (
	"fmt"
	"strings"
	"testing"
)

const testedRooms = `rooms:
  - path: standup
    room: daily-standup
    rules:
      - groups: [eng-leads]
        role: moderator
      - emails: ["*@contractor.example"]
        deny: true
      - groups: ["eng-*"]
        role: attendee
`

func withTests(tests string) string {
	return strings.Replace(validFile, validFile[strings.Index(validFile, "rooms:"):], testedRooms, 1) + "tests:\n" + tests
}

// TestRuleTests: a file's tests run as part of its validation; each that
// fails is a problem at the test's line with the room, got and want, and
// the rule that decided.
func TestRuleTests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		tests string
		want  []string // problems; none for a valid file
	}{
		{"passing", `  - name: leads moderate
    person: {groups: [eng-leads], email: ada@example.com}
    expect: {standup: moderator}
  - name: contractors never enter
    person: {groups: [eng-web], email: bob@contractor.example}
    expect: {standup: deny}
  - name: nobody
    person: {}
    at: "2026-12-07T09:30:00+01:00"
    expect: {standup: deny}
`, nil},
		{"failing", `  - name: leads moderate
    person: {groups: [eng-web]}
    expect: {standup: moderator}
  - name: "contractors never enter"
    person: {groups: [eng-leads], email: bob@contractor.example}
    expect:
      standup: deny
`, []string{
			`config.yaml:25: tests[0] "leads moderate": standup: got attendee (rules[2], config.yaml:22); want moderator`,
			`config.yaml:28: tests[1] "contractors never enter": standup: got moderator (rules[0], config.yaml:18); want deny`,
		}},
		{"unknown room and role, bad time", `  - person: {groups: [eng-leads]}
    at: tomorrow
    expect: {standpu: moderater}
`, []string{
			`config.yaml:26: tests[0].at: want a moment with its offset, such as 2026-12-07T09:30:00+01:00, found "tomorrow"`,
			`config.yaml:27: tests[0].expect.standpu: no room has the path "standpu" (rooms: standup)`,
			`config.yaml:27: tests[0].expect.standpu: "moderater" is neither deny nor a role of this team (known: moderator, speaker, attendee)`,
		}},
		{"no person, no expect", "  - name: empty\n", []string{
			`config.yaml:25: tests[0].person: missing`,
			`config.yaml:25: tests[0].expect: missing`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Parse("config.yaml", []byte(withTests(tt.tests)), Options{LookupEnv: goodEnv})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if len(cfg.Tests) != 3 {
					t.Errorf("%d tests read; want 3", len(cfg.Tests))
				}
				return
			}
			got := fmt.Sprint(problemsOf(t, err))
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("problems:\n%s\nlack:\n%s", strings.Join(problemsOf(t, err), "\n"), w)
				}
			}
		})
	}
}

// TestRuleTestsReadGroupsAsServeDoes: with group_names: last a test's
// person is the provider's view (/eng/leads), read the way a sign-in is.
func TestRuleTestsReadGroupsAsServeDoes(t *testing.T) {
	t.Parallel()
	file := strings.Replace(withTests(`  - person: {groups: [/eng/eng-leads]}
    expect: {standup: moderator}
`), "  client_secret:", "  claims: {group_names: last}\n  client_secret:", 1)
	if _, err := Parse("config.yaml", []byte(file), Options{LookupEnv: goodEnv}); err != nil {
		t.Errorf("group_names: last: %v", err)
	}
	file = strings.Replace(file, "group_names: last", "group_names: full", 1)
	if _, err := Parse("config.yaml", []byte(file), Options{LookupEnv: goodEnv}); err == nil || !strings.Contains(err.Error(), "got deny") {
		t.Errorf("group_names: full: got %v; want the test to fail", err)
	}
}
