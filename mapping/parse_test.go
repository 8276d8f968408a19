package mapping

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, `rooms:
  - path: standup
    room: daily-standup
    title: "Daily stand-up"
    rules:
      - groups: [eng-leads]
        role: moderator
      - emails: ["*@contractor.example", Ann@Example.com]
        deny: true
      - groups: [engineering, "eng-*"]
        role: attendee
  - path: all-hands
    room: 7f9c2b1e-0000-4000-8000-000000000001
    rules:
      - everyone: true
        role: attendee
`)
	rooms := rs.Rooms()
	if len(rooms) != 2 {
		t.Fatalf("Rooms: got %d rooms; want 2", len(rooms))
	}
	standup, ok := rs.Lookup("standup")
	if !ok || standup != rooms[0] {
		t.Fatalf("Lookup(standup): got %v, %v; want the first room", standup, ok)
	}
	if _, ok := rs.Lookup("Standup"); ok {
		t.Errorf("Lookup(Standup): found a room; want paths to compare exactly")
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"path", standup.Path, "standup"},
		{"room", standup.Room, "daily-standup"},
		{"title", standup.Title, "Daily stand-up"},
		{"pos", standup.Pos, Pos{"config.yaml", 2}},
		{"rules", len(standup.Rules), 3},
		{"rule 1 index", standup.Rules[1].Index, 1},
		{"rule 1 pos", standup.Rules[1].Pos.String(), "config.yaml:8"},
		{"rule 1 emails as written", strings.Join(standup.Rules[1].Emails, ","), "*@contractor.example,Ann@Example.com"},
		{"rule 1 deny", standup.Rules[1].Deny, true},
		{"rule 1 role", standup.Rules[1].Role, ""},
		{"rule 2 groups", strings.Join(standup.Rules[2].Groups, ","), "engineering,eng-*"},
		{"rule 2 role", standup.Rules[2].Role, "attendee"},
		{"default title", rooms[1].Title, "all-hands"},
		{"everyone", rooms[1].Rules[0].Everyone, true},
		{"rule string", rooms[1].Rules[0].String(), "rules[0] (config.yaml:15)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v; want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestParseNoRooms(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"server: {}\n", "rooms:\n", "rooms: []\n"} {
		rs, err := parseSource(t, src)
		if err != nil {
			t.Errorf("Parse(%q): %v; want no problem", src, err)
			continue
		}
		if rs == nil || len(rs.Rooms()) != 0 {
			t.Errorf("Parse(%q): got %v; want an empty rule set", src, rs)
		}
	}
	rs, err := Parse("config.yaml", nil, testOptions)
	if err != nil || rs == nil {
		t.Errorf("Parse(nil): got %v, %v; want an empty rule set", rs, err)
	}
	if _, ok := rs.Lookup("x"); ok {
		t.Errorf("Lookup on an empty rule set found a room")
	}
}

// room wraps rules in a valid room, so that each case below shows only what
// it is about. The rules start on line 5.
func room(rules string) string {
	return "rooms:\n  - path: standup\n    room: daily-standup\n    rules:\n" + rules
}

func TestParseProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "not a list",
			src:  "rooms: {path: x}\n",
			want: []string{`config.yaml:1: rooms: want a list, found a mapping`},
		},
		{
			name: "unknown keys and missing keys",
			src:  "rooms:\n  - paht: standup\n    titel: x\n",
			want: []string{
				`config.yaml:2: rooms[0].paht: unknown field (known: path, room, title, open, allow_public, rules, guests, providers)`,
				`config.yaml:2: rooms[0].path: missing; every room needs one, such as path: standup (the room is then at /standup)`,
				`config.yaml:2: rooms[0].room: missing; every room needs the Digital Samba room it opens, by friendly URL or UUID, such as room: daily-standup`,
				`config.yaml:2: rooms[0].rules: missing; a room needs at least one rule, such as - groups: [engineering] with role: attendee`,
				`config.yaml:3: rooms[0].titel: unknown field (known: path, room, title, open, allow_public, rules, guests, providers)`,
			},
		},
		{
			name: "repeated and odd keys",
			src:  "rooms:\n  - path: a\n    path: b\n    room: a\n    [x]: 1\n    rules:\n      - {everyone: true, role: attendee, role: speaker}\n",
			want: []string{
				`config.yaml:3: rooms[0].path: repeated field; each key may appear once`,
				`config.yaml:5: rooms[0]: keys must be plain names, found a list`,
				`config.yaml:7: rooms[0].rules[0].role: repeated field; each key may appear once`,
			},
		},
		{
			name: "bad paths, reserved paths, duplicates",
			src: `rooms:
  - {path: standup, room: a, rules: [{everyone: true, role: attendee}]}
  - {path: standup, room: b, rules: [{everyone: true, role: attendee}]}
  - {path: StandUp, room: c, rules: [{everyone: true, role: attendee}]}
  - {path: Metrics, room: d, rules: [{everyone: true, role: attendee}]}
  - {path: "a/b", room: e, rules: [{everyone: true, role: attendee}]}
  - {path: "", room: f, rules: [{everyone: true, role: attendee}]}
  - {path: [x], room: g, rules: [{everyone: true, role: attendee}]}
`,
			want: []string{
				`config.yaml:3: rooms[1].path: "standup" is already the path of rooms[0] (config.yaml:2); each room needs its own`,
				`config.yaml:4: rooms[2].path: "StandUp" differs from "standup", the path of rooms[0] (config.yaml:2), only in letter case; people type links by hand, so paths must differ in more than case`,
				`config.yaml:5: rooms[3].path: "Metrics" is one of roomgate's own routes; choose another path (taken: auth, healthz, readyz, metrics, static, demo)`,
				`config.yaml:6: rooms[4].path: "a/b" is not a valid path: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
				`config.yaml:7: rooms[5].path: empty; every room needs one, such as path: standup (the room is then at /standup)`,
				`config.yaml:8: rooms[6].path: want a text value, found a list`,
			},
		},
		{
			name: "bad room values and title",
			src: `rooms:
  - {path: a, room: "daily standup", rules: [{everyone: true, role: attendee}]}
  - {path: b, room: "..", title: "", rules: [{everyone: true, role: attendee}]}
  - {path: c, room: x/y, rules: [{everyone: true, role: attendee}]}
`,
			want: []string{
				`config.yaml:2: rooms[0].room: "daily standup" cannot be a Digital Samba room: give its friendly URL or UUID (letters, digits, '-', '_', '.' and '~' only)`,
				`config.yaml:3: rooms[1].room: ".." cannot be a Digital Samba room: give its friendly URL or UUID (letters, digits, '-', '_', '.' and '~' only)`,
				`config.yaml:3: rooms[1].title: empty; leave title out to show the path`,
				`config.yaml:4: rooms[2].room: "x/y" cannot be a Digital Samba room: give its friendly URL or UUID (letters, digits, '-', '_', '.' and '~' only)`,
			},
		},
		{
			name: "empty room and empty rules",
			src:  "rooms:\n  -\n  - {path: a, room: a, rules: []}\n  - {path: b, room: b, rules: }\n",
			want: []string{
				`config.yaml:2: rooms[0]: empty; a room needs path, room and rules`,
				`config.yaml:3: rooms[1].rules: empty; a room needs at least one rule, such as - groups: [engineering] with role: attendee`,
				`config.yaml:4: rooms[2].rules: empty; a room needs at least one rule, such as - groups: [engineering] with role: attendee`,
			},
		},
		{
			name: "roles",
			src: room(`      - groups: [a]
        role: moderater
      - groups: [b]
        role: ""
      - groups: [c]
        role: Moderator
`),
			want: []string{
				`config.yaml:6: rooms[0].rules[0].role: "moderater" is not a role of this team (known: moderator, speaker, attendee)`,
				`config.yaml:8: rooms[0].rules[1].role: empty; name one of the team's roles (known: moderator, speaker, attendee)`,
				`config.yaml:10: rooms[0].rules[2].role: "Moderator" is not a role of this team (known: moderator, speaker, attendee)`,
			},
		},
		{
			name: "outcomes and matchers",
			src: room(`      - groups: [a]
      - groups: [b]
        role: speaker
        deny: true
      - role: speaker
      - groups: [c]
        deny: false
      - everyone: false
        role: speaker
      - everyone:
        role: speaker
      - everyone: yes please
        role: speaker
`),
			want: []string{
				`config.yaml:5: rooms[0].rules[0]: has no outcome: add role: NAME (known: moderator, speaker, attendee) or deny: true`,
				`config.yaml:6: rooms[0].rules[1]: has both role and deny: true; a rule has exactly one outcome, so remove one`,
				`config.yaml:9: rooms[0].rules[2]: has no matcher, so it covers no one: add groups, emails or everyone: true`,
				`config.yaml:10: rooms[0].rules[3]: has no outcome: add role: NAME (known: moderator, speaker, attendee) or deny: true`,
				`config.yaml:11: rooms[0].rules[3].deny: false means nothing here: leave deny out (a rule without deny: true gives its role)`,
				`config.yaml:12: rooms[0].rules[4].everyone: false means nothing here: leave everyone out, or write everyone: true to cover every signed-in person`,
				`config.yaml:14: rooms[0].rules[5].everyone: no value; write true or leave it out`,
				`config.yaml:16: rooms[0].rules[6].everyone: want true or false, found "yes please"`,
			},
		},
		{
			name: "everyone next to other matchers",
			src: room(`      - everyone: true
        groups: [a]
        emails: [a@example.com]
        role: speaker
`),
			want: []string{
				`config.yaml:5: rooms[0].rules[0]: everyone: true already covers every signed-in person, so groups and emails add nothing; remove one or the other`,
			},
		},
		{
			name: "group patterns",
			src: room(`      - groups: [ok, "", "eng-[ab]", "{a,b}", 'a\b', [x]]
        role: speaker
      - groups: []
        role: speaker
      - groups: eng
        role: speaker
`),
			want: []string{
				`config.yaml:5: rooms[0].rules[0].groups[1]: empty group name`,
				`config.yaml:5: rooms[0].rules[0].groups[2]: "eng-[ab]" uses "[", which group patterns do not support: only * (any run of characters) and ? (one character) are special`,
				`config.yaml:5: rooms[0].rules[0].groups[3]: "{a,b}" uses "{", which group patterns do not support: only * (any run of characters) and ? (one character) are special`,
				`config.yaml:5: rooms[0].rules[0].groups[4]: "a\\b" uses "\\", which group patterns do not support: only * (any run of characters) and ? (one character) are special`,
				`config.yaml:5: rooms[0].rules[0].groups[5]: want a text value, found a list`,
				`config.yaml:7: rooms[0].rules[1].groups: empty list covers no one; name at least one group or leave groups out`,
				`config.yaml:9: rooms[0].rules[2].groups: want a list, found "eng"`,
			},
		},
		{
			name: "email patterns",
			src: room(`      - emails:
          - ann@example.com
          - "*@example.org"
          - ""
          - bob
          - "a b@example.com"
          - "a@b@example.com"
          - "*@"
          - "*@*.example.com"
          - "a*@example.com"
          - "*"
          - "@example.com"
          - "ann@"
        role: speaker
`),
			want: []string{
				`config.yaml:8: rooms[0].rules[0].emails[2]: empty email`,
				`config.yaml:9: rooms[0].rules[0].emails[3]: "bob" is not an email (no @): write name@example.com, or *@example.com for everyone at a domain`,
				`config.yaml:10: rooms[0].rules[0].emails[4]: "a b@example.com" contains a space; an email has none`,
				`config.yaml:11: rooms[0].rules[0].emails[5]: "a@b@example.com" has more than one @`,
				`config.yaml:12: rooms[0].rules[0].emails[6]: "*@" names no domain: write *@example.com`,
				`config.yaml:13: rooms[0].rules[0].emails[7]: "*@*.example.com": * is only allowed as the whole part before the @, as in *@example.com`,
				`config.yaml:14: rooms[0].rules[0].emails[8]: "a*@example.com": * is only allowed as the whole part before the @, as in *@example.com`,
				`config.yaml:15: rooms[0].rules[0].emails[9]: "*" is not an email (no @): write name@example.com, or *@example.com for everyone at a domain`,
				`config.yaml:16: rooms[0].rules[0].emails[10]: "@example.com" is not an email: write name@example.com, or *@example.com for everyone at a domain`,
				`config.yaml:17: rooms[0].rules[0].emails[11]: "ann@" is not an email: write name@example.com, or *@example.com for everyone at a domain`,
			},
		},
		{
			name: "unknown rule keys and wrong rule types",
			src: room(`      - grups: [a]
        role: speaker
      - just a string
      -
`),
			want: []string{
				`config.yaml:5: rooms[0].rules[0].grups: unknown field (known: groups, emails, everyone, role, deny, early, until, invite)`,
				`config.yaml:5: rooms[0].rules[0]: has no matcher, so it covers no one: add groups, emails or everyone: true`,
				`config.yaml:7: rooms[0].rules[1]: want a mapping of keys to values, found "just a string"`,
				`config.yaml:8: rooms[0].rules[2]: empty; a rule needs a matcher (groups, emails or everyone: true) and an outcome (role or deny: true)`,
			},
		},
		{
			name: "invite without guests, and on a deny rule",
			src: room(`      - groups: [contractors]
        deny: true
        invite: true
      - groups: [eng-leads]
        role: moderator
        invite: true
`),
			want: []string{
				`config.yaml:7: rooms[0].rules[0].invite: a deny rule lets no one in, so no one it covers can invite guests; remove invite`,
				`config.yaml:8: rooms[0].rules[1].invite: the room has no guests: section, so no one can be invited to it; add guests: {role: ...} to the room, or remove invite`,
			},
		},
		{
			name: "guests with an unknown role and too long a validity",
			src: "rooms:\n  - path: standup\n    room: daily-standup\n    guests:\n      role: visitor\n      max_valid: 1000h\n    rules:\n      - everyone: true\n        role: attendee\n" +
				"  - path: retro\n    room: retro\n    guests: {max_valid: 2h}\n    rules:\n      - everyone: true\n        role: attendee\n",
			want: []string{
				`config.yaml:5: rooms[0].guests.role: "visitor" is not a role of this team (known: moderator, speaker, attendee)`,
				`config.yaml:6: rooms[0].guests.max_valid: want a duration above 0 and at most 720h (30 days), such as 72h, found "1000h"`,
				`config.yaml:12: rooms[1].guests.role: missing; name the role every guest gets, one of the team's roles (known: moderator, speaker, attendee)`,
			},
		},
		{
			name: "rules that can never fire",
			src: room(`      - groups: [eng-*]
        role: moderator
      - groups: [eng-leads, "eng-x*"]
        role: speaker
      - everyone: true
        role: attendee
      - emails: [ann@example.com]
        deny: true
`),
			want: []string{
				`config.yaml:7: rooms[0].rules[1]: can never fire: rules[0] (config.yaml:5) already covers everyone it covers`,
				`config.yaml:11: rooms[0].rules[3]: can never fire: rules[2] (config.yaml:9) has everyone: true and decides for every person first`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rs, err := parseSource(t, tt.src)
			if rs != nil {
				t.Errorf("Parse: got a rule set; want nil with problems")
			}
			assertProblems(t, err, tt.want)
		})
	}
}

// assertProblems checks that err lists exactly want, one problem per line,
// in order.
func assertProblems(t *testing.T, err error, want []string) {
	t.Helper()
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Parse: got error %v (%T); want Problems", err, err)
	}
	got := strings.Split(ps.Error(), "\n")
	if !slices.Equal(got, want) {
		t.Errorf("problems:\ngot  %q\nwant %q", got, want)
		for i := range max(len(got), len(want)) {
			var g, w string
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if g != w {
				t.Errorf("line %d: got %q; want %q", i, g, w)
			}
		}
	}
}

// TestParseAllInOneRun checks the promise that matters most to an admin:
// problems in different rooms and of different kinds come out together.
func TestParseAllInOneRun(t *testing.T) {
	t.Parallel()
	_, err := parseSource(t, `rooms:
  - path: healthz
    room: a
    rules:
      - groups: [a]
        role: moderater
  - path: ok
    room: b
    colour: blue
    rules:
      - everyone: true
        role: attendee
      - groups: [b]
        role: speaker
`)
	assertProblems(t, err, []string{
		`config.yaml:2: rooms[0].path: "healthz" is one of roomgate's own routes; choose another path (taken: auth, healthz, readyz, metrics, static, demo)`,
		`config.yaml:6: rooms[0].rules[0].role: "moderater" is not a role of this team (known: moderator, speaker, attendee)`,
		`config.yaml:9: rooms[1].colour: unknown field (known: path, room, title, open, allow_public, rules, guests, providers)`,
		`config.yaml:13: rooms[1].rules[1]: can never fire: rules[0] (config.yaml:11) has everyone: true and decides for every person first`,
	})
}

func TestParseNoRolesConfigured(t *testing.T) {
	t.Parallel()
	rooms, err := roomsNode([]byte(room("      - everyone: true\n        role: attendee\n")))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse("team.yaml", rooms, Options{})
	assertProblems(t, err, []string{
		`team.yaml:6: rooms[0].rules[0].role: "attendee" is not a role of this team (known: none)`,
	})
}

func TestParseAliases(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, `leads: &leads [eng-leads, "/eng/leads"]
rooms:
  - path: a
    room: a
    rules:
      - groups: *leads
        role: moderator
`)
	room, _ := rs.Lookup("a")
	if got := strings.Join(room.Rules[0].Groups, ","); got != "eng-leads,/eng/leads" {
		t.Errorf("groups through an alias: got %q; want %q", got, "eng-leads,/eng/leads")
	}
}
