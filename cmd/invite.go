package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/roomgate/roomgate/gateway"
	"github.com/roomgate/roomgate/internal/store"
	"github.com/roomgate/roomgate/mapping"
)

// invite manages guest invitations from the command line, for admins:
// create prints a link, list shows them, revoke ends one. It works on the
// store the gateways use, so it needs one that outlives a process.
func invite(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list" && args[0] != "revoke") {
		fmt.Fprintln(env.Stderr, `usage: roomgate invite create -room PATH -name "Jane Roe (ACME)" [-valid 24h] [-browsers 1] [-config F]
       roomgate invite list [-room PATH] [-config F]
       roomgate invite revoke [-config F] ID`)
		return exitProblem
	}
	sub, args := args[0], args[1:]
	fs := newFlags("invite "+sub, env)
	path := fs.String("config", "config.yaml", "configuration `file`")
	roomPath := fs.String("room", "", "the room's `path`")
	name := fs.String("name", "", "the guest's `name`, as the room shows it (followed by \" (guest)\")")
	valid := fs.Duration("valid", 0, "how long the link works (default: the room's guests.max_valid, at most 24h)")
	browsers := fs.Int("browsers", 1, "how many browsers may enter with it")
	if fs.Parse(args) != nil {
		return exitProblem
	}
	cfg, st, ok := sharedStore("invite", *path, env)
	if !ok {
		return exitProblem
	}
	defer st.Close()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	switch sub {
	case "create":
		room, ok := cfg.Rules.Lookup(*roomPath)
		switch {
		case !ok:
			fmt.Fprintf(env.Stderr, "roomgate invite create: -room %q: no room has that path\n", *roomPath)
			return exitProblem
		case room.Guests == nil:
			fmt.Fprintf(env.Stderr, "roomgate invite create: room %s has no guests: section, so it takes no guests\n", room.Path)
			return exitProblem
		}
		return inviteCreate(cctx, env, st, cfg.Server.PublicURL.String(), room, *name, *valid, *browsers)
	case "list":
		return inviteList(cctx, env, st, *roomPath)
	default:
		if fs.NArg() != 1 {
			fmt.Fprintln(env.Stderr, "roomgate invite revoke: give the invitation's id (roomgate invite list shows them)")
			return exitProblem
		}
		inv, err := st.RevokeInvitation(cctx, fs.Arg(0), "roomgate invite", time.Now())
		if errors.Is(err, store.ErrNoInvitation) {
			fmt.Fprintf(env.Stderr, "roomgate invite revoke: no open invitation has the id %q\n", fs.Arg(0))
			return exitProblem
		}
		if err != nil {
			fmt.Fprintln(env.Stderr, "roomgate invite revoke: the store did not take it, so nothing was revoked:", err)
			return exitProblem
		}
		auditLine(env, "revoked", inv)
		fmt.Fprintf(env.Stdout, "revoked invitation %s (%s, room %s): its guest cannot enter again\n", inv.ID, inv.Guest, inv.Room)
		return exitOK
	}
}

func inviteCreate(ctx context.Context, env Env, st store.Store, publicURL string, room *mapping.Room, name string, valid time.Duration, browsers int) int {
	guest := gateway.GuestName(name)
	if valid == 0 {
		valid = min(room.Guests.MaxValid, mapping.DefaultMaxValid)
	}
	switch {
	case guest == "":
		fmt.Fprintln(env.Stderr, `roomgate invite create: -name is required: the guest's name, such as -name "Jane Roe (ACME)"`)
		return exitProblem
	case valid < 0 || valid > room.Guests.MaxValid:
		fmt.Fprintf(env.Stderr, "roomgate invite create: -valid %v: want at most the room's guests.max_valid, %v\n", valid, room.Guests.MaxValid)
		return exitProblem
	case browsers < 1 || browsers > gateway.MaxBrowsers:
		fmt.Fprintf(env.Stderr, "roomgate invite create: -browsers %d: want 1 to %d\n", browsers, gateway.MaxBrowsers)
		return exitProblem
	}
	inv, token := gateway.NewInvitation(room.Path, guest, store.Inviter{Name: "roomgate invite"}, time.Now(), valid, browsers)
	if err := st.CreateInvitation(ctx, inv); err != nil {
		fmt.Fprintln(env.Stderr, "roomgate invite create: the store did not take it, so there is no invitation:", err)
		return exitProblem
	}
	auditLine(env, "created", inv)
	fmt.Fprintf(env.Stderr, "invitation %s for %s to %s, until %s, for %d browser(s). The link is shown this once; send it to the guest alone:\n",
		inv.ID, inv.Guest, room.Path, inv.Expires.Format(time.RFC3339), inv.Browsers)
	fmt.Fprintln(env.Stdout, gateway.GuestLink(publicURL, token))
	return exitOK
}

func inviteList(ctx context.Context, env Env, st store.Store, room string) int {
	invs, err := st.Invitations(ctx, room)
	if err != nil {
		fmt.Fprintln(env.Stderr, "roomgate invite list:", err)
		return exitProblem
	}
	now := time.Now()
	fmt.Fprintf(env.Stdout, "%-12s  %-16s  %-24s  %-24s  %-20s  %s\n", "ID", "ROOM", "GUEST", "INVITED BY", "UNTIL", "STATE")
	for _, inv := range invs {
		state := fmt.Sprintf("used by %d of %d", len(inv.Used), inv.Browsers)
		switch {
		case !inv.Revoked.IsZero():
			state = "revoked by " + inv.RevokedBy
		case !inv.Open(now):
			state = "expired"
		case len(inv.Used) == 0:
			state = "unused"
		}
		by := inv.Inviter.Name
		if inv.Inviter.UserID != "" {
			by = inv.Inviter.UserID
		}
		fmt.Fprintf(env.Stdout, "%-12s  %-16s  %-24.24s  %-24.24s  %-20s  %s\n", inv.ID, inv.Room, inv.Guest, by, inv.Expires.Format(time.RFC3339), state)
	}
	return exitOK
}

// auditLine writes the invitation's audit line, as the gateways write
// theirs; never the link.
func auditLine(env Env, action string, inv store.Invitation) {
	line, _ := json.Marshal(map[string]any{"time": time.Now().UTC().Format(time.RFC3339Nano), "level": "INFO", "msg": "invitation", "audit": true,
		"by": "roomgate invite", "action": action, "invitation": inv.ID, "room_path": inv.Room, "inviter": inv.Inviter.UserID})
	fmt.Fprintln(env.Stderr, string(line))
}
