// Package mapping is roomgate's rule language: it reads the rooms section of
// the configuration file, refuses it with every problem listed when it is
// wrong, and decides, for a signed-in person, whether they may enter a room
// and with which Digital Samba role.
//
// # Rooms
//
// The rooms section is a list of rooms:
//
//	rooms:
//	  - path: standup                 # the room is at https://meet.example.com/standup
//	    room: daily-standup           # the Digital Samba room: friendly URL or UUID
//	    title: "Daily stand-up"       # optional; shown to people, defaults to the path
//	    rules:                        # at least one; first rule that covers the person decides
//	      - groups: [eng-leads]
//	        role: moderator
//	      - emails: ["*@contractor.example"]
//	        deny: true
//	      - groups: [engineering, "eng-*", "/eng/*"]
//	        emails: [ceo@example.com]
//	        role: attendee
//	  - path: all-hands
//	    room: 7f9c2b1e-0000-4000-8000-000000000001
//	    rules:
//	      - groups: [leadership]
//	        role: moderator
//	      - everyone: true
//	        role: attendee
//
// A path is one URL segment: 1 to 64 letters, digits, '.', '_' or '-',
// starting with a letter or digit. Paths compare exactly when a request
// comes in, but two rooms whose paths differ only in letter case are
// refused, and so is a path equal (in any case) to one of roomgate's own
// routes such as healthz. A room value is a Digital Samba friendly URL or
// room UUID: letters, digits, '-', '_', '.' and '~'.
//
// # Rules
//
// A rule has matchers, which say whom it covers, and one outcome, which says
// what they get:
//
//   - groups: a list of group patterns. The person is covered when any of
//     their groups matches any of the patterns. Group names compare
//     exactly, letter case included (Engineering is not engineering).
//   - emails: a list of email addresses, or *@domain for every address at
//     that domain (the whole domain: *@example.com does not cover
//     ann@eu.example.com). Emails compare ignoring letter case. A person
//     without an email matches no email.
//   - everyone: true covers every signed-in person, including people with no
//     groups and no email.
//   - role: NAME lets the person in with that Digital Samba role; NAME must
//     be one of digitalsamba.roles.
//   - deny: true keeps the person out, whatever later rules say.
//
// A rule covers whoever matches any one of its matchers (groups OR emails).
// Rules are tried from the top; the first rule that covers the person
// decides, and later rules are not looked at. When no rule covers the person,
// they may not enter: that is a decision (a denial with a reason), not an
// error, and never a token without a role.
//
// With the example above, a member of eng-leads becomes moderator of
// standup even if their address is at contractor.example (rules[0] comes
// first); anyone else at contractor.example is kept out; a member of
// eng-platform or /eng/web, or ceo@example.com, is an attendee; anyone else
// is not let in. In all-hands every signed-in person is at least an attendee.
//
// # Group patterns
//
// In a group pattern, '*' matches any run of characters, '/' included, so
// that "/eng/*" covers Keycloak's nested groups /eng/leads and
// /eng/web/oncall; '?' matches exactly one character. Every other
// character stands for itself. '[', ']', '{', '}' and '\' are refused, since
// whoever writes eng-[ab] expects a character class that does not exist
// here; a group whose name contains one of them cannot be named in a rule.
// A pattern of "*" covers everyone in at least one group, which is not the
// same as everyone: true.
//
// # Checks
//
// Parse reports every problem of the section in one run, each with its file,
// line and field path:
//
//	config.yaml:22: rooms[0].rules[0].role: "moderater" is not a role of this team (known: moderator, speaker, attendee)
//
// It refuses unknown keys, values of the wrong type, missing or empty paths,
// rooms and rules, bad or reserved or repeated paths, unknown roles, rules
// without a matcher, rules with both or neither of role and deny: true,
// switches set to false (deny: false and everyone: false mean nothing),
// everyone: true next to groups or emails (they would add nothing), empty
// strings, malformed email patterns, unsupported pattern characters, and
// rules that can never fire because the earlier rules already cover
// everyone they cover: anything after everyone: true, or a rule each of
// whose groups and emails some earlier rule's patterns cover, one rule or
// several together (eng-* covers eng-x and eng-x*; *@example.com covers
// ann@example.com). That last check
// is sound, not complete: it reports only what it can prove.
//
// Rules are numbered from 0 and named like field paths: rules[2] is the third.
//
// # Deciding
//
// NewPerson indexes a person's groups and email once; Room.Decide then
// answers without allocating, however many rooms, rules and groups there
// are, and Decision.Reason says why in words for the audit log. Room.Explain
// lists every rule tried, for roomgate explain. RuleSet.Essential keeps one
// group per group pattern a person matches, so sessions stay small for
// people in hundreds of directory groups.
//
// The package knows nothing of HTTP or OpenID Connect: where the groups and
// the email come from, and whether the email is verified, is the caller's
// business.
package mapping
