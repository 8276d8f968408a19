package mapping

import (
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"
)

// Diff compares two rule sets, room by room, and finds who gains or loses
// what: for every room in either set, each kind of person whose outcome
// (allowed or not, and the role) changes at some moment, as one concrete
// person and, where the rooms' hours or untils make the moment matter, one
// concrete moment (DecideAt).
//
// It is sound: every person it returns decides differently under the two
// sets (Decide says so). It is complete: if any person at all decides
// differently in a room, the room has at least one change. Both rest on
// two facts. First, a person's decision in a room depends only on which of
// the room's patterns their groups match and how their email compares, so
// people fall into finitely many kinds, and the kinds of one group name
// are the reachable states of the patterns run side by side as automata
// (witnesses finds a shortest name for each). Second, the first rule that
// covers a person is the earliest rule that covers one of their groups or
// their email, so a person's pair of decisions (old, new) is already the
// pair of a person made of at most two of those: the one that decides under
// the old rules and the one that decides under the new. Over time, the
// decisions hold still between the boundaries that moments finds, so a
// moment in each stretch between them stands for all of it.
func Diff(old, new *RuleSet) (*Changes, error) {
	c := &Changes{}
	for _, o := range old.Rooms() {
		n, ok := new.Lookup(o.Path)
		if !ok {
			c.Removed = append(c.Removed, o)
			continue
		}
		rc := RoomChange{Old: o, New: n}
		if !sameProviders(old, new) || !sameDecisions(o, n) {
			var err error
			if rc, err = diffRoom(old, new, o, n); err != nil {
				return nil, err
			}
		}
		if len(rc.People) > 0 || o.Room != n.Room {
			c.Rooms = append(c.Rooms, rc)
		}
	}
	for _, n := range new.Rooms() {
		if _, ok := old.Lookup(n.Path); !ok {
			c.Added = append(c.Added, n)
		}
	}
	return c, nil
}

// Changes is what Diff finds.
type Changes struct {
	Rooms   []RoomChange // rooms in both sets whose decisions (or Digital Samba room) change, in the old set's order
	Added   []*Room      // rooms only the new set has
	Removed []*Room      // rooms only the old set has
}

// None reports whether no decision changes: no room added, removed or
// deciding differently for anyone.
func (c *Changes) None() bool { return len(c.Rooms)+len(c.Added)+len(c.Removed) == 0 }

// RoomChange is one room whose decisions change.
type RoomChange struct {
	Old, New *Room
	People   []PersonChange // one per kind of change: old rule and outcome, new rule and outcome
}

// PersonChange is one concrete person whose outcome changes, and the
// decisions of both sets.
type PersonChange struct {
	Provider string    // the id of the provider the person signs in with; "" for the primary
	Groups   []string  // as the rules see them (another provider's qualified: partner:eng)
	Email    string    // "" for none
	At       time.Time // the moment of both decisions (DecideAt); zero when the rooms decide alike at every moment (Decide)
	Old, New Decision
}

// Zone is the clock to write a change's moment on: the new room's, else
// the old one's, else UTC.
func (rc RoomChange) Zone() *time.Location {
	for _, r := range [2]*Room{rc.New, rc.Old} {
		if r != nil && r.Open != nil {
			return r.Open.Zone
		}
	}
	return time.UTC
}

// Outcome says a decision's outcome in a word: the role, or deny.
func Outcome(d Decision) string {
	switch {
	case d.Allowed && d.MayInvite():
		return d.Role + " (may invite guests)"
	case d.Allowed:
		return d.Role
	}
	return "deny"
}

// sameOutcome reports whether two decisions let a person do the same.
func sameOutcome(a, b Decision) bool {
	return a.Allowed == b.Allowed && a.Role == b.Role && a.MayInvite() == b.MayInvite()
}

// maxDiffStates bounds the automaton search of one room. Rooms hold a few
// patterns; a room with so many that their kinds pass this is refused
// rather than compared incompletely.
const maxDiffStates = 200_000

// diffRoom finds the changes of room o of oldSet, n of newSet: for each
// provider of either set, among its people. A provider one set does not
// know lets no one in under it (RuleSet.Person).
func diffRoom(oldSet, newSet *RuleSet, o, n *Room) (RoomChange, error) {
	rc := RoomChange{Old: o, New: n}
	var emails []emailPattern
	for _, r := range [][]Rule{o.Rules, n.Rules} {
		for i := range r {
			emails = append(emails, r[i].emails...)
		}
	}
	mails := emailKinds(emails)
	at, err := moments(o, n)
	if err != nil {
		return rc, fmt.Errorf("mapping: room %s: %w", o.Path, err)
	}
	if at == nil {
		at = []time.Time{{}}
	}
	ids := newSet.Providers()
	for _, id := range oldSet.Providers()[1:] {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for k, id := range ids {
		if k == 0 {
			id = "" // the primary, in both sets
		}
		if err := diffPeople(&rc, oldSet, newSet, id, mails, at); err != nil {
			return rc, fmt.Errorf("mapping: room %s: %w", o.Path, err)
		}
	}
	return rc, nil
}

// diffPeople adds to rc the changes among the people of one provider.
func diffPeople(rc *RoomChange, oldSet, newSet *RuleSet, provider string, mails []string, at []time.Time) error {
	o, n := rc.Old, rc.New
	qual := ""
	if provider != "" {
		qual = provider + ":"
	}
	// The provider's patterns: those only its people are tried on.
	var globs []glob
	seen := map[string]bool{}
	for _, r := range [][]Rule{o.Rules, n.Rules} {
		for i := range r {
			for _, g := range r[i].globs {
				if g.pat[:g.q] == qual && !seen[g.pat] {
					seen[g.pat] = true
					globs = append(globs, g)
				}
			}
		}
	}
	groups, err := witnesses(globs)
	if err != nil {
		return err
	}
	for i, g := range groups {
		groups[i] = g[len(qual):] // as the provider names it
	}
	// People of no atom, one atom, or two (at most one of them an email).
	type atom struct {
		group, email string
	}
	var atoms []atom
	for _, g := range groups {
		atoms = append(atoms, atom{group: g})
	}
	for _, e := range mails {
		atoms = append(atoms, atom{email: e})
	}
	kinds := map[[6]int]bool{}
	try := func(as ...atom) {
		var gs []string
		email := ""
		for _, a := range as {
			if a.email != "" {
				email = a.email
			} else {
				gs = append(gs, a.group)
			}
		}
		op, np := oldSet.Person(provider, gs, email), newSet.Person(provider, gs, email)
		for _, t := range at {
			od, nd := o.DecideAt(op, t), n.DecideAt(np, t)
			if sameOutcome(od, nd) {
				continue
			}
			key := [6]int{ruleIndex(od), ruleIndex(nd), boolInt(od.Allowed), boolInt(nd.Allowed), boolInt(od.Closed), boolInt(nd.Closed)}
			if kinds[key] {
				continue
			}
			kinds[key] = true
			shown := make([]string, len(gs))
			for i, g := range gs {
				shown[i] = qual + g
			}
			rc.People = append(rc.People, PersonChange{Provider: provider, Groups: NewPerson(shown, "").Groups(), Email: email, At: t, Old: od, New: nd})
		}
	}
	try()
	for i := range atoms {
		try(atoms[i])
	}
	for i := range atoms {
		for j := i + 1; j < len(atoms); j++ {
			if atoms[i].email != "" && atoms[j].email != "" {
				continue
			}
			try(atoms[i], atoms[j])
		}
	}
	return nil
}

// sameProviders reports whether two rule sets know the same providers,
// vouching for the same email domains: then a room that says the same
// decides the same in both.
func sameProviders(a, b *RuleSet) bool {
	return slices.EqualFunc(a.providers.list, b.providers.list, func(x, y Provider) bool {
		return x.ID == y.ID && slices.Equal(x.EmailDomains, y.EmailDomains)
	})
}

// sameDecisions reports whether o and n decide alike for everyone at every
// moment because they say the same: the same rules and hours, wherever in
// the file they stand. Most rooms of a change are untouched.
func sameDecisions(o, n *Room) bool {
	if !slices.EqualFunc(o.Rules, n.Rules, func(a, b Rule) bool {
		return slices.Equal(a.Groups, b.Groups) && slices.Equal(a.Emails, b.Emails) && a.Everyone == b.Everyone && slices.Equal(a.Providers, b.Providers) &&
			a.Role == b.Role && a.Deny == b.Deny && a.Early == b.Early && a.Until.Equal(b.Until) && a.Invite == b.Invite
	}) {
		return false
	}
	if o.Open == nil || n.Open == nil {
		return o.Open == nil && n.Open == nil
	}
	return o.Open.Zone.String() == n.Open.Zone.String() && slices.Equal(o.Open.Weekly, n.Open.Weekly) && slices.Equal(o.Open.Dates, n.Open.Dates)
}

func ruleIndex(d Decision) int {
	if d.Rule == nil {
		return -1
	}
	return d.Rule.Index
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// emailKinds returns one address of each kind the patterns tell apart:
// every exact address; someone else at each domain; someone at none of the
// domains; and an address that reads two ways (see normalEmail). No email
// at all is the person without an email atom.
func emailKinds(pats []emailPattern) []string {
	exact := map[string]bool{}
	domains := map[string]bool{}
	for _, e := range pats {
		if e.domain != "" {
			domains[e.domain] = true
		} else {
			exact[e.exact] = true
			domains[e.exact[strings.LastIndexByte(e.exact, '@')+1:]] = true
		}
	}
	var out []string
	for e := range exact {
		out = append(out, e)
	}
	other := func(domain string) string {
		for i := 0; ; i++ {
			e := fmt.Sprintf("someone%d@%s", i, domain)
			if i == 0 {
				e = "someone@" + domain
			}
			if !exact[e] {
				return e
			}
		}
	}
	for d := range domains {
		out = append(out, other(d))
	}
	elsewhere := "elsewhere.invalid"
	for i := 0; domains[elsewhere]; i++ {
		elsewhere = fmt.Sprintf("elsewhere%d.invalid", i)
	}
	out = append(out, other(elsewhere))
	slices.Sort(out)
	// Last, so that a kind of change is shown with a plain address when
	// one shows it.
	return append(out, "not@an@address."+elsewhere)
}

// errTooManyKinds says a room's patterns are too many to compare exactly.
var errTooManyKinds = errors.New("too many group patterns to compare every kind of person")

// witnesses returns one group name for each set of the given patterns that
// some single name matches (the empty set aside), each as short as can be:
// a breadth-first walk over the patterns' automata run side by side, on an
// alphabet of the characters the patterns name and one they do not.
func witnesses(globs []glob) ([]string, error) {
	if len(globs) == 0 {
		return nil, nil
	}
	toks := make([][]rune, len(globs))
	alphabet := map[rune]bool{}
	for i, g := range globs {
		toks[i] = []rune(g.pat)
		for _, r := range toks[i] {
			if r != '*' && r != '?' {
				alphabet[r] = true
			}
		}
	}
	other := 'x'
	for _, r := range "xzq#~0123456789" {
		if !alphabet[r] {
			other = r
			break
		}
	}
	alphabet[other] = true
	letters := make([]rune, 0, len(alphabet))
	for r := range alphabet {
		letters = append(letters, r)
	}
	slices.Sort(letters)

	// A state is, for each pattern, the set of token positions it may be
	// at; closed over '*' matching nothing.
	type state [][]bool
	closure := func(t []rune, set []bool) {
		for i := 0; i < len(t); i++ {
			if set[i] && t[i] == '*' {
				set[i+1] = true
			}
		}
	}
	keyOf := func(s state) string {
		var b strings.Builder
		for _, set := range s {
			for _, on := range set {
				if on {
					b.WriteByte('1')
				} else {
					b.WriteByte('0')
				}
			}
			b.WriteByte('|')
		}
		return b.String()
	}
	start := make(state, len(globs))
	for i, t := range toks {
		start[i] = make([]bool, len(t)+1)
		start[i][0] = true
		closure(t, start[i])
	}
	type item struct {
		s    state
		name string
	}
	// The start is the one state reached by the empty name, which is no
	// group; the same state reached by a real name counts apart.
	visited := map[string]bool{"start": true}
	queue := []item{{start, ""}}
	found := map[string]string{} // signature -> name
	var order []string
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		if it.name != "" {
			var sig strings.Builder
			any := false
			for i, t := range toks {
				if it.s[i][len(t)] {
					sig.WriteByte('1')
					any = true
				} else {
					sig.WriteByte('0')
				}
			}
			if k := sig.String(); any {
				if _, ok := found[k]; !ok {
					found[k] = it.name
					order = append(order, it.name)
				}
			}
		}
		for _, r := range letters {
			next := make(state, len(globs))
			alive := false
			for i, t := range toks {
				set := make([]bool, len(t)+1)
				for p, on := range it.s[i] {
					if !on || p == len(t) {
						continue
					}
					switch t[p] {
					case '*':
						set[p] = true
					case '?':
						set[p+1] = true
					default:
						if t[p] == r {
							set[p+1] = true
						}
					}
				}
				closure(t, set)
				next[i] = set
				alive = alive || slices.Contains(set, true)
			}
			if !alive {
				continue
			}
			k := keyOf(next)
			if visited[k] {
				continue
			}
			if len(visited) >= maxDiffStates {
				return nil, errTooManyKinds
			}
			visited[k] = true
			queue = append(queue, item{next, it.name + string(r)})
		}
	}
	return order, nil
}

// EmailClasses tells apart exactly the addresses that some rule of the
// given rule sets tells apart, so that people whose emails no rule
// distinguishes can be decided once for all of them.
type EmailClasses struct {
	exact, domains map[string]bool
}

// NewEmailClasses reads the email patterns of every rule of sets.
func NewEmailClasses(sets ...*RuleSet) *EmailClasses {
	c := &EmailClasses{exact: map[string]bool{}, domains: map[string]bool{}}
	for _, rs := range sets {
		for _, room := range rs.Rooms() {
			for i := range room.Rules {
				for _, e := range room.Rules[i].emails {
					if e.domain != "" {
						c.domains[e.domain] = true
					} else {
						c.exact[e.exact] = true
					}
				}
			}
		}
	}
	return c
}

// Of returns the class of email: two addresses of one class decide alike
// under every rule of the sets.
func (c *EmailClasses) Of(email string) string {
	if email == "" {
		return ""
	}
	norm, domain, ok := normalEmail(email)
	switch {
	case !ok:
		return "unreadable"
	case c.exact[norm]:
		return norm
	case c.domains[domain]:
		return "@" + domain
	}
	return "other"
}

// NamedPerson is someone of a directory: an id, and groups and email as
// the provider sends them.
type NamedPerson struct {
	ID       string
	Provider string // the id of the provider they sign in with; "" for the primary
	Groups   []string
	Email    string
}

// NamedRoom is, for one room, the named people whose outcome changes,
// grouped by change.
type NamedRoom struct {
	Path    string        `json:"path"`
	Changes []NamedChange `json:"changes"`
}

// NamedChange is one change of outcome and who it happens to.
type NamedChange struct {
	Change string   `json:"change"` // "attendee → deny"
	People []string `json:"people"` // their ids, in the order they came
}

// Named decides each of people in every room of c (changed, added and
// removed) under old and new, each read through its own set's person (the
// claims' reading of groups and email), and returns per room the people
// whose outcome changes, by change. People with the same groups and an
// email no rule tells apart decide alike, so each such kind is decided
// once.
func (c *Changes) Named(people iter.Seq[NamedPerson], old, new *RuleSet, oldPerson, newPerson func(provider string, groups []string, email string) *Person) []NamedRoom {
	type pair struct{ old, new *Room }
	var rooms []pair
	for _, rc := range c.Rooms {
		rooms = append(rooms, pair{rc.Old, rc.New})
	}
	for _, room := range c.Added {
		rooms = append(rooms, pair{nil, room})
	}
	for _, room := range c.Removed {
		rooms = append(rooms, pair{room, nil})
	}
	classes := NewEmailClasses(old, new)
	decide := func(room *Room, p *Person) Decision {
		if room == nil {
			return Decision{}
		}
		return room.Decide(p)
	}
	cache := map[string][]string{} // a person's kind -> their change per room ("" for none)
	counts := make([]map[string][]string, len(rooms))
	for i := range counts {
		counts[i] = map[string][]string{}
	}
	for np := range people {
		groups := slices.Clone(np.Groups)
		slices.Sort(groups)
		key := np.Provider + "\x02" + strings.Join(groups, "\x00") + "\x01" + classes.Of(np.Email)
		got, ok := cache[key]
		if !ok {
			po, pn := oldPerson(np.Provider, np.Groups, np.Email), newPerson(np.Provider, np.Groups, np.Email)
			got = make([]string, len(rooms))
			for i, rp := range rooms {
				od, nd := decide(rp.old, po), decide(rp.new, pn)
				if !sameOutcome(od, nd) {
					got[i] = Outcome(od) + " → " + Outcome(nd)
				}
			}
			cache[key] = got
		}
		for i, ch := range got {
			if ch != "" {
				counts[i][ch] = append(counts[i][ch], np.ID)
			}
		}
	}
	var out []NamedRoom
	for i, rp := range rooms {
		if len(counts[i]) == 0 {
			continue
		}
		nr := NamedRoom{}
		if rp.old != nil {
			nr.Path = rp.old.Path
		} else {
			nr.Path = rp.new.Path
		}
		for ch, ids := range counts[i] {
			nr.Changes = append(nr.Changes, NamedChange{Change: ch, People: ids})
		}
		slices.SortFunc(nr.Changes, func(a, b NamedChange) int { return strings.Compare(a.Change, b.Change) })
		out = append(out, nr)
	}
	return out
}
