package mapping

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RuleSet is the rooms section of a configuration file, checked and compiled
// by Parse. It is immutable and safe for concurrent use; a changed file gives
// a new RuleSet rather than changing this one.
type RuleSet struct {
	rooms  []*Room
	byPath map[string]*Room

	warnings  Problems
	admin     *Rule // who may open the helpdesk console; nil: no console
	providers providerSet

	globsOnce sync.Once
	distinct  []*glob // the distinct group patterns, sorted: see globs
}

// Room is one meeting room: where employees find it and who may enter.
type Room struct {
	Path  string // URL path segment under the gateway, such as "standup"
	Room  string // Digital Samba friendly URL or room UUID (the token's rd)
	Title string // shown to people; the path when the file gives none
	Rules []Rule // tried in order; the first that covers a person decides
	Pos   Pos    // where the room starts in the file
	Open  *Hours // opening hours; nil: always open
	// AllowPublic says the Digital Samba room may be public (anyone with
	// its link enters, without roomgate): check -remote then does not
	// report it, and sync does not make it private.
	AllowPublic bool
	// Guests, when set, lets people outside the company in on an
	// invitation, which the rules with Invite may make.
	Guests *Guests
	// Providers are the providers the room's people sign in with, by id:
	// the sign-in skips the chooser (one) or shows only these. Nil: all.
	Providers []string

	ops   []op   // Rules compiled for Decide
	globs []glob // the general group patterns of ops
}

// HasAdmin reports whether the file has an admin: section: without one,
// there is no helpdesk console.
func (rs *RuleSet) HasAdmin() bool { return rs != nil && rs.admin != nil }

// IsAdmin reports whether p may open the helpdesk console.
func (rs *RuleSet) IsAdmin(p *Person) bool {
	if !rs.HasAdmin() {
		return false
	}
	_, ok := rs.admin.decide(p)
	return ok
}

// Guests says how people outside the company enter a room on an
// invitation.
type Guests struct {
	Role     string        // the role every guest gets
	MaxValid time.Duration // the longest an invitation may be valid
	Pos      Pos
}

// The bounds of Guests.MaxValid.
const (
	DefaultMaxValid = 24 * time.Hour
	LongestMaxValid = 720 * time.Hour
)

// Rule is one line of a room's policy: whom it covers and what they get.
type Rule struct {
	Index    int      // position in Room.Rules, from 0; messages say "rules[2]" for Index 2
	Groups   []string // group patterns as written; a person in any group that one matches is covered
	Emails   []string // email patterns as written: an address, or *@domain
	Everyone bool     // covers every signed-in person of the primary, or of Providers
	// Providers are the ids everyone: [ids] names; nil for everyone:
	// true, the primary's people.
	Providers []string
	Role      string // the Digital Samba role given; empty when Deny
	Deny      bool   // keeps whoever the rule covers out
	Pos       Pos    // where the rule starts in the file
	// Early lets the people the rule covers in that long before each
	// opening of the room's hours.
	Early time.Duration
	// Until is the first moment the rule covers no one: the start of the
	// day after its until date, on the room's clock (UTC without hours).
	// Zero: no end.
	Until time.Time
	// Invite lets the people the rule decides for invite guests to the
	// room (its Guests).
	Invite bool

	globs    []glob         // Groups, compiled
	emails   []emailPattern // Emails, compiled
	everyone []int          // the providers Everyone covers, by index
}

// everyoneFor reports whether the rule's everyone covers p's provider.
func (rule *Rule) everyoneFor(p *Person) bool {
	return rule.Everyone && slices.Contains(rule.everyone, p.Provider())
}

// String names the rule the way field paths do, rules[2] (config.yaml:14),
// so that explain, audit lines and check messages agree.
func (r *Rule) String() string {
	return string(r.appendName(nil))
}

// appendName appends String.
func (r *Rule) appendName(b []byte) []byte {
	b = append(b, "rules["...)
	b = strconv.AppendInt(b, int64(r.Index), 10)
	b = append(b, "] ("...)
	b, _ = r.Pos.AppendText(b)
	return append(b, ')')
}

// Pos is a place in the configuration file.
type Pos struct {
	File string
	Line int
}

// String formats the place as file:line, such as config.yaml:14.
func (p Pos) String() string {
	b, _ := p.AppendText(nil)
	return string(b)
}

// AppendText appends String to b (encoding.TextAppender); it never fails.
func (p Pos) AppendText(b []byte) ([]byte, error) {
	b = append(b, p.File...)
	if p.Line > 0 {
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(p.Line), 10)
	}
	return b, nil
}

// Warnings are what Parse found allowed but worth a look, such as a rule
// whose until has passed: yesterday's valid file must not block today's
// reload, so they are not problems.
func (rs *RuleSet) Warnings() Problems {
	if rs == nil {
		return nil
	}
	return rs.warnings
}

// Lookup returns the room at path. Paths compare exactly (case-sensitive).
func (rs *RuleSet) Lookup(path string) (*Room, bool) {
	if rs == nil {
		return nil, false
	}
	r, ok := rs.byPath[path]
	return r, ok
}

// Rooms returns every room in file order. The slice is the caller's; the
// rooms are shared and must not be changed.
func (rs *RuleSet) Rooms() []*Room {
	if rs == nil {
		return nil
	}
	return slices.Clone(rs.rooms)
}

// quoteList formats names for a message: "a", "b", "c".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
