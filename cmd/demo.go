package cmd

import (
	"context"
	"fmt"

	demopkg "github.com/roomgate/roomgate/demo"
	"github.com/roomgate/roomgate/mapping"
)

// demo runs roomgate with a built-in provider and room stand-in: the same
// gateway as serve, with nothing outside the process.
func demo(ctx context.Context, args []string, env Env) int {
	fs := newFlags("demo", env)
	listen := fs.String("listen", "127.0.0.1:8080", "`address` to listen on")
	file := fs.String("config", "", "serve this `file` instead of the built-in demo/config.yaml, and reload it when it changes (a copy of demo/config.yaml to edit)")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if fs.Parse(args) != nil {
		return exitProblem
	}
	logger, err := newLogger(env, *level)
	if err != nil {
		fmt.Fprintln(env.Stderr, "roomgate:", err)
		return exitProblem
	}
	if err := demopkg.Run(ctx, *listen, *file, logger, env.Stdout); err != nil {
		if ps := mapping.AsProblems(err); ps != nil {
			for _, p := range ps {
				fmt.Fprintln(env.Stderr, p.Error())
			}
			fmt.Fprintf(env.Stderr, "%s: %d problem%s\n", *file, len(ps), plural(len(ps)))
			return exitProblem
		}
		fmt.Fprintln(env.Stderr, "roomgate:", err)
		return exitProblem
	}
	return exitOK
}
