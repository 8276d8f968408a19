package mapping

import (
	"strings"
	"testing"
)

// decideRules exercises each kind of matcher and outcome in one room.
const decideRules = `rooms:
  - path: standup
    room: daily-standup
    rules:
      - groups: [eng-leads]
        role: moderator
      - emails: ["*@contractor.example", Mallory@Example.com]
        deny: true
      - groups: [engineering, "eng-*", "/eng/*/leads", "*-admins", "team-?"]
        role: attendee
      - emails: [CEO@example.com]
        role: speaker
  - path: all-hands
    room: all-hands
    rules:
      - groups: ["*"]
        role: speaker
      - everyone: true
        role: attendee
`

func TestDecide(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, decideRules)
	tests := []struct {
		name        string
		room        string
		groups      []string
		email       string
		wantAllowed bool
		wantRole    string
		wantRule    int // -1: no rule
		wantMatched string
		wantReason  string
	}{
		{"first match wins over a later deny", "standup", []string{"eng-leads"}, "x@contractor.example", true, "moderator", 0, "eng-leads",
			`rules[0] (config.yaml:5) admits group "eng-leads" as moderator`},
		{"deny by email domain", "standup", []string{"engineering"}, "bob@contractor.example", false, "", 1, "bob@contractor.example",
			`rules[1] (config.yaml:7) denies email "bob@contractor.example" (matches "*@contractor.example")`},
		{"email domain ignores case", "standup", []string{"engineering"}, "Bob@Contractor.EXAMPLE", false, "", 1, "Bob@Contractor.EXAMPLE",
			`rules[1] (config.yaml:7) denies email "Bob@Contractor.EXAMPLE" (matches "*@contractor.example")`},
		{"exact email ignores case", "standup", nil, "mallory@example.COM", false, "", 1, "mallory@example.COM",
			`rules[1] (config.yaml:7) denies email "mallory@example.COM" (matches "Mallory@Example.com")`},
		{"sub-domain is another domain", "standup", []string{"engineering"}, "bob@eu.contractor.example", true, "attendee", 2, "engineering",
			`rules[2] (config.yaml:9) admits group "engineering" as attendee`},
		{"exact group", "standup", []string{"engineering"}, "", true, "attendee", 2, "engineering",
			`rules[2] (config.yaml:9) admits group "engineering" as attendee`},
		{"groups are case-sensitive", "standup", []string{"Engineering", "ENG-x", "Eng-Leads"}, "", false, "", -1, "",
			`no rule of this room covers this person`},
		{"prefix glob", "standup", []string{"sales", "eng-web"}, "", true, "attendee", 2, "eng-web",
			`rules[2] (config.yaml:9) admits group "eng-web" (matches "eng-*") as attendee`},
		{"glob crosses slashes", "standup", []string{"/eng/web/mobile/leads"}, "", true, "attendee", 2, "/eng/web/mobile/leads",
			`rules[2] (config.yaml:9) admits group "/eng/web/mobile/leads" (matches "/eng/*/leads") as attendee`},
		{"suffix glob", "standup", []string{"it-admins"}, "", true, "attendee", 2, "it-admins",
			`rules[2] (config.yaml:9) admits group "it-admins" (matches "*-admins") as attendee`},
		{"question mark is one character", "standup", []string{"team-ab", "team-"}, "", false, "", -1, "",
			`no rule of this room covers this person`},
		{"question mark matches", "standup", []string{"team-ß"}, "", true, "attendee", 2, "team-ß",
			`rules[2] (config.yaml:9) admits group "team-ß" (matches "team-?") as attendee`},
		{"email role after groups", "standup", []string{"sales"}, "ceo@EXAMPLE.com", true, "speaker", 3, "ceo@EXAMPLE.com",
			`rules[3] (config.yaml:11) admits email "ceo@EXAMPLE.com" (matches "CEO@example.com") as speaker`},
		{"no match", "standup", []string{"sales"}, "ann@example.com", false, "", -1, "",
			`no rule of this room covers this person`},
		{"empty email matches no email", "standup", nil, "", false, "", -1, "",
			`no rule of this room covers this person`},
		{"star needs a group", "all-hands", []string{"x"}, "", true, "speaker", 0, "x",
			`rules[0] (config.yaml:16) admits group "x" (matches "*") as speaker`},
		{"everyone covers people without groups", "all-hands", nil, "", true, "attendee", 1, "everyone",
			`rules[1] (config.yaml:18) admits everyone as attendee`},
		{"empty group names are no groups", "all-hands", []string{""}, "", true, "attendee", 1, "everyone",
			`rules[1] (config.yaml:18) admits everyone as attendee`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			room, ok := rs.Lookup(tt.room)
			if !ok {
				t.Fatalf("Lookup(%q): no room", tt.room)
			}
			d := room.Decide(NewPerson(tt.groups, tt.email))
			if d.Allowed != tt.wantAllowed || d.Role != tt.wantRole {
				t.Errorf("allowed, role: got %v, %q; want %v, %q", d.Allowed, d.Role, tt.wantAllowed, tt.wantRole)
			}
			gotRule := -1
			if d.Rule != nil {
				gotRule = d.Rule.Index
				if d.Rule != &room.Rules[gotRule] {
					t.Errorf("Rule: does not point into room.Rules")
				}
			}
			if gotRule != tt.wantRule {
				t.Errorf("rule: got %d; want %d", gotRule, tt.wantRule)
			}
			if d.Matched != tt.wantMatched {
				t.Errorf("Matched: got %q; want %q", d.Matched, tt.wantMatched)
			}
			if got := d.Reason(); got != tt.wantReason {
				t.Errorf("Reason: got %q; want %q", got, tt.wantReason)
			}
			ed, steps := room.Explain(NewPerson(tt.groups, tt.email))
			if ed != d {
				t.Errorf("Explain: got decision %+v; want Decide's %+v", ed, d)
			}
			wantSteps := len(room.Rules)
			if d.Rule != nil {
				wantSteps = d.Rule.Index + 1
			}
			if len(steps) != wantSteps {
				t.Errorf("Explain: got %d steps; want %d", len(steps), wantSteps)
			}
		})
	}
}

func TestDecideNilPerson(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, decideRules)
	standup, _ := rs.Lookup("standup")
	if d := standup.Decide(nil); d.Allowed || d.Rule != nil {
		t.Errorf("standup.Decide(nil): got %+v; want no rule", d)
	}
	allHands, _ := rs.Lookup("all-hands")
	if d := allHands.Decide(nil); !d.Allowed || d.Rule.Index != 1 {
		t.Errorf("all-hands.Decide(nil): got %+v; want everyone (rule 1)", d)
	}
}

func TestDecideAllocatesNothing(t *testing.T) {
	rs := mustParse(t, decideRules)
	standup, _ := rs.Lookup("standup")
	people := []*Person{
		NewPerson([]string{"sales", "/eng/web/leads", "it-admins", "team-x"}, "ann@example.com"),
		NewPerson([]string{"sales"}, "ann@example.com"),
		NewPerson(nil, "bob@contractor.example"),
	}
	for _, p := range people {
		if n := testing.AllocsPerRun(100, func() { standup.Decide(p) }); n != 0 {
			t.Errorf("Decide(%v): got %v allocations; want 0", p.Groups(), n)
		}
	}
}

func TestExplainSteps(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, decideRules)
	standup, _ := rs.Lookup("standup")
	tests := []struct {
		name   string
		person *Person
		want   []string
	}{
		{
			name:   "email decides after groups miss",
			person: NewPerson([]string{"sales"}, "ceo@example.com"),
			want: []string{
				`- rules[0] (config.yaml:5): none of the person's groups matches "eng-leads"`,
				`- rules[1] (config.yaml:7): email "ceo@example.com" matches none of "*@contractor.example", "Mallory@Example.com"`,
				`- rules[2] (config.yaml:9): none of the person's groups matches "engineering", "eng-*", "/eng/*/leads", "*-admins", "team-?"`,
				`+ rules[3] (config.yaml:11): covers email "ceo@example.com" (matches "CEO@example.com")`,
			},
		},
		{
			name:   "nobody",
			person: NewPerson(nil, ""),
			want: []string{
				`- rules[0] (config.yaml:5): the person is in no group, and the rule names "eng-leads"`,
				`- rules[1] (config.yaml:7): the person has no email to compare with "*@contractor.example", "Mallory@Example.com"`,
				`- rules[2] (config.yaml:9): the person is in no group, and the rule names "engineering", "eng-*", "/eng/*/leads", "*-admins", "team-?"`,
				`- rules[3] (config.yaml:11): the person has no email to compare with "CEO@example.com"`,
			},
		},
	}
	for _, tt := range tests {
		_, steps := standup.Explain(tt.person)
		var got []string
		for _, s := range steps {
			mark := "-"
			if s.Covered {
				mark = "+"
			}
			got = append(got, mark+" "+s.Rule.String()+": "+s.Why)
		}
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s: steps:\ngot  %q\nwant %q", tt.name, got, tt.want)
		}
	}
	allHands, _ := rs.Lookup("all-hands")
	_, steps := allHands.Explain(NewPerson(nil, ""))
	if got, want := steps[len(steps)-1].Why, "everyone: true covers every signed-in person"; got != want {
		t.Errorf("everyone step: got %q; want %q", got, want)
	}
}

func TestNewPerson(t *testing.T) {
	t.Parallel()
	p := NewPerson([]string{"b", "", "a", "b"}, "Ann@Example.com")
	if got := strings.Join(p.Groups(), ","); got != "a,b" {
		t.Errorf("Groups: got %q; want %q", got, "a,b")
	}
	if got := p.Email(); got != "Ann@Example.com" {
		t.Errorf("Email: got %q; want %q", got, "Ann@Example.com")
	}
}
