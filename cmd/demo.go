package cmd

import (
	"context"
	"fmt"

	demopkg "github.com/roomgate/roomgate/demo"
)

// demo runs roomgate with a built-in provider and room stand-in: the same
// gateway as serve, with nothing outside the process.
func demo(ctx context.Context, args []string, env Env) int {
	fs := newFlags("demo", env)
	listen := fs.String("listen", "127.0.0.1:8080", "`address` to listen on")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if fs.Parse(args) != nil {
		return exitProblem
	}
	logger, err := newLogger(env, *level)
	if err != nil {
		fmt.Fprintln(env.Stderr, "roomgate:", err)
		return exitProblem
	}
	if err := demopkg.Run(ctx, *listen, logger, env.Stdout); err != nil {
		fmt.Fprintln(env.Stderr, "roomgate:", err)
		return exitProblem
	}
	return exitOK
}
