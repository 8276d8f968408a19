package cmd

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// healthcheck asks a running gateway whether it is alive, for a container's
// HEALTHCHECK (the distroless image has no curl or shell): exit 0 when
// the URL answers 200 within two seconds, 1 otherwise.
func healthcheck(ctx context.Context, args []string, env Env) int {
	fs := newFlags("healthcheck", env)
	url := fs.String("url", "http://127.0.0.1:8080/healthz", "the `URL` to ask: /healthz (alive) or /readyz (ready)")
	if fs.Parse(args) != nil {
		return exitProblem
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		fmt.Fprintln(env.Stderr, "roomgate healthcheck:", err)
		return exitProblem
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(env.Stderr, "roomgate healthcheck:", err)
		return exitProblem
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(env.Stderr, "roomgate healthcheck: %s answered %s: %s", *url, resp.Status, body)
		return exitProblem
	}
	fmt.Fprintf(env.Stdout, "%s", body)
	return exitOK
}
