package cmd

import (
	"context"
	"fmt"

	"github.com/roomgate/roomgate/internal/team"
)

// exitPending is sync's status while a plan waits to be applied.
const exitPending = 2

// syncTeam shows the plan that makes the Digital Samba team match the
// file, and with -apply carries it out, saying what it did. It never
// deletes a room or removes a role.
func syncTeam(ctx context.Context, args []string, env Env) int {
	fs := newFlags("sync", env)
	path := fs.String("config", "config.yaml", "configuration `file`")
	apply := fs.Bool("apply", false, "carry the plan out")
	if fs.Parse(args) != nil {
		return exitProblem
	}
	cfg, ok := loadConfig(*path, env)
	if !ok {
		return exitProblem
	}
	ctx, cancel := context.WithTimeout(ctx, remoteDeadline)
	defer cancel()
	api := team.Client(cfg)
	st, err := team.Read(ctx, api)
	if err != nil {
		fmt.Fprintln(env.Stderr, "roomgate sync: cannot read the Digital Samba team:", err)
		return exitProblem
	}
	plan := team.MakePlan(cfg, st)
	if len(plan.Steps) == 0 && len(plan.Problems) == 0 {
		fmt.Fprintln(env.Stdout, "the team matches the file: nothing to do")
		return exitOK
	}
	fmt.Fprintf(env.Stdout, "plan (%d change%s):\n", len(plan.Steps), plural(len(plan.Steps)))
	plan.Write(env.Stdout)
	if !*apply {
		if len(plan.Problems) > 0 {
			return exitProblem
		}
		fmt.Fprintln(env.Stdout, "\nnothing changed; run again with -apply to carry this out")
		return exitPending
	}
	done, err := team.Apply(ctx, api, plan)
	for _, s := range done {
		fmt.Fprintf(env.Stdout, "done: %s %s\n", s.Kind, s.Room)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "roomgate sync: stopped at %v\n", err)
		for _, s := range plan.Steps[len(done):] {
			fmt.Fprintf(env.Stderr, "not done: %s %s\n", s.Kind, s.Room)
		}
		fmt.Fprintln(env.Stderr, "run roomgate sync again: it plans only what is still missing")
		return exitProblem
	}
	if len(plan.Problems) > 0 {
		return exitProblem
	}
	return exitOK
}
