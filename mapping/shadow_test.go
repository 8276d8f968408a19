package mapping

import (
	"math/rand/v2"
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
			name:  "several earlier rules together are not one",
			rules: "      - {groups: [a], role: moderator}\n      - {groups: [b], role: speaker}\n      - {groups: [a, b], role: attendee}\n",
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

// TestShadowSound builds random pairs of rules from a small alphabet and
// checks that whenever the earlier rule is said to cover the later one, no
// person made from the later rule's patterns is covered by the later rule
// but not by the earlier one.
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
	emails := []string{"", "ann@x.org", "ANN@x.org", "bob@X.org", "cy@x.org", "ann@y.org", "ann@x.org.y"}

	makeRule := func() Rule {
		var rule Rule
		rule.Everyone = r.IntN(8) == 0
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
		earlier, later := makeRule(), makeRule()
		if !earlier.coversRule(&later) {
			continue
		}
		reported++
		for range 30 {
			p := NewPerson(pick(names), emails[r.IntN(len(emails))])
			_, byLater := later.decide(p)
			_, byEarlier := earlier.decide(p)
			if byLater && !byEarlier {
				t.Fatalf("rule {groups %q emails %q everyone %v} is said to cover {groups %q emails %q everyone %v}, but only the second covers %v %q",
					earlier.Groups, earlier.Emails, earlier.Everyone, later.Groups, later.Emails, later.Everyone, p.Groups(), p.Email())
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
	if earlier.coversRule(&Rule{}) {
		t.Errorf("a rule without matchers was said to be covered")
	}
	if !strings.Contains((&Rule{Index: 3, Pos: Pos{"f.yaml", 9}}).String(), "rules[3] (f.yaml:9)") {
		t.Errorf("Rule.String: got %q", (&Rule{Index: 3, Pos: Pos{"f.yaml", 9}}).String())
	}
}
