package cmd

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/mapping"
)

// exitChanged is diff's status when some decision changes.
const exitChanged = 3

// diff shows who gains or loses what between two configuration files: per
// room, each kind of person whose outcome changes, as a concrete person
// with the deciding rule on each side; rooms added and removed; and with
// -people, the named people who change. It needs only the rules.
func diff(args []string, env Env) int {
	fs := newFlags("diff", env)
	peopleFile := fs.String("people", "", "a `file` of JSON lines {\"id\", \"groups\", \"email\"}, such as a directory export")
	format := fs.String("format", "text", "output: text or json")
	if fs.Parse(args) != nil {
		return exitProblem
	}
	if fs.NArg() != 2 {
		fmt.Fprintln(env.Stderr, "usage: roomgate diff [-people FILE] [-format text|json] OLD NEW")
		return exitProblem
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(env.Stderr, "roomgate diff: -format: want text or json, found %q\n", *format)
		return exitProblem
	}
	oldCfg, ok := loadRules(fs.Arg(0), env)
	if !ok {
		return exitProblem
	}
	newCfg, ok := loadRules(fs.Arg(1), env)
	if !ok {
		return exitProblem
	}
	c, err := mapping.Diff(oldCfg.Rules, newCfg.Rules)
	if err != nil {
		fmt.Fprintln(env.Stderr, "roomgate diff:", err)
		return exitProblem
	}
	var named []mapping.NamedRoom
	if *peopleFile != "" {
		f, err := os.Open(*peopleFile)
		if err != nil {
			fmt.Fprintln(env.Stderr, "roomgate diff:", err)
			return exitProblem
		}
		named, err = namedChanges(f, oldCfg, newCfg, c)
		f.Close()
		if err != nil {
			fmt.Fprintf(env.Stderr, "roomgate diff: %s: %v\n", *peopleFile, err)
			return exitProblem
		}
	}
	if *format == "json" {
		writeDiffJSON(env.Stdout, c, named)
	} else {
		writeDiffText(env.Stdout, c, named)
	}
	if c.None() {
		return exitOK
	}
	return exitChanged
}

// change names an outcome change: "attendee → deny".
func change(old, new mapping.Decision) string {
	return mapping.Outcome(old) + " → " + mapping.Outcome(new)
}

func ruleText(d mapping.Decision) string {
	if d.Rule == nil {
		return "no rule covers them"
	}
	return d.Reason()
}

func personText(rc mapping.RoomChange, pc mapping.PersonChange) string {
	s := "groups [" + strings.Join(pc.Groups, ", ") + "]"
	if pc.Provider != "" {
		s = "provider " + pc.Provider + ", " + s
	}
	if pc.Email != "" {
		s += ", email " + fmt.Sprintf("%q", pc.Email)
	} else {
		s += ", no email"
	}
	if m := momentText(rc, pc); m != "" {
		s += ", at " + m
	}
	return s
}

// momentText is the change's moment on the room's clock, as explain -at
// takes it; "" when the moment does not matter.
func momentText(rc mapping.RoomChange, pc mapping.PersonChange) string {
	if pc.At.IsZero() {
		return ""
	}
	return pc.At.In(rc.Zone()).Format(time.RFC3339)
}

func writeDiffText(w io.Writer, c *mapping.Changes, named []mapping.NamedRoom) {
	if c.None() {
		fmt.Fprintln(w, "no decision changes")
		return
	}
	for _, rc := range c.Rooms {
		fmt.Fprintf(w, "room %s (%s, now %s)\n", rc.Old.Path, rc.Old.Pos, rc.New.Pos)
		if rc.Old.Room != rc.New.Room {
			fmt.Fprintf(w, "  Digital Samba room %q → %q: everyone it admits enters another room\n", rc.Old.Room, rc.New.Room)
		}
		for _, pc := range rc.People {
			fmt.Fprintf(w, "  %s: %s\n", change(pc.Old, pc.New), personText(rc, pc))
			fmt.Fprintf(w, "      before: %s\n", ruleText(pc.Old))
			fmt.Fprintf(w, "      after:  %s\n", ruleText(pc.New))
		}
	}
	for _, r := range c.Added {
		fmt.Fprintf(w, "room %s added (%s)\n", r.Path, r.Pos)
	}
	for _, r := range c.Removed {
		fmt.Fprintf(w, "room %s removed (was %s)\n", r.Path, r.Pos)
	}
	for _, nr := range named {
		fmt.Fprintf(w, "\npeople in room %s:\n", nr.Path)
		for _, ch := range nr.Changes {
			shown := ch.People
			more := ""
			if len(shown) > 20 {
				shown, more = shown[:20], fmt.Sprintf(" and %d more", len(ch.People)-20)
			}
			fmt.Fprintf(w, "  %s: %d (%s%s)\n", ch.Change, len(ch.People), strings.Join(shown, ", "), more)
		}
	}
	n := len(c.Rooms) + len(c.Added) + len(c.Removed)
	fmt.Fprintf(w, "\n%d room%s change\n", n, plural(n))
}

// diffJSON is diff's -format json: one object.
type diffJSON struct {
	Changed bool                `json:"changed"`
	Rooms   []diffRoomJSON      `json:"rooms"`
	Added   []roomRefJSON       `json:"added"`
	Removed []roomRefJSON       `json:"removed"`
	People  []mapping.NamedRoom `json:"people,omitempty"`
}

type roomRefJSON struct {
	Path string `json:"path"`
	At   string `json:"at"`
}

type diffRoomJSON struct {
	Path    string           `json:"path"`
	OldAt   string           `json:"old_at"`
	NewAt   string           `json:"new_at"`
	OldRoom string           `json:"old_room"`
	NewRoom string           `json:"new_room"`
	Changes []diffChangeJSON `json:"changes"`
}

type diffChangeJSON struct {
	From     string       `json:"from"` // a role or deny
	To       string       `json:"to"`
	Provider string       `json:"provider,omitempty"` // absent for the primary's people
	Groups   []string     `json:"groups"`
	Email    string       `json:"email,omitempty"`
	Moment   string       `json:"moment,omitempty"` // RFC 3339 on the room's clock, for explain -at; absent when the moment does not matter
	Old      decisionJSON `json:"old"`
	New      decisionJSON `json:"new"`
}

type decisionJSON struct {
	Rule   string `json:"rule,omitempty"` // rules[2]
	At     string `json:"at,omitempty"`   // its file:line
	Reason string `json:"reason"`
}

func decisionOf(d mapping.Decision) decisionJSON {
	j := decisionJSON{Reason: ruleText(d)}
	if d.Rule != nil {
		j.Rule = fmt.Sprintf("rules[%d]", d.Rule.Index)
		j.At = d.Rule.Pos.String()
	}
	return j
}

func writeDiffJSON(w io.Writer, c *mapping.Changes, named []mapping.NamedRoom) {
	out := diffJSON{Changed: !c.None(), Rooms: []diffRoomJSON{}, Added: []roomRefJSON{}, Removed: []roomRefJSON{}, People: named}
	for _, rc := range c.Rooms {
		r := diffRoomJSON{Path: rc.Old.Path, OldAt: rc.Old.Pos.String(), NewAt: rc.New.Pos.String(), OldRoom: rc.Old.Room, NewRoom: rc.New.Room, Changes: []diffChangeJSON{}}
		for _, pc := range rc.People {
			groups := pc.Groups
			if groups == nil {
				groups = []string{}
			}
			r.Changes = append(r.Changes, diffChangeJSON{From: mapping.Outcome(pc.Old), To: mapping.Outcome(pc.New),
				Provider: pc.Provider, Groups: groups, Email: pc.Email, Moment: momentText(rc, pc), Old: decisionOf(pc.Old), New: decisionOf(pc.New)})
		}
		out.Rooms = append(out.Rooms, r)
	}
	for _, r := range c.Added {
		out.Added = append(out.Added, roomRefJSON{Path: r.Path, At: r.Pos.String()})
	}
	for _, r := range c.Removed {
		out.Removed = append(out.Removed, roomRefJSON{Path: r.Path, At: r.Pos.String()})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(out)
}

// directoryPerson is one line of a -people file.
type directoryPerson struct {
	ID       string   `json:"id"`
	Provider string   `json:"provider"` // the provider's id; the primary when left out
	Groups   []string `json:"groups"`
	Email    string   `json:"email"`
}

// namedChanges reads r (JSON lines of directoryPerson) and counts, per
// room that changes, the people whose outcome changes (mapping.Named),
// each read under each file's claims.
func namedChanges(r io.Reader, oldCfg, newCfg *config.Config, c *mapping.Changes) ([]mapping.NamedRoom, error) {
	var readErr error
	people := func(yield func(mapping.NamedPerson) bool) {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		line := 0
		for sc.Scan() {
			line++
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			var dp directoryPerson
			if err := json.Unmarshal(sc.Bytes(), &dp); err != nil {
				readErr = fmt.Errorf("line %d: %v", line, err)
				return
			}
			if dp.ID == "" {
				readErr = fmt.Errorf("line %d: no id", line)
				return
			}
			if !yield(mapping.NamedPerson{ID: dp.ID, Provider: dp.Provider, Groups: dp.Groups, Email: dp.Email}) {
				return
			}
		}
		readErr = sc.Err()
	}
	named := c.Named(people, oldCfg.Rules, newCfg.Rules, oldCfg.Person, newCfg.Person)
	return named, readErr
}
