package cli

import (
	"context"
	"fmt"
)

// demo runs roomgate with a built-in provider and room stand-in.
func demo(ctx context.Context, args []string, env Env) int {
	fs := newFlags("demo", env)
	listen := fs.String("listen", "127.0.0.1:8080", "`address` to listen on")
	if fs.Parse(args) != nil {
		return exitProblem
	}
	fmt.Fprintln(env.Stderr, "roomgate demo: not built yet", *listen)
	return exitProblem
}
