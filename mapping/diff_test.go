package mapping

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
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
	od, nd := rc.Old.DecideAt(p, pc.At), rc.New.DecideAt(p, pc.At)
	if od != pc.Old || nd != pc.New || (od.Allowed == nd.Allowed && od.Role == nd.Role && od.MayInvite() == nd.MayInvite()) {
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

// TestDiffOverTime: edits that change who may enter only at some moments
// are listed, each with a moment at which explain -at gives the old
// outcome under the old rules and the new one under the new.
func TestDiffOverTime(t *testing.T) {
	t.Parallel()
	room := func(open, rules string) string {
		return "rooms:\n  - path: standup\n    room: standup\n" + open + "    rules:\n" + rules
	}
	fri := "    open:\n      timezone: Europe/Berlin\n      weekly:\n        - {days: [fri], from: \"09:00\", to: \"10:00\"}\n"
	every := "    open:\n      timezone: Europe/Berlin\n      weekly:\n        - {days: [mon, tue, wed, thu, fri, sat, sun], from: \"09:00\", to: \"10:00\"}\n"
	leads := "      - {groups: [leads], role: moderator}\n"
	tests := []struct {
		name, old, new string
		want           string // "old->new" of one change
	}{
		{"an until moved from 2021 to 2099",
			room("", leads+"      - {groups: [interns], role: attendee, until: 2021-03-31}\n"),
			room("", leads+"      - {groups: [interns], role: attendee, until: 2099-03-31}\n"),
			"deny->attendee"},
		{"a room's open removed", room(fri, leads), room("", leads), "deny->moderator"},
		{"days widened from fri to every day", room(fri, leads), room(every, leads), "deny->moderator"},
		{"early added", room(fri, leads), room(fri, "      - {groups: [leads], role: moderator, early: 15m}\n"), "deny->moderator"},
		{"a one-off date added", room(fri, leads),
			room(fri+"      dates:\n        - {from: \"2027-01-06T15:00\", to: \"2027-01-06T16:00\"}\n", leads), "deny->moderator"},
		{"the time zone changed", room(fri, leads), room(strings.Replace(fri, "Europe/Berlin", "America/New_York", 1), leads), "moderator->deny"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, got := diffKinds(t, mustParse(t, tt.old), mustParse(t, tt.new))
			if !slices.Contains(got, tt.want) {
				t.Fatalf("changes %q; want %s among them", got, tt.want)
			}
			for _, pc := range c.Rooms[0].People {
				if pc.At.IsZero() {
					t.Errorf("a change over time without its moment: %+v", pc)
				}
			}
		})
	}
	same := room(fri, leads)
	if c, _ := diffKinds(t, mustParse(t, same), mustParse(t, "\n\n"+same)); !c.None() {
		t.Errorf("the same hours and rules, moved down the file: %+v; want no change", c.Rooms)
	}
}

// TestDiffCompleteOverTime draws small rule sets with opening hours,
// untils and early, and checks Diff against brute force over people and
// moments: every 15 minutes across the weeks around the rules' dates.
func TestDiffCompleteOverTime(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 23))
	groups := []string{"a", "b", "a*"}
	hours := []string{"09:00", "09:30", "10:00", "17:00", "23:30"}
	makeRoom := func() string {
		var b strings.Builder
		b.WriteString("rooms:\n  - path: standup\n    room: standup\n")
		if r.IntN(4) != 0 {
			b.WriteString("    open:\n      timezone: UTC\n")
			if r.IntN(3) != 0 {
				days := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
				from, to := hours[r.IntN(len(hours))], hours[r.IntN(len(hours))]
				fmt.Fprintf(&b, "      weekly:\n        - {days: [%s], from: %q, to: %q}\n", days[r.IntN(7)], from, to)
			}
			if r.IntN(2) == 0 {
				fmt.Fprintf(&b, "      dates:\n        - {from: \"2027-01-%02dT%s\", to: \"2027-01-%02dT%s\"}\n", 4+r.IntN(3), hours[r.IntN(3)], 7+r.IntN(2), hours[3])
			}
		}
		b.WriteString("    rules:\n")
		for range 1 + r.IntN(3) {
			m := []string{fmt.Sprintf("groups: [%q]", groups[r.IntN(len(groups))]), []string{"role: moderator", "role: attendee", "deny: true"}[r.IntN(3)]}
			if r.IntN(3) == 0 {
				m = append(m, fmt.Sprintf("until: 2027-01-%02d", 3+r.IntN(6)))
			}
			if r.IntN(3) == 0 && !strings.Contains(m[1], "deny") {
				m = append(m, []string{"early: 15m", "early: 45m"}[r.IntN(2)])
			}
			b.WriteString("      - {" + strings.Join(m, ", ") + "}\n")
		}
		return b.String()
	}
	people := [][]string{nil, {"a"}, {"b"}, {"ab"}, {"a", "b"}, {"ab", "b"}}
	start := time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC)
	checked, changed := 0, 0
	for range 1000 {
		oldSrc, newSrc := makeRoom(), makeRoom()
		old, errO := parseSource(t, oldSrc)
		new, errN := parseSource(t, newSrc)
		if errO != nil || errN != nil {
			continue
		}
		checked++
		c, err := Diff(old, new)
		if err != nil {
			t.Fatal(err)
		}
		for _, rc := range c.Rooms {
			for _, pc := range rc.People {
				checkReallyChanges(t, rc, pc)
			}
		}
		o, _ := old.Lookup("standup")
		n, _ := new.Lookup("standup")
		found := false
		for at := start; at.Before(start.Add(5*7*24*time.Hour)) && !found; at = at.Add(15 * time.Minute) {
			for _, gs := range people {
				p := NewPerson(gs, "")
				od, nd := o.DecideAt(p, at), n.DecideAt(p, at)
				if od.Allowed != nd.Allowed || od.Role != nd.Role {
					found = true
					if len(c.Rooms) == 0 {
						t.Fatalf("groups %q at %s: %s then %s, but Diff lists no change\nold:\n%s\nnew:\n%s", gs, at, Outcome(od), Outcome(nd), oldSrc, newSrc)
					}
					break
				}
			}
		}
		if found {
			changed++
		}
	}
	if checked < 200 || changed < 50 {
		t.Errorf("%d pairs checked, %d changed; the test would prove little", checked, changed)
	}
}

// TestDiffInviteRight: gaining or losing the right to invite guests is a
// change, even when the role stays.
func TestDiffInviteRight(t *testing.T) {
	t.Parallel()
	room := func(rules string) string {
		return "rooms:\n  - path: standup\n    room: standup\n    guests: {role: attendee}\n    rules:\n" + rules
	}
	old := mustParse(t, room("      - {groups: [eng-leads], role: moderator}\n      - {groups: [eng], role: attendee}\n"))
	new := mustParse(t, room("      - {groups: [eng-leads], role: moderator, invite: true}\n      - {groups: [eng], role: attendee}\n"))
	_, got := diffKinds(t, old, new)
	if want := []string{"moderator->moderator (may invite guests)"}; !slices.Equal(slices.Compact(got), want) {
		t.Errorf("changes %q; want %q", got, want)
	}
	if _, back := diffKinds(t, new, old); !slices.Equal(slices.Compact(back), []string{"moderator (may invite guests)->moderator"}) {
		t.Errorf("losing the right: changes %q", back)
	}
}
