package mapping

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// twoProviders are the providers of the tests below: acme, the primary,
// and partner, each vouching for its own domain.
var twoProviders = []Provider{{ID: "acme", EmailDomains: []string{"acme.com"}}, {ID: "partner", EmailDomains: []string{"partner.example"}}}

// parseWith parses a rooms section with opts.
func parseWith(t *testing.T, rooms string, opts Options) (*RuleSet, error) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(rooms), &n); err != nil {
		t.Fatal(err)
	}
	if opts.Roles == nil {
		opts.Roles = []string{"moderator", "speaker", "attendee"}
	}
	return Parse("config.yaml", &n, opts)
}

// person is someone of the property test: a provider, the groups as it
// names them, and an email.
type person struct {
	provider string // "" is the primary
	groups   []string
	email    string
}

// reference decides as DESIGN.md says, written plainly and apart from
// the compiled program: a pattern ID:REST belongs to the provider ID (not
// the primary), any other to the primary, and is tried only on its own
// provider's people; everyone: true covers the primary's people,
// everyone: [ids] those; an email counts only at a domain its provider
// vouches for. The first rule that covers the person decides.
func reference(rules []refRule, p person) (role string, allowed bool, index int) {
	for i, r := range rules {
		if r.covers(p) {
			return r.role, !r.deny, i
		}
	}
	return "", false, -1
}

type refRule struct {
	groups   []string
	emails   []string
	everyone []string // provider ids, "" for the primary
	role     string
	deny     bool
}

func (r refRule) covers(p person) bool {
	if slices.Contains(r.everyone, p.provider) {
		return true
	}
	for _, g := range r.groups {
		owner, rest := "", g
		if id, tail, ok := strings.Cut(g, ":"); ok && id == "partner" {
			owner, rest = "partner", tail
		}
		if owner != p.provider {
			continue
		}
		re := regexp.MustCompile("^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(rest)) + "$")
		if slices.ContainsFunc(p.groups, re.MatchString) {
			return true
		}
	}
	domain := strings.ToLower(p.email[strings.LastIndexByte(p.email, '@')+1:])
	vouched := p.email != "" && (p.provider == "" && domain == "acme.com" || p.provider == "partner" && domain == "partner.example")
	for _, e := range r.emails {
		if !vouched {
			break
		}
		if strings.HasPrefix(e, "*@") && domain == strings.ToLower(e[2:]) || strings.EqualFold(e, p.email) {
			return true
		}
	}
	return false
}

// TestProvidersKeepPeopleApart draws random rule sets and people of two
// providers whose group names collide, and checks every decision against
// reference: no pattern without partner: matches a partner's group (exact,
// glob, * or ?), everyone: true is the primary's people, an email counts
// only within its provider's email_domains. It checks, too, that the
// groups a session keeps (EssentialOf) decide the same, that a rule
// reported as shadowed never decides for anyone drawn, and that Diff finds
// every change among the people drawn and none that is not one.
func TestProvidersKeepPeopleApart(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(30, 9207))
	patterns := []string{"eng", "eng-*", "*", "?ng", "e*", "partner:eng", "partner:*", "partner:e?g", "partner:eng-*", "*:eng", "partner*", "*eng"}
	emails := []string{"*@acme.com", "ada@acme.com", "*@partner.example", "mona@partner.example"}
	everyones := [][]string{{""}, {"partner"}, {"", "partner"}}
	names := []string{"eng", "eng-x", "partner:eng", "x", "e", "ENG", "eng-"}
	addresses := []string{"", "ada@acme.com", "mona@partner.example", "ADA@ACME.COM", "eve@elsewhere.example", "bob@acme.com"}
	roles := []string{"moderator", "speaker", "attendee"}

	drawRules := func() []refRule {
		rules := make([]refRule, 1+r.IntN(4))
		for i := range rules {
			rule := &rules[i]
			if r.IntN(6) == 0 {
				rule.everyone = everyones[r.IntN(len(everyones))]
			} else {
				for range 1 + r.IntN(2) {
					rule.groups = append(rule.groups, patterns[r.IntN(len(patterns))])
				}
				if r.IntN(3) == 0 {
					rule.emails = append(rule.emails, emails[r.IntN(len(emails))])
				}
			}
			if rule.deny = r.IntN(4) == 0; !rule.deny {
				rule.role = roles[r.IntN(len(roles))]
			}
		}
		return rules
	}
	yamlOf := func(rules []refRule) string {
		var b strings.Builder
		b.WriteString("- path: r\n  room: r\n  rules:\n")
		for _, rule := range rules {
			b.WriteString("    - ")
			switch {
			case slices.Equal(rule.everyone, []string{""}):
				b.WriteString("everyone: true\n")
			case rule.everyone != nil:
				ids := slices.Clone(rule.everyone)
				if ids[0] == "" {
					ids[0] = "acme"
				}
				fmt.Fprintf(&b, "everyone: [%s]\n", strings.Join(ids, ", "))
			default:
				fmt.Fprintf(&b, "groups: [%s]\n", quoteAll(rule.groups))
				if rule.emails != nil {
					fmt.Fprintf(&b, "      emails: [%s]\n", quoteAll(rule.emails))
				}
			}
			if rule.deny {
				b.WriteString("      deny: true\n")
			} else {
				fmt.Fprintf(&b, "      role: %s\n", rule.role)
			}
		}
		return b.String()
	}
	drawPerson := func() person {
		p := person{email: addresses[r.IntN(len(addresses))]}
		if r.IntN(2) == 0 {
			p.provider = "partner"
		}
		for range r.IntN(3) {
			p.groups = append(p.groups, names[r.IntN(len(names))])
		}
		return p
	}
	people := make([]person, 400)
	for i := range people {
		people[i] = drawPerson()
	}

	opts := Options{Providers: twoProviders}
	var valid []*RuleSet
	var validRules [][]refRule
	checked, shadowed := 0, 0
	for range 1500 {
		rules := drawRules()
		rs, err := parseWith(t, yamlOf(rules), opts)
		if err != nil {
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatal(err)
			}
			for _, pr := range ps {
				var k int
				if _, e := fmt.Sscanf(pr.Path, "rooms[0].rules[%d]", &k); e != nil || !strings.Contains(pr.Msg, "can never fire") {
					continue
				}
				shadowed++
				for _, p := range people {
					if _, _, i := reference(rules, p); i == k {
						t.Fatalf("rules:\n%s\nreported %q, but rules[%d] decides for %+v", yamlOf(rules), pr.Msg, k, p)
					}
				}
			}
			continue
		}
		room := rs.Rooms()[0]
		for _, p := range people {
			want, allowed, _ := reference(rules, p)
			d := room.Decide(rs.Person(p.provider, p.groups, p.email))
			if d.Allowed != allowed || allowed && d.Role != want {
				t.Fatalf("rules:\n%s\nperson %+v: got %s (%s); want allowed %v, %q", yamlOf(rules), p, Outcome(d), d.Reason(), allowed, want)
			}
			kept := rs.EssentialOf(p.provider, p.groups)
			if e := room.Decide(rs.Person(p.provider, kept, p.email)); e.Allowed != d.Allowed || e.Role != d.Role {
				t.Fatalf("rules:\n%s\nperson %+v: the groups a session keeps (%q) decide %s; all of them %s", yamlOf(rules), p, kept, Outcome(e), Outcome(d))
			}
			checked++
		}
		valid, validRules = append(valid, rs), append(validRules, rules)
	}
	if checked == 0 || shadowed == 0 {
		t.Fatalf("drew %d decisions on valid sets and %d shadowed rules; want some of each", checked, shadowed)
	}

	// Diff between consecutive valid sets.
	diffs := 0
	defer func() {
		t.Logf("%d decisions on %d valid rule sets, %d shadowed rules, %d diffs, against %d people", checked, len(valid), shadowed, diffs, len(people))
	}()
	for i := 1; i < len(valid) && i < 300; i++ {
		diffs++
		old, new := valid[i-1], valid[i]
		c, err := Diff(old, new)
		if err != nil {
			t.Fatal(err)
		}
		changed := len(c.Rooms) > 0 && len(c.Rooms[0].People) > 0
		for _, pc := range c.People() {
			groups := make([]string, len(pc.Groups))
			for k, g := range pc.Groups {
				groups[k] = strings.TrimPrefix(g, pc.Provider+":")
				if pc.Provider == "" {
					groups[k] = g
				}
			}
			od := old.Rooms()[0].Decide(old.Person(pc.Provider, groups, pc.Email))
			nd := new.Rooms()[0].Decide(new.Person(pc.Provider, groups, pc.Email))
			if sameOutcome(od, nd) {
				t.Fatalf("diff of\n%s\nand\n%s\nreports %+v, who decides alike", yamlOf(validRules[i-1]), yamlOf(validRules[i]), pc)
			}
		}
		for _, p := range people {
			od := old.Rooms()[0].Decide(old.Person(p.provider, p.groups, p.email))
			nd := new.Rooms()[0].Decide(new.Person(p.provider, p.groups, p.email))
			if !sameOutcome(od, nd) && !changed {
				t.Fatalf("diff of\n%s\nand\n%s\nfinds no change, but %+v goes from %s to %s", yamlOf(validRules[i-1]), yamlOf(validRules[i]), p, Outcome(od), Outcome(nd))
			}
		}
	}
}

func quoteAll(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// People lists every person change of c, for the test above.
func (c *Changes) People() []PersonChange {
	var out []PersonChange
	for _, rc := range c.Rooms {
		out = append(out, rc.People...)
	}
	return out
}

// TestProvidersInTheFile: what a rules file may say of providers, and
// what it may not.
func TestProvidersInTheFile(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, rooms string
		opts        Options
		want        string // a problem's text; "" for none
	}{
		{"everyone names providers", "- {path: r, room: r, rules: [{everyone: [acme, partner], role: attendee}]}", Options{Providers: twoProviders}, ""},
		{"everyone names no such provider", "- {path: r, room: r, rules: [{everyone: [nobody], role: attendee}]}", Options{Providers: twoProviders}, `rooms[0].rules[0].everyone[0]: "nobody" is not a provider (known: acme, partner)`},
		{"everyone names providers of a file with one", "- {path: r, room: r, rules: [{everyone: [acme], role: attendee}]}", Options{}, "names providers, but the file has one provider"},
		{"a room's providers", "- {path: r, room: r, providers: [partner], rules: [{everyone: [partner], role: attendee}]}", Options{Providers: twoProviders}, ""},
		{"a room names no such provider", "- {path: r, room: r, providers: [nobody], rules: [{everyone: true, role: attendee}]}", Options{Providers: twoProviders}, `rooms[0].providers[0]: "nobody" is not a provider`},
		{"an email no provider vouches for", "- {path: r, room: r, rules: [{emails: [\"*@gmail.com\"], deny: true}, {everyone: true, role: attendee}]}", Options{Providers: twoProviders}, `"*@gmail.com" matches no one`},
		{"the primary's everyone does not shadow the partner's group", "- {path: r, room: r, rules: [{everyone: true, role: attendee}, {groups: [\"partner:eng\"], role: moderator}]}", Options{Providers: twoProviders}, ""},
		{"the primary's everyone shadows the primary's group", "- {path: r, room: r, rules: [{everyone: true, role: attendee}, {groups: [eng], role: moderator}]}", Options{Providers: twoProviders}, "can never fire"},
		{"everyone of both shadows the partner's group", "- {path: r, room: r, rules: [{everyone: [acme, partner], role: attendee}, {groups: [\"partner:eng\"], role: moderator}]}", Options{Providers: twoProviders}, "can never fire"},
		{"* does not shadow the partner's group", "- {path: r, room: r, rules: [{groups: [\"*\"], role: attendee}, {groups: [\"partner:eng\"], role: moderator}]}", Options{Providers: twoProviders}, ""},
		{"partner:* shadows the partner's group", "- {path: r, room: r, rules: [{groups: [\"partner:*\"], role: attendee}, {groups: [\"partner:eng\"], role: moderator}]}", Options{Providers: twoProviders}, "can never fire"},
		{"the partner's everyone shadows its own email", "- {path: r, room: r, rules: [{everyone: [partner], role: attendee}, {emails: [\"*@partner.example\"], role: moderator}]}", Options{Providers: twoProviders}, "can never fire"},
		{"the primary's everyone does not shadow the partner's email", "- {path: r, room: r, rules: [{everyone: true, role: attendee}, {emails: [\"*@partner.example\"], role: moderator}]}", Options{Providers: twoProviders}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseWith(t, tt.rooms, tt.opts)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("problems: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v; want a problem containing %q", err, tt.want)
			}
		})
	}
}

// TestFingerprintKnowsProviders: the same pattern text is another pattern
// when it names a provider, so a session's kept groups are checked again.
func TestFingerprintKnowsProviders(t *testing.T) {
	t.Parallel()
	rooms := "- {path: r, room: r, rules: [{groups: [\"partner:eng\"], role: attendee}]}"
	one, err := parseWith(t, rooms, Options{})
	if err != nil {
		t.Fatal(err)
	}
	two, err := parseWith(t, rooms, Options{Providers: twoProviders})
	if err != nil {
		t.Fatal(err)
	}
	if one.Fingerprint() == two.Fingerprint() {
		t.Error("partner:eng as the primary's group and as the partner's eng have one fingerprint")
	}
	if d := two.Rooms()[0].Decide(two.Person("", []string{"partner:eng"}, "")); d.Allowed {
		t.Error("the primary's group named partner:eng matched the partner's pattern")
	}
	if d := two.Rooms()[0].Decide(two.Person("partner", []string{"eng"}, "")); !d.Allowed || d.Matched != "partner:eng" {
		t.Errorf("the partner's eng: %s, matched %q; want allowed, partner:eng", Outcome(d), d.Matched)
	}
	if d := one.Rooms()[0].Decide(one.Person("partner", []string{"eng"}, "")); d.Allowed {
		t.Error("a provider the rule set does not know got in")
	}
}
