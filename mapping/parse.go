package mapping

import (
	"iter"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/roomgate/roomgate/yamlnode"
)

// Options is what the rest of the configuration says about rooms.
type Options struct {
	// Now is the clock for what depends on the day (a rule whose until has
	// passed is a warning); nil means time.Now.
	Now      func() time.Time
	Roles    []string // digitalsamba.roles: the only roles a rule may name
	Reserved []string // first path segments the gateway serves itself (auth, healthz, ...); no room path may equal one, whatever its letter case
	// Admin is the file's admin: section, who may open the helpdesk
	// console; nil when it has none. Its groups and emails are read as a
	// rule's, and its group patterns count among the rule set's.
	Admin *yaml.Node
	// Providers are the identity providers, the primary first; empty
	// means one, the primary (the file's oidc:). See providers.go.
	Providers []Provider
}

// Parse reads and validates the rooms section of file, a YAML sequence node
// (nil or null means no rooms). On problems it returns a nil RuleSet and a
// Problems error listing every problem in the section, each with its line
// and field path.
func Parse(file string, rooms *yaml.Node, opts Options) (*RuleSet, error) {
	p := newParser(file, opts)
	if rooms != nil && rooms.Kind == yaml.DocumentNode && len(rooms.Content) == 1 {
		rooms = rooms.Content[0]
	}
	var items []*yaml.Node
	if !yamlnode.IsNull(yamlnode.Resolve(rooms)) {
		items = p.items(rooms, atRooms)
	}
	return p.ruleSet(slices.All(items), len(items))
}

func newParser(file string, opts Options) *parser {
	p := &parser{
		file:      file,
		roles:     opts.Roles,
		reserved:  opts.Reserved,
		admin:     opts.Admin,
		paths:     make(map[string]firstPath),
		now:       time.Now(),
		providers: newProviderSet(opts.Providers),
	}
	if opts.Now != nil {
		p.now = opts.Now()
	}
	p.r = &yamlnode.Reader{Report: p.report}
	return p
}

// ruleSet reads the rooms in items, of which there are about n.
func (p *parser) ruleSet(items iter.Seq2[int, *yaml.Node], n int) (*RuleSet, error) {
	rs := &RuleSet{rooms: make([]*Room, 0, n), providers: p.providers}
	for i, n := range items {
		if room := p.room(n, atRooms.roomAt(i)); room != nil {
			rs.rooms = append(rs.rooms, room)
		}
	}
	if p.admin != nil {
		rs.admin = p.adminSection(p.admin)
	}
	if len(p.problems) > 0 {
		p.problems.Sort()
		return nil, p.problems
	}
	rs.warnings = p.warnings
	rs.byPath = make(map[string]*Room, len(rs.rooms))
	for _, room := range rs.rooms {
		rs.byPath[room.Path] = room
		room.compile()
	}
	return rs, nil
}

// parser holds what reading one rooms section needs across rooms.
type parser struct {
	r         *yamlnode.Reader // reports into problems
	problems  Problems
	file      string
	roles     []string
	reserved  []string
	admin     *yaml.Node
	paths     map[string]firstPath // lower-cased room path → the room that took it first
	now       time.Time
	providers providerSet
	zone      *time.Location // of the room being read: its hours' zone, or UTC
	warnings  Problems

	// Where the rules' lists are cut from: a file of 200,000 rules would
	// otherwise make four small allocations a rule.
	strs  slab[string]
	globs slab[glob]
	pats  slab[emailPattern]
}

// slab hands out short slices cut from long ones.
type slab[T any] struct{ free []T }

// take returns an empty slice with room for n elements and no more, so
// that appending past them cannot reach its neighbour's.
func (s *slab[T]) take(n int) []T {
	if cap(s.free)-len(s.free) < n {
		s.free = make([]T, 0, max(n, 1024))
	}
	start := len(s.free)
	s.free = s.free[:start+n]
	return s.free[start : start : start+n]
}

// firstPath is where a room path was first used.
type firstPath struct {
	path string // as written
	room int    // index in rooms
	pos  Pos
}

func (p *parser) report(line int, path, msg string) {
	p.problems = append(p.problems, Problem{File: p.file, Line: line, Path: path, Msg: msg})
}

func (p *parser) pos(n *yaml.Node) Pos { return Pos{File: p.file, Line: n.Line} }

var roomKeys = []string{"path", "room", "title", "open", "allow_public", "rules", "guests", "providers"}

// room reads one room. It returns nil when the node is not a room at all.
func (p *parser) room(n *yaml.Node, a at) *Room {
	if yamlnode.IsNull(yamlnode.Resolve(n)) {
		p.problemf(n, a, "empty; a room needs path, room and rules")
		return nil
	}
	var f [8]*yaml.Node
	if !p.fields(n, a, roomKeys, f[:]) {
		return nil
	}
	path, dsRoom, title, open, allowPublic, rules, guests, providers := f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7]
	room := &Room{Pos: p.pos(n)}
	room.Path = p.roomPath(n, path, a)
	room.Room = p.dsRoom(n, dsRoom, a.field("room"))
	room.Title = room.Path
	if title != nil {
		if s, ok := p.text(title, a.field("title")); ok {
			if s == "" {
				p.problemf(title, a.field("title"), "empty; leave title out to show the path")
			}
			room.Title = s
		}
	}
	if allowPublic != nil {
		room.AllowPublic = p.flag(allowPublic, a.field("allow_public"), "leave allow_public out: rooms are private unless it says true")
	}
	p.zone = time.UTC
	if open != nil {
		room.Open = p.hours(open, a.field("open"))
		p.zone = room.Open.Zone
	}
	if providers != nil {
		room.Providers = p.roomProviders(providers, a.field("providers"))
	}
	room.Rules = p.rules(n, rules, a)
	if guests != nil {
		room.Guests = p.guests(guests, a)
	}
	for i, r := range room.Rules {
		if r.Invite && room.Guests == nil {
			p.report(r.Pos.Line, a.ruleAt(i).field("invite").String(), "the room has no guests: section, so no one can be invited to it; add guests: {role: ...} to the room, or remove invite")
		}
	}
	if room.Open == nil {
		for i := range room.Rules {
			if r := &room.Rules[i]; r.Early > 0 {
				p.warnings = append(p.warnings, Problem{File: p.file, Line: r.Pos.Line, Path: a.ruleAt(i).field("early").String(),
					Msg: "early has no effect: the room has no open: hours, so it is open all the time; remove early, or give the room hours"})
			}
		}
	}
	return room
}

// AdminKeys are the keys of the admin: section; mapping reads the
// matchers, the caller the rest.
var AdminKeys = []string{"groups", "emails", "reauth"}

// adminSection reads who may open the helpdesk console.
func (p *parser) adminSection(n *yaml.Node) *Rule {
	a := at{top: "admin", room: -1, rule: -1, item: -1}
	var f [3]*yaml.Node
	rule := &Rule{Pos: p.pos(n)}
	if !p.fields(n, a, AdminKeys, f[:]) {
		return rule
	}
	if f[0] != nil {
		p.groups(f[0], a.field("groups"), rule)
	}
	if f[1] != nil {
		p.emails(f[1], a.field("emails"), rule)
	}
	if f[0] == nil && f[1] == nil {
		p.problemf(n, a, "has no matcher, so no one could open the console: add groups (the helpdesk's) or emails")
	}
	return rule
}

var guestKeys = []string{"role", "max_valid"}

// guests reads a room's guests section; a is the room's place.
func (p *parser) guests(n *yaml.Node, a at) *Guests {
	g := &Guests{MaxValid: DefaultMaxValid, Pos: p.pos(n)}
	var f [2]*yaml.Node
	if !p.fields(n, a.field("guests"), guestKeys, f[:]) {
		return g
	}
	role, maxValid := f[0], f[1]
	if role == nil {
		p.problemf(n, a.field("guests.role"), "missing; name the role every guest gets, one of the team's roles (known: %s)", known(p.roles))
	} else {
		g.Role = p.role(role, a.field("guests.role"))
	}
	if maxValid != nil {
		g.MaxValid = p.r.Duration(maxValid, a.field("guests.max_valid").String(), DefaultMaxValid)
		if g.MaxValid <= 0 || g.MaxValid > LongestMaxValid {
			p.problemf(maxValid, a.field("guests.max_valid"), "want a duration above 0 and at most 720h (30 days), such as 72h, found %q", maxValid.Value)
		}
	}
	return g
}

// validPath is one URL path segment that needs no escaping and cannot be
// mistaken for . or .., a file name or a query.
var validPath = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func (p *parser) roomPath(room, n *yaml.Node, roomAt at) string {
	a := roomAt.field("path")
	if n == nil {
		p.problemf(room, a, "missing; every room needs one, such as path: standup (the room is then at /standup)")
		return ""
	}
	s, ok := p.text(n, a)
	switch {
	case !ok:
		return ""
	case s == "":
		p.problemf(n, a, "empty; every room needs one, such as path: standup (the room is then at /standup)")
		return ""
	case !validPath.MatchString(s):
		p.problemf(n, a, "%q is not a valid path: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", s)
		return s
	}
	for _, r := range p.reserved {
		if strings.EqualFold(s, r) {
			p.problemf(n, a, "%q is one of roomgate's own routes; choose another path (taken: %s)", s, strings.Join(p.reserved, ", "))
			return s
		}
	}
	key := strings.ToLower(s)
	first, dup := p.paths[key]
	switch {
	case !dup:
		p.paths[key] = firstPath{path: s, room: roomAt.room, pos: p.pos(n)}
	case first.path == s:
		p.problemf(n, a, "%q is already the path of %s (%s); each room needs its own", s, atRooms.roomAt(first.room), first.pos)
	default:
		p.problemf(n, a, "%q differs from %q, the path of %s (%s), only in letter case; people type links by hand, so paths must differ in more than case", s, first.path, atRooms.roomAt(first.room), first.pos)
	}
	return s
}

// validRoom is what a Digital Samba friendly URL or room UUID can be: one
// path segment of URL-safe characters (RFC 3986 unreserved), since it goes
// into the room URL as it is.
var validRoom = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)

func (p *parser) dsRoom(room, n *yaml.Node, a at) string {
	const want = "every room needs the Digital Samba room it opens, by friendly URL or UUID, such as room: daily-standup"
	if n == nil {
		p.problemf(room, a, "missing; %s", want)
		return ""
	}
	s, ok := p.text(n, a)
	switch {
	case !ok:
	case s == "":
		p.problemf(n, a, "empty; %s", want)
	case !validRoom.MatchString(s) || s == "." || s == "..":
		p.problemf(n, a, "%q cannot be a Digital Samba room: give its friendly URL or UUID (letters, digits, '-', '_', '.' and '~' only)", s)
	}
	return s
}

// rules reads a room's rules and reports those that can never fire.
func (p *parser) rules(room, n *yaml.Node, roomAt at) []Rule {
	const want = "a room needs at least one rule, such as - groups: [engineering] with role: attendee"
	a := roomAt.field("rules")
	if n == nil {
		p.problemf(room, a, "missing; %s", want)
		return nil
	}
	items := p.items(n, a)
	if len(items) == 0 {
		if r := yamlnode.Resolve(n); yamlnode.IsNull(r) || r.Kind == yaml.SequenceNode {
			p.problemf(n, a, "empty; %s", want)
		}
		return nil
	}
	rules := make([]Rule, len(items))
	checkable := make([]bool, len(items))
	for j, item := range items {
		rules[j], checkable[j] = p.rule(item, roomAt.ruleAt(j), j)
	}
	p.shadows(roomAt, rules, checkable)
	return rules
}

// known formats a list of names for a message.
func known(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
