package team

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/dsapi"
)

// ExternalID marks the rooms sync creates as roomgate's.
const ExternalID = "roomgate"

// Step is one change of a plan.
type Step struct {
	Kind   string // "create", "add roles", "make private"
	Room   string // the room's friendly URL or id, as the file names it
	At     string // the file's room, file:line
	Create *dsapi.NewRoom
	Change *dsapi.RoomChange
	Why    string // in words, for the plan's listing
}

// Plan is what makes the team match the file: as data, so that it can be
// shown, tested and then carried out.
type Plan struct {
	Steps    []Step
	Problems []string // what sync cannot do (a room named by an id the team lacks)
}

// MakePlan compares the file with the team: rooms to create (private, with
// the roles the rules give and the least privileged of them as default),
// roles to add to existing rooms, public rooms to make private (unless
// allow_public). It never plans to delete or to remove a role.
func MakePlan(cfg *config.Config, st *State) *Plan {
	p := &Plan{}
	seen := map[string]bool{}
	for _, room := range cfg.Rules.Rooms() {
		if seen[room.Room] {
			continue // two paths to one room: one plan
		}
		seen[room.Room] = true
		roles := given(room, cfg.DigitalSamba.Roles)
		ds := st.room(room.Room)
		if ds == nil {
			if !creatable(room.Room) {
				p.Problems = append(p.Problems, fmt.Sprintf("%s: room %q is not in the team; %s", room.Pos, room.Room, missingRoom(room.Room)))
				continue
			}
			if len(roles) == 0 {
				p.Problems = append(p.Problems, fmt.Sprintf("%s: room %q is not in the team, and its rules give no role to create it with", room.Pos, room.Room))
				continue
			}
			p.Steps = append(p.Steps, Step{Kind: "create", Room: room.Room, At: room.Pos.String(),
				Create: &dsapi.NewRoom{FriendlyURL: room.Room, Privacy: "private", Roles: roles, DefaultRole: leastPrivileged(roles, st),
					PrivateGroupChatRoles: []string{}, ExternalID: ExternalID},
				Why: fmt.Sprintf("private, roles %s, default %s", strings.Join(roles, ", "), leastPrivileged(roles, st))})
			continue
		}
		have := ds.RoleNames()
		var missing []string
		for _, r := range roles {
			if !slices.Contains(have, r) {
				missing = append(missing, r)
			}
		}
		if len(missing) > 0 {
			p.Steps = append(p.Steps, Step{Kind: "add roles", Room: room.Room, At: room.Pos.String(),
				Change: &dsapi.RoomChange{Roles: append(slices.Clone(have), missing...)},
				Why:    "add " + strings.Join(missing, ", ") + " to " + strings.Join(have, ", ")})
		}
		if ds.Privacy == "public" && !room.AllowPublic {
			private := "private"
			p.Steps = append(p.Steps, Step{Kind: "make private", Room: room.Room, At: room.Pos.String(),
				Change: &dsapi.RoomChange{Privacy: &private}, Why: "public: anyone with its link enters without roomgate"})
		}
	}
	return p
}

// leastPrivileged is the role of roles with the fewest permissions; on a
// tie, the later in digitalsamba.roles (lists run from most to least).
func leastPrivileged(roles []string, st *State) string {
	best, fewest := "", -1
	for _, r := range roles {
		n := 0
		for _, on := range st.roles[r].Permissions {
			if on {
				n++
			}
		}
		if fewest < 0 || n <= fewest {
			best, fewest = r, n
		}
	}
	return best
}

// missingRoom says, the same way for check -remote and sync, what to do
// about a room the team does not have.
func missingRoom(room string) string {
	if creatable(room) {
		return "roomgate sync creates it (or fix room:)"
	}
	return "sync cannot create it: a room it creates is named by a friendly URL of 3 to 32 letters, digits or '-', and this is not one (an id names a room that must exist). Create the room in Digital Samba and name it in room: by its friendly URL or id"
}

func creatable(s string) bool {
	if len(s) < 3 || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Write prints the plan, one step a line.
func (p *Plan) Write(w io.Writer) {
	for _, s := range p.Steps {
		fmt.Fprintf(w, "  %-12s %s (%s): %s\n", s.Kind, s.Room, s.At, s.Why)
	}
	for _, pr := range p.Problems {
		fmt.Fprintf(w, "  cannot: %s\n", pr)
	}
}

// Apply carries the plan out in order and returns the steps done. On an
// error it stops: the steps before were done, the failing one and those
// after were not, and running sync again plans only what is still
// missing.
func Apply(ctx context.Context, api API, p *Plan) (done []Step, err error) {
	for _, s := range p.Steps {
		switch {
		case s.Create != nil:
			_, err = api.CreateRoom(ctx, *s.Create)
		case s.Change != nil:
			_, err = api.UpdateRoom(ctx, s.Room, *s.Change)
		}
		if err != nil {
			return done, fmt.Errorf("%s %s: %w", s.Kind, s.Room, err)
		}
		done = append(done, s)
	}
	return done, nil
}
