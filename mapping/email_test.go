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
		// A local part compares as written but for ASCII case: a look-alike
		// is another address, and no rule names it.
		{"a Kelvin sign is not a k", "\u212aim@example.com", nil, "", -1},
		{"a dotless i is not an i", "k\u0131m@example.com", nil, "", -1},
		// A domain compares as IDNA looks it up: width and case fold.
		{"a fullwidth domain is the domain IDNA looks up", "kim@\uff45xample.com", nil, "attendee", 1},
		{"a fullwidth deny domain is still denied", "bob@\uff43ontractor.example", []string{"eng"}, "", 0},
		{"an international address is not denied by another domain", "j\u00fcrgen@b\u00fccher.example", []string{"eng"}, "moderator", 2},
		{"a trailing dot is the same domain", "bob@contractor.example.", []string{"eng"}, "", 0},
		{"a trailing dot still lets in", "kim@example.com.", nil, "attendee", 1},
		{"a trailing dot at a domain pattern", "ann@Partner.Example.", nil, "attendee", 1},
		{"upper case with a trailing dot", "Bob@CONTRACTOR.EXAMPLE.", []string{"eng"}, "", 0},
		{"a quoted local part is read: the deny keeps them out", `"bob@x"@contractor.example`, []string{"eng"}, "", 0},
		// What cannot be read as an address has no known domain: no emails
		// rule covers it, and the groups decide.
		{"two @ are no address", "kim@example.com@contractor.example", []string{"eng"}, "moderator", 2},
		{"a control character is no address", "kim@example.com\x00", nil, "", -1},
		{"a comment is no address", "kim(x)@partner.example", nil, "", -1},
		{"an empty label is no address", "kim@partner..example", nil, "", -1},
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

// TestEmailPatternsMustReadOneWay refuses patterns that are no address.
func TestEmailPatternsMustReadOneWay(t *testing.T) {
	t.Parallel()
	for _, pattern := range []string{`"a b"@example.com`, "*@a..example", "kim@exa_mple.com", "kim@@example.com"} {
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

// TestInternationalDomains: a pattern and an address name one domain
// however each spells it: in Unicode, in any case, or as its xn-- form.
func TestInternationalDomains(t *testing.T) {
	t.Parallel()
	rs := mustParse(t, `rooms:
  - path: standup
    room: standup
    rules:
      - emails: ["*@b\u00fccher.example"]
        deny: true
      - emails: ["j\u00fcrgen@example.de"]
        role: speaker
      - everyone: true
        role: attendee
`)
	room, _ := rs.Lookup("standup")
	for email, want := range map[string]string{
		"ann@b\u00fccher.example":   "",
		"ann@B\u00dcCHER.example":   "",
		"ann@xn--bcher-kva.example": "",
		"ann@XN--BCHER-KVA.EXAMPLE": "",
		"j\u00fcrgen@example.de":    "speaker",
		"j\u00fcrgen@EXAMPLE.DE":    "speaker",
		"J\u00dcRGEN@example.de":    "attendee", // only ASCII letters fold in a local part
		"juergen@example.de":        "attendee",
	} {
		if d := room.Decide(NewPerson(nil, email)); d.Role != want {
			t.Errorf("%s: role %q; want %q", email, d.Role, want)
		}
	}
}
