// Package team holds the rule file against the real Digital Samba team:
// Check reports what the team's rooms and roles make wrong in the file
// (check -remote), and Plan and Apply bring the team in line with the file
// (sync), never deleting anything.
package team

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/dsapi"
	"github.com/roomgate/roomgate/mapping"
)

// API is what Check, Plan and Apply need of Digital Samba's API;
// *dsapi.Client has it.
type API interface {
	Rooms(ctx context.Context) ([]dsapi.Room, error)
	Roles(ctx context.Context) ([]dsapi.Role, error)
	CreateRoom(ctx context.Context, r dsapi.NewRoom) (*dsapi.Room, error)
	UpdateRoom(ctx context.Context, room string, ch dsapi.RoomChange) (*dsapi.Room, error)
}

// Client builds the API client for cfg's team.
func Client(cfg *config.Config) *dsapi.Client {
	return &dsapi.Client{BaseURL: cfg.DigitalSamba.APIURL.String(), TeamID: cfg.DigitalSamba.TeamID, Key: cfg.DigitalSamba.DeveloperKey}
}

// State is what the team has: its rooms by id and by friendly URL, and its
// roles by name.
type State struct {
	rooms map[string]*dsapi.Room
	roles map[string]dsapi.Role
}

// Read reads the team's rooms and roles.
func Read(ctx context.Context, api API) (*State, error) {
	rooms, err := api.Rooms(ctx)
	if err != nil {
		return nil, err
	}
	roles, err := api.Roles(ctx)
	if err != nil {
		return nil, err
	}
	st := &State{rooms: map[string]*dsapi.Room{}, roles: map[string]dsapi.Role{}}
	for i := range rooms {
		r := &rooms[i]
		if r.ID == "" && r.FriendlyURL == "" {
			return nil, fmt.Errorf("team: the API listed a room with neither id nor friendly_url")
		}
		st.rooms[r.ID] = r
		st.rooms[r.FriendlyURL] = r
	}
	for _, r := range roles {
		st.roles[r.Name] = r
	}
	return st, nil
}

// room is the team's room that a file's room: names, by id or friendly URL.
func (st *State) room(ref string) *dsapi.Room { return st.rooms[ref] }

// given returns the roles the rules of room give, in the order of roles
// (digitalsamba.roles).
func given(room *mapping.Room, roles []string) []string {
	var out []string
	for _, name := range roles {
		if slices.ContainsFunc(room.Rules, func(r mapping.Rule) bool { return !r.Deny && r.Role == name }) {
			out = append(out, name)
		}
	}
	return out
}

// Check reports, as problems, what makes the file wrong for the team: a
// room the team does not have, a public room the file does not allow, a
// role a rule gives that the room does not allow, a role of
// digitalsamba.roles the team lacks; and, as warnings, what will likely
// trouble a meeting: no rule gives a role that may start the session,
// nobody may let people in from a locked room's lobby, or a role that may
// rename itself is given, so the name the token sets is not the last word;
// guests get a role that may start the session, or rename itself.
// Each is at its room's file:line.
func Check(cfg *config.Config, st *State) (problems, warnings mapping.Problems) {
	at := func(room *mapping.Room, rule string) mapping.Problem {
		return mapping.Problem{File: room.Pos.File, Line: room.Pos.Line, Path: rule}
	}
	for _, name := range cfg.DigitalSamba.Roles {
		if _, ok := st.roles[name]; !ok {
			problems = append(problems, mapping.Problem{File: cfg.DigitalSamba.RolesAt.File, Line: cfg.DigitalSamba.RolesAt.Line, Path: "digitalsamba.roles",
				Msg: fmt.Sprintf("the team has no role %q (it has: %s); create it in the dashboard (Roles & permissions) or remove it here", name, strings.Join(st.roleNames(), ", "))})
		}
	}
	for i, room := range cfg.Rules.Rooms() {
		path := fmt.Sprintf("rooms[%d]", i)
		ds := st.room(room.Room)
		if ds == nil {
			p := at(room, path+".room")
			p.Msg = fmt.Sprintf("the team has no room %q (by friendly URL or id); %s", room.Room, missingRoom(room.Room))
			problems = append(problems, p)
			continue
		}
		if ds.Privacy == "public" && !room.AllowPublic {
			p := at(room, path)
			p.Msg = fmt.Sprintf("the Digital Samba room %q is public: anyone with its link enters as %s without roomgate; make it private (roomgate sync does), or say allow_public: true", room.Room, roleName(ds.DefaultRole))
			problems = append(problems, p)
		}
		allowed := ds.RoleNames()
		var starts, admits bool
		for j, rule := range room.Rules {
			if rule.Deny {
				continue
			}
			rp := fmt.Sprintf("%s.rules[%d].role", path, j)
			if !slices.Contains(allowed, rule.Role) {
				p := mapping.Problem{File: rule.Pos.File, Line: rule.Pos.Line, Path: rp,
					Msg: fmt.Sprintf("the room %q does not allow the role %q (it allows: %s); add it to the room (roomgate sync does) or give another", room.Room, rule.Role, strings.Join(allowed, ", "))}
				problems = append(problems, p)
			}
			perms := st.roles[rule.Role].Permissions
			starts = starts || perms["start_session"]
			admits = admits || perms["control_room_entry"]
			if perms["self_rename"] {
				warnings = append(warnings, mapping.Problem{File: rule.Pos.File, Line: rule.Pos.Line, Path: rp,
					Msg: fmt.Sprintf("the role %q may rename itself (self_rename), so the name roomgate puts in the token is not the last word", rule.Role)})
			}
		}
		if !starts {
			p := at(room, path)
			p.Msg = "no rule gives a role that may start the session (start_session): everyone will wait in an empty room"
			warnings = append(warnings, p)
		}
		if g := room.Guests; g != nil {
			gp := mapping.Problem{File: g.Pos.File, Line: g.Pos.Line, Path: path + ".guests.role"}
			perms := st.roles[g.Role].Permissions
			switch {
			case !slices.Contains(allowed, g.Role):
				gp.Msg = fmt.Sprintf("the room %q does not allow the guests' role %q (it allows: %s); add it to the room (roomgate sync does) or give another", room.Room, g.Role, strings.Join(allowed, ", "))
				problems = append(problems, gp)
			case perms["start_session"]:
				gp.Msg = fmt.Sprintf("the guests' role %q may start the session (start_session): a guest could open the room before any employee has arrived; give guests a role without it", g.Role)
				warnings = append(warnings, gp)
			}
			if perms["self_rename"] {
				gp.Msg = fmt.Sprintf("the guests' role %q may rename itself (self_rename): a guest could drop \" (guest)\" from their name", g.Role)
				warnings = append(warnings, gp)
			}
		}
		if ds.IsLocked && !admits {
			p := at(room, path)
			p.Msg = "the room is locked, and no rule gives a role that may let people in from the lobby (control_room_entry)"
			warnings = append(warnings, p)
		}
	}
	return problems, warnings
}

func (st *State) roleNames() []string {
	var names []string
	for n := range st.roles {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func roleName(r *dsapi.RoleRef) string {
	if r == nil {
		return "its default role"
	}
	return r.Name
}
