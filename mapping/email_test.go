package mapping

import (
	"strings"
	"testing"
)

// TestEmailsCompareAsMailDoes tries to slip past email rules with what
// Unicode folding, DNS spelling and address syntax allow: a look-alike
// never matches, a spelling of the same domain never escapes a deny, and an
// address that reads two ways wins nothing and escapes no deny.
func TestEmailsCompareAsMailDoes(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, `rooms:
  - path: standup
    room: standup
    rules:
      - emails: ["*@contractor.example"]
        deny: true
      - emails: [kim@example.com, "*@partner.example"]
        role: attendee
      - groups: [eng]
        role: moderator
`)
	room, _ := rs.Lookup("standup")
	tests := []struct {
		name     string
		email    string
		groups   []string
		wantRole string // "" for a denial
		wantRule int    // -1 for none
	}{
		{"plain", "kim@example.com", nil, "attendee", 1},
		{"ASCII case folds", "KIM@Example.COM", nil, "attendee", 1},
		// Not ASCII, so unreadable: no access, and the deny rule covers them.
		{"a Kelvin sign is not a k", "\u212aim@example.com", nil, "", 0},
		{"a dotless i is not an i", "k\u0131m@example.com", nil, "", 0},
		{"a fullwidth domain is not the domain", "kim@\uff45xample.com", nil, "", 0},
		{"a trailing dot is the same domain", "bob@contractor.example.", []string{"eng"}, "", 0},
		{"a trailing dot still lets in", "kim@example.com.", nil, "attendee", 1},
		{"a trailing dot at a domain pattern", "ann@Partner.Example.", nil, "attendee", 1},
		{"upper case with a trailing dot", "Bob@CONTRACTOR.EXAMPLE.", []string{"eng"}, "", 0},
		{"a quoted local part is unreadable: the deny keeps them out", `"bob@x"@contractor.example`, []string{"eng"}, "", 0},
		{"two @ are unreadable: the deny keeps them out", "kim@example.com@contractor.example", []string{"eng"}, "", 0},
		{"an unreadable address wins no access", "kim@example.com\x00", nil, "", 0},
		{"a comment is unreadable", "kim(x)@partner.example", nil, "", 0},
		{"an empty label is unreadable", "kim@partner..example", nil, "", 0},
		{"no email: the groups decide", "", []string{"eng"}, "moderator", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := NewPerson(tt.groups, tt.email)
			d := room.Decide(p)
			if d.Role != tt.wantRole || ruleIndex(d) != tt.wantRule || d.Allowed != (tt.wantRole != "") {
				t.Errorf("email %q: got allowed %v role %q rule %d; want role %q rule %d", tt.email, d.Allowed, d.Role, ruleIndex(d), tt.wantRole, tt.wantRule)
			}
			if e, _ := room.Explain(p); e != d {
				t.Errorf("email %q: Explain got %+v; Decide %+v", tt.email, e, d)
			}
		})
	}
}

// TestEmailPatternsMustReadOneWay refuses patterns that would compare one
// way here and another way at the provider.
func TestEmailPatternsMustReadOneWay(t *testing.T) {
	t.Parallel()
	for _, pattern := range []string{"*@b\u00fccher.example", "\u212aim@example.com", `"a b"@example.com`, "*@a..example", "kim@exa_mple.com"} {
		_, err := parseSource(t, `rooms:
  - path: standup
    room: standup
    rules:
      - emails: ['`+pattern+`']
        role: attendee
`)
		if err == nil || !strings.Contains(err.Error(), "rules[0].emails[0]") {
			t.Errorf("pattern %q: got %v; want a problem at rules[0].emails[0]", pattern, err)
		}
	}
	rs := mustParse(t, `rooms:
  - path: standup
    room: standup
    rules:
      - emails: ["*@Example.COM."]
        role: attendee
`)
	room, _ := rs.Lookup("standup")
	if d := room.Decide(NewPerson(nil, "ann@example.com")); !d.Allowed {
		t.Errorf("*@Example.COM. does not cover ann@example.com")
	}
}
