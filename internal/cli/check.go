package cli

import (
	"fmt"

	"github.com/roomgate/roomgate/gateway"
)

// check validates the configuration file and prints every problem.
func check(args []string, env Env) int {
	fs := newFlags("check", env)
	path := fs.String("config", "config.yaml", "configuration `file`")
	if fs.Parse(args) != nil {
		return exitProblem
	}
	cfg, ok := loadConfig(*path, env)
	if !ok {
		return exitProblem
	}
	rules := 0
	for _, r := range cfg.Rules.Rooms() {
		rules += len(r.Rules)
	}
	fmt.Fprintf(env.Stdout, "%s: valid (%d rooms, %d rules)\n", *path, len(cfg.Rules.Rooms()), rules)
	for _, w := range cfg.Warnings {
		fmt.Fprintln(env.Stdout, "warning:", w.Error())
	}
	for _, w := range gateway.ProviderWarnings(cfg) {
		fmt.Fprintln(env.Stdout, "warning:", w)
	}
	return exitOK
}
