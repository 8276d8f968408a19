package config

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/roomgate/roomgate/internal/testconfig"
)

var testedRooms = "rooms:\n" + testconfig.Standup

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

// TestRuleTestsDecideAlikeEveryDay: a test whose outcome could depend on
// the moment (opening hours, or an until on a rule that could decide) must
// say at; one whose outcome cannot needs none. Either way, what check says
// of a file does not depend on the day it runs.
func TestRuleTestsDecideAlikeEveryDay(t *testing.T) {
	t.Parallel()
	rooms := `rooms:
  - path: standup
    room: daily-standup
    open:
      timezone: Europe/Berlin
      weekly:
        - {days: [fri], from: "09:00", to: "10:00"}
    rules:
      - {groups: [eng-leads], role: moderator}
  - path: retro
    room: retro
    rules:
      - {groups: [interns], role: attendee, until: 2027-03-31}
      - {groups: [eng], role: speaker}
`
	file := strings.Replace(validFile, validFile[strings.Index(validFile, "rooms:"):], rooms, 1) + `tests:
  - name: leads at the stand-up
    person: {groups: [eng-leads]}
    expect: {standup: moderator}
  - name: interns at the retro
    person: {groups: [interns]}
    expect: {retro: attendee}
  - name: engineers at the retro
    person: {groups: [eng]}
    expect: {retro: speaker}
  - name: leads on a Friday
    person: {groups: [eng-leads]}
    at: "2026-12-11T09:30:00+01:00"
    expect: {standup: moderator}
`
	for _, day := range []string{"2026-12-11T09:30:00+01:00", "2026-12-12T18:00:00+01:00", "2028-01-01T00:00:00Z"} {
		now, _ := time.Parse(time.RFC3339, day)
		_, err := Parse("config.yaml", []byte(file), Options{LookupEnv: goodEnv, Now: func() time.Time { return now }})
		got := fmt.Sprint(err)
		for _, want := range []string{
			`tests[0] "leads at the stand-up": standup: the room has opening hours, so the outcome depends on the moment; add the moment to decide at, such as at:`,
			`tests[1] "interns at the retro": retro: rules[0] (config.yaml:`,
		} {
			if !strings.Contains(got, want) {
				t.Errorf("on %s: %v\nwant a problem %s", day, got, want)
			}
		}
		if strings.Contains(got, "engineers at the retro") || strings.Contains(got, "leads on a Friday") {
			t.Errorf("on %s: a test whose outcome cannot depend on the moment, or that says at, is a problem: %v", day, got)
		}
		if !strings.Contains(got, "config.yaml:") {
			t.Errorf("problems without file:line: %v", got)
		}
	}
}
