package cli

import (
	"fmt"
	"strings"

	"github.com/roomgate/roomgate/mapping"
)

// explain shows the decision for a person described on the command line,
// every rule tried on the way, and the rule (file:line) that decided.
func explain(args []string, env Env) int {
	fs := newFlags("explain", env)
	path := fs.String("config", "config.yaml", "configuration `file`")
	roomPath := fs.String("room", "", "room `path`, e.g. standup")
	groups := fs.String("groups", "", "the person's groups, comma-separated")
	email := fs.String("email", "", "the person's email")
	if fs.Parse(args) != nil {
		return exitProblem
	}
	if *roomPath == "" {
		fmt.Fprintln(env.Stderr, "roomgate explain: -room is required")
		return exitProblem
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "roomgate explain: unexpected argument %q\n", fs.Arg(0))
		return exitProblem
	}
	cfg, ok := loadConfig(*path, env)
	if !ok {
		return exitProblem
	}
	room, ok := cfg.Rules.Lookup(strings.TrimPrefix(*roomPath, "/"))
	if !ok {
		var known []string
		for _, r := range cfg.Rules.Rooms() {
			known = append(known, r.Path)
		}
		fmt.Fprintf(env.Stderr, "roomgate explain: no room %q in %s (known: %s)\n", *roomPath, *path, strings.Join(known, ", "))
		return exitProblem
	}
	var gs []string
	for _, g := range strings.Split(*groups, ",") {
		if g = strings.TrimSpace(g); g != "" {
			gs = append(gs, g)
		}
	}
	d, steps := room.Explain(mapping.NewPerson(gs, *email))

	w := env.Stdout
	fmt.Fprintf(w, "room %s (Digital Samba room %q) at %s\n", room.Path, room.Room, room.Pos)
	fmt.Fprintf(w, "person: groups [%s], email %q\n\n", strings.Join(gs, ", "), *email)
	for _, st := range steps {
		mark := "  "
		if st.Covered {
			mark = "=>"
		}
		fmt.Fprintf(w, "%s %s: %s\n", mark, st.Rule, st.Why)
	}
	fmt.Fprintln(w)
	if d.Allowed {
		fmt.Fprintf(w, "allowed as %s: %s\n", d.Role, d.Reason())
		return exitOK
	}
	fmt.Fprintf(w, "denied: %s\n", d.Reason())
	return exitDenied
}
