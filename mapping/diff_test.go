package mapping

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func roomsOf(rules string) string {
	return "rooms:\n  - path: standup\n    room: standup\n    rules:\n" + rules
}

// TestDiffFindsEachKindOfChange: known edits of one room and the changes
// they must show, each with a person that really changes.
func TestDiffFindsEachKindOfChange(t *testing.T) {
	t.Parallel()
	base := "      - {groups: [eng-leads], role: moderator}\n      - {emails: [\"*@contractor.example\"], deny: true}\n      - {groups: [\"eng-*\"], role: attendee}\n"
	tests := []struct {
		name, new string
		want      []string // "old->new" per kind, sorted
	}{
		{"nothing", base, nil},
		{"reordered deny before the leads", "      - {emails: [\"*@contractor.example\"], deny: true}\n      - {groups: [eng-leads], role: moderator}\n      - {groups: [\"eng-*\"], role: attendee}\n",
			[]string{"moderator->deny"}},
		{"attendees become speakers", strings.Replace(base, "role: attendee", "role: speaker", 1), []string{"attendee->speaker"}},
		{"everyone else attends", base + "      - {everyone: true, role: attendee}\n", []string{"deny->attendee"}},
		{"glob narrowed", strings.Replace(base, `"eng-*"`, `"eng-web*"`, 1), []string{"attendee->deny"}},
		{"overlapping globs", "      - {groups: [\"*-leads\"], role: moderator}\n      - {emails: [\"*@contractor.example\"], deny: true}\n      - {groups: [\"eng-*\"], role: attendee}\n",
			[]string{"attendee->moderator", "deny->moderator"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			old, new := mustParse(t, roomsOf(base)), mustParse(t, roomsOf(tt.new))
			c, got := diffKinds(t, old, new)
			got = slices.Compact(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("changes %q; want %q", got, tt.want)
			}
			if c.None() != (tt.want == nil) {
				t.Errorf("None() = %v with changes %q", c.None(), got)
			}
		})
	}
}

// TestDiffNeedsPeopleOfTwoKinds: changes only a person in two groups, or
// in a group and at a domain, shows.
func TestDiffNeedsPeopleOfTwoKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, old, new string
		want           []string
	}{
		{"two rules swapped: only someone in a and b changes",
			"      - {groups: [a], role: moderator}\n      - {groups: [b], role: attendee}\n",
			"      - {groups: [b], role: attendee}\n      - {groups: [a], role: moderator}\n",
			[]string{"moderator->attendee"}},
		{"a deny by address becomes a role: that address alone changes",
			"      - {emails: [ann@example.com], deny: true}\n      - {everyone: true, role: attendee}\n",
			"      - {emails: [ann@example.com], role: speaker}\n      - {everyone: true, role: attendee}\n",
			[]string{"deny->speaker"}},
		{"a rule by domain and one by group swapped: someone at the domain in the group changes",
			"      - {emails: [\"*@example.com\"], role: speaker}\n      - {groups: [a], role: moderator}\n",
			"      - {groups: [a], role: moderator}\n      - {emails: [\"*@example.com\"], role: speaker}\n",
			[]string{"speaker->moderator"}},
	}
	for _, tt := range tests {
		_, got := diffKinds(t, mustParse(t, roomsOf(tt.old)), mustParse(t, roomsOf(tt.new)))
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: changes %q; want %q", tt.name, got, tt.want)
		}
	}
}

// diffKinds runs Diff and returns its changes as "old->new", sorted, each
// person checked to really change.
func diffKinds(t *testing.T, old, new *RuleSet) (*Changes, []string) {
	t.Helper()
	c, err := Diff(old, new)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rc := range c.Rooms {
		for _, pc := range rc.People {
			checkReallyChanges(t, rc, pc)
			got = append(got, Outcome(pc.Old)+"->"+Outcome(pc.New))
		}
	}
	slices.Sort(got)
	return c, got
}

// checkReallyChanges feeds the printed person to both rule sets: Diff is
// sound only if every person it names decides differently.
func checkReallyChanges(t *testing.T, rc RoomChange, pc PersonChange) {
	t.Helper()
	p := NewPerson(pc.Groups, pc.Email)
	od, nd := rc.Old.Decide(p), rc.New.Decide(p)
	if od != pc.Old || nd != pc.New || (od.Allowed == nd.Allowed && od.Role == nd.Role) {
		t.Errorf("room %s: person %q %q: got %s then %s; Diff said %s then %s, a change", rc.Old.Path, pc.Groups, pc.Email, Outcome(od), Outcome(nd), Outcome(pc.Old), Outcome(pc.New))
	}
}

func TestDiffRoomsAddedAndRemoved(t *testing.T) {
	t.Parallel()
	old := mustParse(t, "rooms:\n  - {path: a, room: a, rules: [{everyone: true, role: attendee}]}\n  - {path: b, room: b, rules: [{everyone: true, role: attendee}]}\n")
	new := mustParse(t, "rooms:\n  - {path: b, room: b2, rules: [{everyone: true, role: attendee}]}\n  - {path: c, room: c, rules: [{everyone: true, role: attendee}]}\n")
	c, err := Diff(old, new)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Removed) != 1 || c.Removed[0].Path != "a" || len(c.Added) != 1 || c.Added[0].Path != "c" {
		t.Errorf("removed %v, added %v; want a removed, c added", c.Removed, c.Added)
	}
	if len(c.Rooms) != 1 || c.Rooms[0].New.Room != "b2" || len(c.Rooms[0].People) != 0 {
		t.Errorf("rooms %+v; want b, whose Digital Samba room changed, with no person changing", c.Rooms)
	}
}

// TestDiffComplete draws small random rule sets with globs, emails and
// everyone, and checks Diff against brute force: whenever some person of a
// large sample decides differently, the room is listed; and every person
// Diff lists really changes.
func TestDiffComplete(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(11, 9))
	groupPats := []string{"a", "b", "ab", "a*", "*b", "a?", "?", "*", "a*b", "*a*", "b*", "ba", "??"}
	emailPats := []string{"ann@x.org", "bob@x.org", "*@x.org", "*@y.org", "ann@y.org"}
	roles := []string{"moderator", "speaker", "attendee"}
	makeRules := func() string {
		var b strings.Builder
		for range 1 + r.IntN(4) {
			var m []string
			if r.IntN(7) == 0 {
				m = append(m, "everyone: true")
			} else {
				var gs, es []string
				for range r.IntN(3) {
					gs = append(gs, fmt.Sprintf("%q", groupPats[r.IntN(len(groupPats))]))
				}
				for range r.IntN(2) {
					es = append(es, fmt.Sprintf("%q", emailPats[r.IntN(len(emailPats))]))
				}
				if len(gs)+len(es) == 0 {
					gs = []string{`"a"`}
				}
				if len(gs) > 0 {
					m = append(m, "groups: ["+strings.Join(gs, ", ")+"]")
				}
				if len(es) > 0 {
					m = append(m, "emails: ["+strings.Join(es, ", ")+"]")
				}
			}
			if r.IntN(4) == 0 {
				m = append(m, "deny: true")
			} else {
				m = append(m, "role: "+roles[r.IntN(len(roles))])
			}
			b.WriteString("      - {" + strings.Join(m, ", ") + "}\n")
		}
		return b.String()
	}
	// Every name of up to three characters over a, b and c.
	names := []string{""}
	for l := 1; l <= 3; l++ {
		var next []string
		for _, n := range names {
			if len(n) == l-1 {
				for _, c := range "abc" {
					next = append(next, n+string(c))
				}
			}
		}
		names = append(names, next...)
	}
	names = names[1:]
	emails := []string{"", "ann@x.org", "bob@x.org", "cy@x.org", "ann@y.org", "cy@y.org", "ann@z.org", "a b@x.org"}
	checked, changed := 0, 0
	for range 1500 {
		oldSrc, newSrc := roomsOf(makeRules()), roomsOf(makeRules())
		old, errO := parseSource(t, oldSrc)
		new, errN := parseSource(t, newSrc)
		if errO != nil || errN != nil {
			continue // a shadowed rule: not a valid file
		}
		checked++
		c, err := Diff(old, new)
		if err != nil {
			t.Fatal(err)
		}
		listed := len(c.Rooms) > 0
		for _, rc := range c.Rooms {
			for _, pc := range rc.People {
				checkReallyChanges(t, rc, pc)
			}
		}
		o, _ := old.Lookup("standup")
		n, _ := new.Lookup("standup")
		brute := false
		for k := 0; k < 400 && !brute; k++ {
			var gs []string
			for range r.IntN(4) {
				gs = append(gs, names[r.IntN(len(names))])
			}
			p := NewPerson(gs, emails[r.IntN(len(emails))])
			od, nd := o.Decide(p), n.Decide(p)
			if od.Allowed != nd.Allowed || od.Role != nd.Role {
				brute = true
				if !listed {
					t.Fatalf("person %q %q: %s then %s, but Diff lists no change\nold:\n%s\nnew:\n%s", gs, p.Email(), Outcome(od), Outcome(nd), oldSrc, newSrc)
				}
			}
		}
		if brute {
			changed++
		}
	}
	if checked < 300 || changed < 100 {
		t.Errorf("checked %d pairs, %d with changes; the test would prove little", checked, changed)
	}
}
