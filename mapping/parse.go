package mapping

import (
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/roomgate/roomgate/internal/yamlnode"
)

// Options is what the rest of the configuration says about rooms.
type Options struct {
	Roles    []string // digitalsamba.roles: the only roles a rule may name
	Reserved []string // first path segments the gateway serves itself (auth, healthz, ...); no room path may equal one, whatever its letter case
}

// Parse reads and validates the rooms section of file, a YAML sequence node
// (nil or null means no rooms). On problems it returns a nil RuleSet and a
// yamlnode.Problems error listing every problem in the section, each with
// its line and field path.
func Parse(file string, rooms *yaml.Node, opts Options) (*RuleSet, error) {
	p := &parser{
		r:        &yamlnode.Reader{File: file},
		file:     file,
		roles:    opts.Roles,
		reserved: opts.Reserved,
		paths:    make(map[string]firstPath),
	}
	if rooms != nil && rooms.Kind == yaml.DocumentNode && len(rooms.Content) == 1 {
		rooms = rooms.Content[0]
	}
	rs := &RuleSet{byPath: make(map[string]*Room)}
	for i, n := range p.r.Items(rooms, "rooms") {
		if room := p.room(n, yamlnode.Index("rooms", i)); room != nil {
			rs.rooms = append(rs.rooms, room)
		}
	}
	if err := p.r.Err(); err != nil {
		return nil, err
	}
	for _, room := range rs.rooms {
		rs.byPath[room.Path] = room
		room.compile()
		for i := range room.Rules {
			for _, g := range room.Rules[i].globs {
				rs.index.add(g)
			}
		}
	}
	return rs, nil
}

// parser holds what reading one rooms section needs across rooms.
type parser struct {
	r        *yamlnode.Reader
	file     string
	roles    []string
	reserved []string
	paths    map[string]firstPath // lower-cased room path → the room that took it first
}

// firstPath is where a room path was first used.
type firstPath struct {
	path  string // as written
	field string // rooms[0]
	pos   Pos
}

func (p *parser) pos(n *yaml.Node) Pos { return Pos{File: p.file, Line: n.Line} }

// room reads one room. It returns nil when the node is not a room at all.
func (p *parser) room(n *yaml.Node, field string) *Room {
	if isNull(resolve(n)) {
		p.r.Problemf(n, field, "empty; a room needs path, room and rules")
		return nil
	}
	if resolve(n).Kind != yaml.MappingNode {
		p.r.Fields(n, field) // reports what was found instead
		return nil
	}
	f := p.r.Fields(n, field, "path", "room", "title", "rules")
	room := &Room{Pos: p.pos(n)}
	room.Path = p.roomPath(n, f["path"], yamlnode.Join(field, "path"), field)
	room.Room = p.dsRoom(n, f["room"], yamlnode.Join(field, "room"))
	room.Title = room.Path
	if t, ok := f["title"]; ok {
		if s, ok := p.text(t, yamlnode.Join(field, "title")); ok {
			if s == "" {
				p.r.Problemf(t, yamlnode.Join(field, "title"), "empty; leave title out to show the path")
			}
			room.Title = s
		}
	}
	room.Rules = p.rules(n, f["rules"], yamlnode.Join(field, "rules"))
	return room
}

// validPath is one URL path segment that needs no escaping and cannot be
// mistaken for . or .., a file name or a query.
var validPath = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func (p *parser) roomPath(room, n *yaml.Node, field, roomField string) string {
	if n == nil {
		p.r.Problemf(room, field, "missing; every room needs one, such as path: standup (the room is then at /standup)")
		return ""
	}
	s, ok := p.text(n, field)
	switch {
	case !ok:
		return ""
	case s == "":
		p.r.Problemf(n, field, "empty; every room needs one, such as path: standup (the room is then at /standup)")
		return ""
	case !validPath.MatchString(s):
		p.r.Problemf(n, field, "%q is not a valid path: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", s)
		return s
	}
	for _, r := range p.reserved {
		if strings.EqualFold(s, r) {
			p.r.Problemf(n, field, "%q is one of roomgate's own routes; choose another path (taken: %s)", s, strings.Join(p.reserved, ", "))
			return s
		}
	}
	key := strings.ToLower(s)
	first, dup := p.paths[key]
	switch {
	case !dup:
		p.paths[key] = firstPath{path: s, field: roomField, pos: p.pos(n)}
	case first.path == s:
		p.r.Problemf(n, field, "%q is already the path of %s (%s); each room needs its own", s, first.field, first.pos)
	default:
		p.r.Problemf(n, field, "%q differs from %q, the path of %s (%s), only in letter case; people type links by hand, so paths must differ in more than case", s, first.path, first.field, first.pos)
	}
	return s
}

// validRoom is what a Digital Samba friendly URL or room UUID can be: one
// path segment of URL-safe characters (RFC 3986 unreserved), since it goes
// into the room URL as it is.
var validRoom = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)

func (p *parser) dsRoom(room, n *yaml.Node, field string) string {
	const want = "every room needs the Digital Samba room it opens, by friendly URL or UUID, such as room: daily-standup"
	if n == nil {
		p.r.Problemf(room, field, "missing; %s", want)
		return ""
	}
	s, ok := p.text(n, field)
	switch {
	case !ok:
	case s == "":
		p.r.Problemf(n, field, "empty; %s", want)
	case !validRoom.MatchString(s) || s == "." || s == "..":
		p.r.Problemf(n, field, "%q cannot be a Digital Samba room: give its friendly URL or UUID (letters, digits, '-', '_', '.' and '~' only)", s)
	}
	return s
}

// rules reads a room's rules and reports those that can never fire.
func (p *parser) rules(room, n *yaml.Node, field string) []Rule {
	const want = "a room needs at least one rule, such as - groups: [engineering] with role: attendee"
	if n == nil {
		p.r.Problemf(room, field, "missing; %s", want)
		return nil
	}
	items := p.r.Items(n, field)
	if len(items) == 0 {
		if r := resolve(n); isNull(r) || r.Kind == yaml.SequenceNode {
			p.r.Problemf(n, field, "empty; %s", want)
		}
		return nil
	}
	rules := make([]Rule, len(items))
	checkable := make([]bool, len(items))
	for i, item := range items {
		rules[i], checkable[i] = p.rule(item, yamlnode.Index(field, i), i)
	}
	p.shadows(field, rules, checkable)
	return rules
}

// text reads a scalar as text; ok is false, with the problem reported, when
// n is a list or a mapping. A null reads as "".
func (p *parser) text(n *yaml.Node, field string) (s string, ok bool) {
	r := resolve(n)
	if isNull(r) {
		return "", true
	}
	if r.Kind != yaml.ScalarNode {
		p.r.String(n, field)
		return "", false
	}
	return r.Value, true
}

// flag reads a switch that only means something when true. ok is false, with
// the problem reported, for anything but true.
func (p *parser) flag(n *yaml.Node, field, falseMeans string) (ok bool) {
	r := resolve(n)
	if isNull(r) {
		p.r.Problemf(n, field, "no value; write true or leave it out")
		return false
	}
	var b bool
	if r.Kind != yaml.ScalarNode || r.Decode(&b) != nil {
		p.r.Bool(n, field) // reports what was found instead
		return false
	}
	if !b {
		p.r.Problemf(n, field, "false means nothing here: %s", falseMeans)
	}
	return b
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// known formats a list of names for a message.
func known(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
