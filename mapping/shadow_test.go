package mapping

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestShadows(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		rules string // rules of one room; the first starts on line 5
		want  []string
	}{
		{
			name:  "same group twice",
			rules: "      - {groups: [a], role: moderator}\n      - {groups: [a], deny: true}\n",
			want:  []string{`config.yaml:6: rooms[0].rules[1]: can never fire: rules[0] (config.yaml:5) already covers everyone it covers`},
		},
		{
			name:  "after everyone",
			rules: "      - {everyone: true, role: attendee}\n      - {groups: [a], role: moderator}\n      - {everyone: true, deny: true}\n",
			want: []string{
				`config.yaml:6: rooms[0].rules[1]: can never fire: rules[0] (config.yaml:5) has everyone: true and decides for every person first`,
				`config.yaml:7: rooms[0].rules[2]: can never fire: rules[0] (config.yaml:5) has everyone: true and decides for every person first`,
			},
		},
		{
			name:  "literal under a prefix glob",
			rules: "      - {groups: [eng-*], role: attendee}\n      - {groups: [eng-leads, eng-x*, \"eng-?\"], role: moderator}\n",
			want:  []string{`config.yaml:6: rooms[0].rules[1]: can never fire: rules[0] (config.yaml:5) already covers everyone it covers`},
		},
		{
			name:  "each group covered by a different pattern of one rule",
			rules: "      - {groups: [a, /eng/*], role: attendee}\n      - {groups: [/eng/web/leads, a], role: moderator}\n",
			want:  []string{`config.yaml:6: rooms[0].rules[1]: can never fire: rules[0] (config.yaml:5) already covers everyone it covers`},
		},
		{
			name:  "emails: address under its domain, case ignored",
			rules: "      - {emails: [\"*@Example.com\"], deny: true}\n      - {emails: [ann@example.COM], role: speaker}\n      - {emails: [\"*@EXAMPLE.COM\"], role: speaker}\n",
			want: []string{
				`config.yaml:6: rooms[0].rules[1]: can never fire: rules[0] (config.yaml:5) already covers everyone it covers`,
				`config.yaml:7: rooms[0].rules[2]: can never fire: rules[0] (config.yaml:5) already covers everyone it covers`,
			},
		},
		{
			name:  "groups and emails both covered",
			rules: "      - {groups: [a], emails: [ann@example.com], role: speaker}\n      - {groups: [a], emails: [ANN@example.com], role: attendee}\n",
			want:  []string{`config.yaml:6: rooms[0].rules[1]: can never fire: rules[0] (config.yaml:5) already covers everyone it covers`},
		},
		{
			name:  "names the first covering rule",
			rules: "      - {groups: [b], role: speaker}\n      - {groups: [a*], role: speaker}\n      - {groups: [a], role: speaker}\n      - {groups: [ab], role: attendee}\n",
			want: []string{
				`config.yaml:7: rooms[0].rules[2]: can never fire: rules[1] (config.yaml:6) already covers everyone it covers`,
				`config.yaml:8: rooms[0].rules[3]: can never fire: rules[1] (config.yaml:6) already covers everyone it covers`,
			},
		},

		// Rules that can fire, or that the check cannot prove dead: never reported.
		{
			name:  "a later rule with one more group",
			rules: "      - {groups: [a], role: moderator}\n      - {groups: [a, b], role: speaker}\n",
		},
		{
			name:  "a later rule with an email as well",
			rules: "      - {groups: [a], role: moderator}\n      - {groups: [a], emails: [ann@example.com], role: speaker}\n",
		},
		{
			name:  "groups are case-sensitive",
			rules: "      - {groups: [eng], role: moderator}\n      - {groups: [Eng, ENG-*], role: speaker}\n",
		},
		{
			name:  "a broader glob after a narrower one",
			rules: "      - {groups: [eng-*], role: moderator}\n      - {groups: [eng*], role: speaker}\n      - {groups: [/eng/*/leads], role: moderator}\n      - {groups: [/eng/*], role: speaker}\n",
		},
		{
			name:  "one character is not two",
			rules: "      - {groups: [\"team-?\"], role: moderator}\n      - {groups: [\"team-??\", team-], role: speaker}\n",
		},
		{
			name:  "a domain after an address, a sub-domain after a domain",
			rules: "      - {emails: [ann@example.com], role: moderator}\n      - {emails: [\"*@example.com\"], role: speaker}\n      - {emails: [\"*@eu.example.com\"], deny: true}\n",
		},
		{
			name:  "star does not cover people without groups",
			rules: "      - {groups: [\"*\"], role: speaker}\n      - {everyone: true, role: attendee}\n      - {emails: [\"*@example.com\"], deny: true}\n",
			want:  []string{`config.yaml:7: rooms[0].rules[2]: can never fire: rules[1] (config.yaml:6) has everyone: true and decides for every person first`},
		},
		{
			name:  "several earlier rules together cover it",
			rules: "      - {groups: [a], role: moderator}\n      - {groups: [b], role: speaker}\n      - {groups: [a, b], role: attendee}\n",
			want:  []string{"config.yaml:7: rooms[0].rules[2]: can never fire: together rules[0] (config.yaml:5), rules[1] (config.yaml:6) already cover everyone it covers"},
		},
		{
			name:  "rooms do not shadow each other",
			rules: "      - {groups: [a], role: moderator}\n  - path: other\n    room: other\n    rules:\n      - {groups: [a], role: moderator}\n",
		},
		{
			name:  "a rule with a broken pattern is not judged",
			rules: "      - {groups: [a], role: moderator}\n      - {groups: [a, \"b[\"], role: speaker}\n",
			want:  []string{`config.yaml:6: rooms[0].rules[1].groups[1]: "b[" uses "[", which group patterns do not support: only * (any run of characters) and ? (one character) are special`},
		},
		{
			name:  "everyone: false is not everyone",
			rules: "      - {everyone: false, groups: [a], role: moderator}\n      - {groups: [b], role: speaker}\n",
			want:  []string{`config.yaml:5: rooms[0].rules[0].everyone: false means nothing here: leave everyone out, or write everyone: true to cover every signed-in person`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rs, err := parseSource(t, room(tt.rules))
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("Parse: got %v; want no problem", err)
				} else if rs == nil {
					t.Errorf("Parse: got no rule set")
				}
				return
			}
			assertProblems(t, err, tt.want)
		})
	}
}

// TestShadowSound builds random rules from a small alphabet, one to three
// earlier ones and a later one, and checks that whenever the earlier rules
// together are said to cover the later one, no person is covered by the
// later rule but by none of the earlier ones: a rule that can fire is never
// reported.
func TestShadowSound(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(6, 28))
	pick := func(options []string) []string {
		var out []string
		for range r.IntN(3) {
			out = append(out, options[r.IntN(len(options))])
		}
		return out
	}
	groupPatterns := []string{"a", "b", "ab", "a*", "*b", "a?", "?", "*", "a*b", "*a*", "??", "a/b", "a/*", "*/b"}
	emailPatterns := []string{"ann@x.org", "Ann@X.org", "bob@x.org", "*@x.org", "*@X.ORG", "*@y.org", "ann@y.org"}
	names := []string{"", "a", "b", "ab", "ba", "aa", "abb", "a/b", "a/c/b", "c", "/", "aab"}
	emails := []string{"", "ann@x.org", "ANN@x.org", "bob@X.org", "cy@x.org", "ann@y.org", "ann@x.org.y", "ann@x.org.", `"a b"@x.org`}

	makeRule := func() Rule {
		var rule Rule
		if rule.Everyone = r.IntN(8) == 0; rule.Everyone {
			rule.everyone = []int{0}
		}
		rule.Deny = r.IntN(3) == 0
		for _, s := range pick(groupPatterns) {
			g, _ := compileGlob(s)
			rule.Groups, rule.globs = append(rule.Groups, s), append(rule.globs, g)
		}
		for _, s := range pick(emailPatterns) {
			e, _ := compileEmail(s)
			rule.Emails, rule.emails = append(rule.Emails, s), append(rule.emails, e)
		}
		return rule
	}
	reported := 0
	for range 20000 {
		earlier := make([]Rule, 1+r.IntN(3))
		for i := range earlier {
			earlier[i] = makeRule()
			earlier[i].Index = i
		}
		later := makeRule()
		if coveredBy(earlier, later) == nil {
			continue
		}
		reported++
		for range 30 {
			p := NewPerson(pick(names), emails[r.IntN(len(emails))])
			if _, byLater := later.decide(p); !byLater {
				continue
			}
			if !slices.ContainsFunc(earlier, func(e Rule) bool { _, ok := e.decide(p); return ok }) {
				t.Fatalf("rules %+v are said to cover {groups %q emails %q everyone %v deny %v}, but only it covers %v %q",
					earlier, later.Groups, later.Emails, later.Everyone, later.Deny, p.Groups(), p.Email())
			}
		}
	}
	if reported < 1000 {
		t.Errorf("only %d covered pairs out of 20000; the test would prove little", reported)
	}
}

func TestCoversRuleNeedsAMatcher(t *testing.T) {
	t.Parallel()
	g, _ := compileGlob("*")
	earlier := Rule{Groups: []string{"*"}, globs: []glob{g}}
	if coveredBy([]Rule{earlier}, Rule{}) != nil {
		t.Errorf("a rule without matchers was said to be covered")
	}
	if !strings.Contains((&Rule{Index: 3, Pos: Pos{"f.yaml", 9}}).String(), "rules[3] (f.yaml:9)") {
		t.Errorf("Rule.String: got %q", (&Rule{Index: 3, Pos: Pos{"f.yaml", 9}}).String())
	}
}

// TestShadowedByRulesTogether: a rule whose matchers are covered by several
// earlier rules between them is reported, naming each of them.
func TestShadowedByRulesTogether(t *testing.T) {
	t.Parallel()
	_, err := parseSource(t, `rooms:
  - path: standup
    room: standup
    rules:
      - groups: [eng-leads]
        role: moderator
      - groups: [engineering]
        role: attendee
      - groups: [eng-leads, engineering]
        role: speaker
      - groups: [eng-leads, sales]
        role: speaker
`)
	want := "rooms[0].rules[2]: can never fire: together rules[0] (config.yaml:5), rules[1] (config.yaml:7) already cover everyone it covers"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v; want %q", err, want)
	}
	if strings.Contains(err.Error(), "rules[3]") {
		t.Errorf("rules[3] can fire (sales) but was reported: %v", err)
	}
}

// coveredBy is coverIndex.coveredBy for later after earlier.
func coveredBy(earlier []Rule, later Rule) []*Rule {
	ps := newProviderSet(nil)
	return newCoverIndex(append(slices.Clone(earlier), later), &ps).coveredBy(len(earlier))
}

// repeatedLists is a room of 50 rules that each give the same list of
// 2,001 groups, as one alias repeated makes easy.
func repeatedLists() string {
	var list strings.Builder
	list.WriteString("[")
	for i := range 2000 {
		fmt.Fprintf(&list, "team-%d, ", i)
	}
	list.WriteString("\"dept-*\"]")
	var src strings.Builder
	src.WriteString("rooms:\n  - path: big\n    room: big\n    rules:\n")
	for range 50 {
		fmt.Fprintf(&src, "      - groups: %s\n        role: attendee\n", list.String())
	}
	return src.String()
}

// TestShadowsOfRepeatedLists: a rule repeating an earlier one's list is
// reported, however long the list (BenchmarkShadowsOfRepeatedLists times
// it).
func TestShadowsOfRepeatedLists(t *testing.T) {
	t.Parallel()
	_, err := parseSource(t, repeatedLists())
	if err == nil || strings.Count(err.Error(), "can never fire: rules[0]") != 49 {
		t.Errorf("rules 1 to 49 repeat rule 0; want each reported: %v", err)
	}
}

// BenchmarkShadowsOfRepeatedLists: each distinct pattern is looked up once
// per room, so 50 copies of a list cost about what one does.
//
//	go test -run '^$' -bench ShadowsOfRepeatedLists ./mapping
func BenchmarkShadowsOfRepeatedLists(b *testing.B) {
	src := repeatedLists()
	for b.Loop() {
		if _, err := parseSource(b, src); err == nil {
			b.Fatal("no problems")
		}
	}
}
